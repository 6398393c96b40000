"""The benchmark scripts' argument checks: a mistake is reported before any work starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_an_unknown_tuning_face_is_named_before_rendering(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "liveness_tune.py", "--faces", "astronaut,nobody", "--cache", str(tmp_path)],
        cwd=BENCH,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "unknown tuning faces ['nobody']" in done.stderr and "astronaut_capped" in done.stderr
    assert "Traceback" not in done.stderr and not any(tmp_path.iterdir())
