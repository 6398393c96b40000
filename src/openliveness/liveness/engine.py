"""The liveness engine: tracks the face, measures the screen light and the motion, and fuses the signals."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace
from typing import TypeVar, TypeVarTuple, Unpack

import cv2
import numpy as np
import numpy.typing as npt

from openliveness.domain import LivenessDecision, LivenessOperationMode
from openliveness.vision import FaceAnalyzer, FaceBox, embedding_distance

from .config import EngineConfig
from .fusion import fuse
from .gates import quality_gates
from .regions import measure_regions
from .signals import SignalResult, Verdict, flash_reflection, flash_shape, flash_timing, integrity, parallax
from .signals.flash_reflection import face_grid, grid_frames
from .signals.flash_timing import light_window_end_ms
from .signals.parallax import reference_frame, tracked_parallax, yaw_of
from .tracking import FaceTrack, Keyframe, registered, track_faces
from .types import Capture, CaptureFrame, Challenge, LivenessResult

__all__ = ["LivenessEngine"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


@dataclass(frozen=True, slots=True)
class _Best:
    index: int
    rectangle: dict[str, int]


class LivenessEngine:
    """Implements `LivenessEvaluator`. Holds no per-call state, so one instance serves concurrent threads.
    `parts`: threads for a call's keyframe detections (the detector releases the GIL) and its parallax, beside the
    light's signals; without, one call runs on its caller's thread alone."""

    def __init__(
        self, analyzer: FaceAnalyzer, config: EngineConfig | None = None, *, parts: Executor | None = None
    ) -> None:
        self.analyzer = analyzer
        self.config = config or EngineConfig()
        self.parts = parts
        # The keyframe-only parallax reads the nose off the motion keyframes' landmarks: they must be precise then.
        tracking = self.config.tracking
        self._tracking = tracking if self.config.parallax.track else replace(tracking, motion_detect_side=None)

    def evaluate(self, challenge: Challenge, capture: Capture) -> LivenessResult:
        return self.evaluate_detailed(challenge, capture)[0]

    def evaluate_detailed(
        self, challenge: Challenge, capture: Capture
    ) -> tuple[LivenessResult, dict[str, SignalResult]]:
        """`evaluate`, plus every signal's result with its measures (for tuning and diagnosis)."""
        cfg = self.config
        frames = capture.frames
        signals: dict[str, SignalResult] = {}
        if not frames:
            signals["integrity"] = integrity(challenge, frames, cfg.integrity, cfg.flash)
            return LivenessResult(LivenessDecision.UNCERTAIN, {"integrity": 0.0}, ("too_few_frames",)), signals
        # Integrity is checked beside the detector, not before it: a tampered capture's keyframes are detected for
        # nothing, but an honest one does not wait for the check.
        checked = self._beside(integrity, challenge, frames, cfg.integrity, cfg.flash)
        active = challenge.mode is LivenessOperationMode.PASSIVE_ACTIVE
        reference = reference_frame(frames, challenge, cfg.parallax) if active and cfg.parallax.track else None
        track = track_faces(self.analyzer, frames, challenge, self._tracking, precise=reference, parts=self.parts)
        signals["integrity"] = checked.result()
        if signals["integrity"].verdict is Verdict.FAIL:
            # Tampering decides before any signal is read.
            return self._result(challenge, signals, None), signals
        motion_job: Future[SignalResult] | None = None
        if track.detected and active:
            # Parallax needs only the track: it runs beside the light's signals, on the other core when free.
            motion = [
                k
                for k in track.keyframes
                if k.full_resolution and frames[k.index].timestamp_ms >= challenge.flash_end_ms
            ]
            motion_job = self._beside(_parallax, frames, track.landmarks, motion, reference, challenge, cfg)
        track = registered(track, frames, challenge, cfg.tracking, parts=self.parts)
        # The faces' grid for flash reflection needs only the track: resampled beside the regions.
        grid = self._beside(face_grid, frames, track.landmarks, grid_frames(challenge, frames, cfg.flash))
        series = measure_regions(frames, track.landmarks, until_ms=light_window_end_ms(challenge, cfg.flash))
        signals["quality"] = quality_gates(challenge, frames, track, series, cfg.quality)
        best = _best_frame(challenge, frames, track)
        if not track.detected:
            return self._result(challenge, signals, best), signals

        timing = flash_timing(challenge, series, cfg.flash)
        signals["flash_timing"] = timing.result
        signals["flash_shape"] = flash_shape(challenge, series, timing.offset_ms, cfg.flash)
        signals["flash_reflection"] = flash_reflection(
            challenge, frames, track.landmarks, timing.offset_ms, cfg.flash, grid=grid.result()
        )
        if motion_job is not None:
            signals["parallax"] = motion_job.result()
        if cfg.integrity.check_identity:
            signals["identity"] = self._identity(frames, track)
        return self._result(challenge, signals, best), signals

    def _beside(self, fn: Callable[[Unpack[Ts]], T], *args: *Ts) -> Future[T]:
        """`fn(*args)` on `parts` while the caller goes on; run at once, here, without `parts`."""
        if self.parts is not None:
            return self.parts.submit(fn, *args)
        done: Future[T] = Future()
        done.set_result(fn(*args))
        return done

    def _result(self, challenge: Challenge, signals: dict[str, SignalResult], best: _Best | None) -> LivenessResult:
        fused = fuse(signals, challenge.mode, self.config.fusion)
        decision, reasons = fused.decision, fused.reasons
        identity = signals.get("identity")
        if identity is not None and identity.verdict is Verdict.FAIL and decision is LivenessDecision.REAL_FACE:
            decision, reasons = LivenessDecision.SPOOF_FACE, identity.reasons
        return LivenessResult(
            decision=decision,
            scores={name: round(sig.score, 4) for name, sig in signals.items()},
            reasons=reasons,
            face_rectangle=None if best is None else best.rectangle,
            best_frame_index=None if best is None else best.index,
        )

    def _identity(self, frames: tuple[CaptureFrame, ...], track: FaceTrack) -> SignalResult:
        """Same person at both ends of the capture (two embeddings, about 120 ms: off by default)."""
        detected = track.detected
        if len(detected) < 2:
            return SignalResult("identity", Verdict.INCONCLUSIVE, 0.0, ("identity_unchecked",))
        ends = (detected[0], detected[-1])
        embeddings = []
        for k in ends:
            probe = self.analyzer.analyze_probe(frames[k.index].image, k.face)
            if probe is None:
                return SignalResult("identity", Verdict.INCONCLUSIVE, 0.0, ("identity_unchecked",))
            embeddings.append(probe.embedding)
        distance = embedding_distance(embeddings[0], embeddings[1])
        measures = {"distance": float(distance)}
        if distance > self.config.integrity.identity_max_distance:
            return SignalResult("identity", Verdict.FAIL, 0.0, ("identity_changed",), measures)
        return SignalResult("identity", Verdict.PASS, 1.0, (), measures)


