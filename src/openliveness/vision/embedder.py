"""Alignment (dlib's CC0 5-point shape predictor) and the 128-d dlib ResNet face embedding."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from .types import EMBEDDING_SIZE, DetectedFace, Embedding, RGBImage

__all__ = ["ALIGNED_FACE_SIZE", "AlignedFace", "Embedder"]

#: dlib's ResNet takes 150x150 chips cut with 25 % padding, exactly as `dlib.get_face_chip` makes them.
ALIGNED_FACE_SIZE = 150
_CHIP_PADDING = 0.25


@dataclass(frozen=True, slots=True)
class AlignedFace:
    """A face rotated upright and scaled to ``ALIGNED_FACE_SIZE`` square (RGB uint8), ready for the ResNet."""

    chip: RGBImage


class Embedder:
    """Aligns a detected face and computes its 128-d embedding.

    The embedding is dlib's raw descriptor (not re-normalised; its norm is close to but not exactly 1), so
    Euclidean distances keep dlib's meaning: 0.6 is the operating point dlib reports 99.38 % LFW accuracy at.
    Thread-safe: dlib's network object keeps per-call state in its layers, so calls to it are serialised by
    a lock; the shape predictor and chip extraction are read-only and run outside it.
    """

    def __init__(self, shape_predictor: Any, recognition_model: Any) -> None:
        self._shape_predictor = shape_predictor
        self._model = recognition_model
        self._lock = threading.Lock()

    @classmethod
    def load(cls) -> Embedder:
        import dlib

        from .models import dlib_model_paths

        paths = dlib_model_paths()
        return cls(
            dlib.shape_predictor(str(paths.shape_predictor_5)),
            dlib.face_recognition_model_v1(str(paths.face_recognition_resnet)),
        )

    def align(self, image: RGBImage, face: DetectedFace) -> AlignedFace:
        """Cut the face out of `image`.

        The 5-point predictor turns RetinaFace's box into dlib's own points (eye corners, nose base): the
        geometry `get_face_chip` and the ResNet were trained with.
        """
        import dlib

        image = np.ascontiguousarray(image, dtype=np.uint8)
        b = face.box
        rect = dlib.rectangle(b.left, b.top, b.left + b.width - 1, b.top + b.height - 1)
        shape = self._shape_predictor(image, rect)
        chip = dlib.get_face_chip(image, shape, size=ALIGNED_FACE_SIZE, padding=_CHIP_PADDING)
        return AlignedFace(chip=np.ascontiguousarray(chip, dtype=np.uint8))

    def embed_aligned(self, aligned: AlignedFace) -> Embedding:
        with self._lock:
            vector = self._model.compute_face_descriptor(aligned.chip)
        out = np.asarray(vector, dtype=np.float32).reshape(-1)
        if out.shape != (EMBEDDING_SIZE,):
            raise RuntimeError(f"dlib returned an embedding of shape {out.shape}")
        return out

    def embed(self, image: RGBImage, face: DetectedFace) -> Embedding:
        """Align `face` in `image` and return its embedding (``float32``, shape ``(128,)``)."""
        return self.embed_aligned(self.align(image, face))
