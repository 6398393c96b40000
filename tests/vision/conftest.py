"""Fixtures for the vision tests: the real models loaded once, real photographs, and ../shared/data."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openliveness.vision import RGBImage


def encode(image: RGBImage | Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    pil = image if isinstance(image, Image.Image) else Image.fromarray(image)
    buf = io.BytesIO()
    pil.save(buf, format=fmt, **params)
    return buf.getvalue()


@pytest.fixture(scope="session")
def astronaut() -> RGBImage:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="session")
def grace_hopper_jpeg() -> bytes:
    from matplotlib import cbook

    return Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).read_bytes()


@pytest.fixture(scope="session")
def grace_hopper(grace_hopper_jpeg: bytes) -> RGBImage:
    with Image.open(io.BytesIO(grace_hopper_jpeg)) as im:
        return np.asarray(im.convert("RGB"))