def _parallax(
    frames: tuple[CaptureFrame, ...],
    landmarks: npt.NDArray[np.float64],
    motion: list[Keyframe],
    ref: int | None,
    challenge: Challenge,
    cfg: EngineConfig,
) -> SignalResult:
    """Tracked parallax from the reference frame `ref` (`parallax.tracked_parallax`); the keyframe-only estimate
    when tracking is off or there is no reference."""
    if ref is None or not np.all(np.isfinite(landmarks[ref])):
        return parallax(motion, challenge.motion, cfg.parallax)
    images = [f.image for f in frames[ref:]]
    times = [f.timestamp_ms for f in frames[ref:]]
    return tracked_parallax(images, landmarks[ref], challenge.motion, cfg.parallax, times_ms=times)


def _best_frame(challenge: Challenge, frames: tuple[CaptureFrame, ...], track: FaceTrack) -> _Best | None:
    """The sharpest frontal keyframe lit by the white screen (a colour-tinted session image would mislead); a
    tinted one only when no keyframe was white-lit."""
    faced = [(k.index, k.face) for k in track.detected if k.face is not None]

    def white(index: int) -> bool:
        t = frames[index].timestamp_ms
        return challenge.step_at(t) is None and not (challenge.flash_start_ms <= t < challenge.flash_end_ms + 150)

    candidates = [(i, face) for i, face in faced if white(i)] or faced
    scored: list[tuple[float, int, FaceBox]] = []
    for index, face in candidates:
        box = face.box
        crop = frames[index].image[box.top : box.top + box.height, box.left : box.left + box.width]
        if crop.shape[0] < 3 or crop.shape[1] < 3:
            continue
        sharpness = float(cv2.Laplacian(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), cv2.CV_32F).var())
        frontal = max(0.0, 1.0 - 2.0 * abs(yaw_of(face.landmarks.as_array())))
        scored.append((sharpness * frontal, index, box))
    if not scored:
        return None
    _, index, box = max(scored, key=lambda c: c[0])
    return _Best(index, {"top": box.top, "left": box.left, "width": box.width, "height": box.height})
