"""Optional recording of detect calls as capture bundles (docs/evaluation.md), for operators who measure their
own error rates: off by default, bounded in count, removed with their session."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from openliveness.evaluation.bundle import Bundle, FrameMeta, Label, write_bundle
from openliveness.liveness import Challenge

__all__ = ["CaptureRecorder"]


class CaptureRecorder:
    """Writes one zip bundle per detect call under `<root>/<session id>/`. The truth is unknown to the server,
    so bundles are labelled `other` with the engine's decision noted: relabel them before evaluating."""

    def __init__(self, root: Path, *, max_bundles: int) -> None:
        self._root = root
        self._max = max_bundles

    def record(
        self,
        session_id: str,
        attempt_id: str,
        challenge: Challenge,
        frames: Sequence[tuple[bytes, float, int | None]],
        decision: str,
    ) -> Path:
        bundle = Bundle(
            name=attempt_id,
            challenge=challenge,
            label=Label(
                label="other",
                source=f"recorded by the server (unlabelled); engine decision: {decision}",
                conditions={"sessionId": session_id, "attemptId": attempt_id},
            ),
            frames=tuple(FrameMeta(timestamp_ms=t, step_index=s) for _, t, s in frames),
            jpegs=tuple(data for data, _, _ in frames),
        )
        path = write_bundle(bundle, self._root / _safe(session_id) / f"{_safe(attempt_id)}.zip")
        self._enforce_retention()
        return path

    def forget(self, session_id: str) -> None:
        """Remove every recording of a session (its DELETE takes them along)."""
        shutil.rmtree(self._root / _safe(session_id), ignore_errors=True)

    def purge_older_than(self, cutoff: datetime) -> int:
        """Remove bundles written before `cutoff` (their sessions have expired); how many were removed."""
        old = [p for p in self._root.glob("*/*.zip") if _mtime(p) < cutoff.timestamp()]
        self._remove(old)
        return len(old)

    def _enforce_retention(self) -> None:
        bundles = sorted(self._root.glob("*/*.zip"), key=_mtime)
        self._remove(bundles[: max(0, len(bundles) - self._max)])

    def _remove(self, bundles: Sequence[Path]) -> None:
        for bundle in bundles:
            bundle.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                bundle.parent.rmdir()  # only succeeds once the session's folder is empty


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # removed meanwhile by another process's retention
        return float("inf")


def _safe(name: str) -> str:
    # Ids are server-made UUIDs; refuse anything that could step out of the recordings folder all the same.
    if not name or any(c in name for c in "/\\") or name in {".", ".."}:
        raise ValueError(f"unsafe recording name: {name!r}")
    return name
