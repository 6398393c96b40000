"""Adapts face analysis to what sessions keep of a reference image: rectangle, quality, stored embedding."""

from __future__ import annotations

from openliveness.domain import ReferenceFace
from openliveness.vision import FaceAnalyzer, ImageLimits, embedding_to_bytes

__all__ = ["ReferenceFaceReader"]


class ReferenceFaceReader:
    """Callable as the service's `ReferenceAnalyzer`: finds the one face, raising Azure's InvalidImage errors."""

    def __init__(self, analyzer: FaceAnalyzer, limits: ImageLimits) -> None:
        self._analyzer = analyzer
        self._limits = limits

    def __call__(self, data: bytes) -> ReferenceFace:
        face = self._analyzer.analyze_reference(data, limits=self._limits)
        box = face.face_rectangle
        return ReferenceFace(
            face_rectangle={"top": box.top, "left": box.left, "width": box.width, "height": box.height},
            quality_for_recognition=face.quality.value,
            embedding=embedding_to_bytes(face.embedding),
        )
