"""Runs every bundle of a dataset through the liveness engine in-process, on all cores (a process pool whose
workers load the models once), with a progress bar on stderr."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .bundle import BundleError, BundleLimits, read_bundle
from .metrics import Outcome

__all__ = ["BundleResult", "ProgressBar", "combined_score", "evaluate_bundle", "run_dataset"]


@dataclass(frozen=True, slots=True)
class BundleResult:
    """The engine's verdict on one bundle; `error` is set (and `decision` empty) when the bundle was unreadable."""

    name: str
    path: str
    label: str
    decision: str
    score: float | None
    scores: dict[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    source: str = ""
    seconds: float = 0.0
    error: str = ""

    def outcome(self) -> Outcome:
        return Outcome(label=self.label, decision=self.decision, score=self.score)


def combined_score(scores: dict[str, float]) -> float | None:
    """One number per presentation for DET curves and histograms: the weakest signal's score (the engine needs
    every required signal to pass, so the weakest one is what stands between an attack and acceptance)."""
    return min(scores.values()) if scores else None


_engine: Any = None


def _init_worker(threads: int) -> None:
    global _engine
    import cv2

    from openliveness.liveness import LivenessEngine
    from openliveness.vision import AnalyzerConfig, FaceAnalyzer

    cv2.setNumThreads(threads)
    _engine = LivenessEngine(FaceAnalyzer.load(AnalyzerConfig(intra_op_threads=threads)))


def evaluate_bundle(path: Path, limits: BundleLimits | None = None) -> BundleResult:
    """Read, decode and evaluate one bundle with this process's engine (loaded on first use)."""
    if _engine is None:
        _init_worker(1)
    start = time.perf_counter()
    label = ""
    try:
        bundle = read_bundle(path, limits)
        label = bundle.label.label
        result = _engine.evaluate(bundle.challenge, bundle.to_capture())
    except BundleError as exc:
        return BundleResult(name=path.name, path=str(path), label=label, decision="", score=None, error=str(exc))
    except Exception as exc:  # one capture that breaks the engine must not abort a run of thousands; it is reported
        error = f"{path}: engine failed: {type(exc).__name__}: {exc}"
        return BundleResult(name=path.name, path=str(path), label=label, decision="", score=None, error=error)
    scores = {k: float(v) for k, v in result.scores.items()}
    return BundleResult(
        name=bundle.name,
        path=str(path),
        label=label,
        decision=str(result.decision.value),
        score=combined_score(scores),
        scores=scores,
        reasons=tuple(result.reasons),
        source=bundle.label.source,
        seconds=time.perf_counter() - start,
    )


class ProgressBar:
    """`[#####.....] 512/1000  41.2/s  ETA 12 s` on one stderr line (plain lines when stderr is not a terminal)."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.width = width
        self.done = 0
        self.start = time.perf_counter()
        self.tty = self.stream.isatty()
        self._last_line = -1.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if not self.tty and self.done < self.total and now - self._last_line < 5.0:
            return
        self._last_line = now
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate else 0.0
        filled = int(self.width * self.done / self.total) if self.total else self.width
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}  {rate:.1f}/s  ETA {eta:.0f} s"
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        if self.tty and self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def run_dataset(
    paths: Sequence[Path],
    *,
    jobs: int | None = None,
    progress: bool = True,
    on_result: Callable[[BundleResult], None] | None = None,
) -> list[BundleResult]:
    """Evaluate `paths` on `jobs` processes (default: every core); results come back in the order of `paths`."""
    jobs = max(1, jobs or os.cpu_count() or 1)
    bar = ProgressBar(len(paths)) if progress else None
    results: dict[int, BundleResult] = {}

    def done(i: int, r: BundleResult) -> None:
        results[i] = r
        if on_result:
            on_result(r)
        if bar:
            bar.advance()

    if jobs == 1 or len(paths) <= 1:
        for i, p in enumerate(paths):
            done(i, evaluate_bundle(p))
    else:
        # One engine per worker, one onnxruntime/OpenCV thread each: the cores are used by the processes.
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(1,)) as pool:
            futures = {pool.submit(evaluate_bundle, p): i for i, p in enumerate(paths)}
            for future in as_completed(futures):
                done(futures[future], future.result())
    return [results[i] for i in range(len(paths))]
