"""Face photos for the liveness benchmarks: where ../shared/data keeps them, and how they are loaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SHARED_VERIFICATION = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "verification"


def load_photo(path: Path | str) -> np.ndarray:
    """An RGB photo scaled to at most 640 px a side, as both the report and the tuning benches render from."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        image.thumbnail((640, 640))
        return np.asarray(image)
