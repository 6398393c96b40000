"""Safe image decoding: byte and pixel limits checked before the pixels are decoded, then RGB uint8 out."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from openliveness.errors import InvalidImage, InvalidImageSize

from .types import RGBImage

__all__ = [
    "FRAME_LIMITS",
    "REFERENCE_IMAGE_LIMITS",
    "SUPPORTED_FORMATS",
    "ImageLimits",
    "decode_image",
    "jpeg_quality",
]

#: Formats Pillow may pick; anything else (TIFF, PSD, EPS, ...) is refused before its decoder runs.
SUPPORTED_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "WEBP")

# The luminance quantization table of the JPEG standard (ITU T.81 Annex K), row by row: libjpeg and the browsers
# built on it scale it by the quality setting.
_STANDARD_LUMA_TABLE_SUM = sum(
    (
        *(16, 11, 10, 16, 24, 40, 51, 61),
        *(12, 12, 14, 19, 26, 58, 60, 55),
        *(14, 13, 16, 24, 40, 57, 69, 56),
        *(14, 17, 22, 29, 51, 87, 80, 62),
        *(18, 22, 37, 56, 68, 109, 103, 77),
        *(24, 35, 55, 64, 81, 104, 113, 92),
        *(49, 64, 78, 87, 103, 121, 120, 101),
        *(72, 92, 95, 98, 112, 100, 103, 99),
    )
)

# Transparent pixels are composited onto white: a cut-out portrait is normally shown on a light page.
_ALPHA_BACKGROUND = (255, 255, 255)


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """Limits applied to one untrusted image. Byte limits follow Azure's reference-image rules (1 KB to 6 MB);
    the pixel limit admits a 36-megapixel phone photo (about 110 MB once decoded) and nothing bigger."""

    min_bytes: int = 1024
    max_bytes: int = 6 * 1024 * 1024
    min_side: int = 36
    max_side: int = 8192
    max_pixels: int = 36_000_000


REFERENCE_IMAGE_LIMITS = ImageLimits()
#: Liveness frames are small JPEGs from the web SDK; a tiny frame is legal, a huge one is not.
FRAME_LIMITS = ImageLimits(min_bytes=1, max_bytes=2 * 1024 * 1024, min_side=36, max_side=4096, max_pixels=2560 * 2560)


def decode_image(data: bytes, limits: ImageLimits = REFERENCE_IMAGE_LIMITS) -> RGBImage:
    """Decode JPEG, PNG, GIF (first frame), BMP or WEBP bytes to an upright RGB ``uint8`` array.

    Raises `InvalidImageSize` when the byte count is outside the limits and `InvalidImage` when the data is
    not a supported image, is corrupt, or has dimensions outside the limits. Never decodes pixels before the
    header's size has been checked.
    """
    if not limits.min_bytes <= len(data) <= limits.max_bytes:
        raise InvalidImageSize(
            f"Image size is too small or too big: {len(data)} bytes, "
            f"expected {limits.min_bytes} to {limits.max_bytes} bytes."
        )
    try:
        return _decode(data, limits)
    except (InvalidImage, InvalidImageSize):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard (about 89M pixels) only fires far above our limits, but it can fire on the
        # header before our check: same answer either way.
        raise InvalidImage("Image dimensions exceed the limit.") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        # Pillow reports corrupt and truncated data through all of these (SyntaxError from some parsers).
        raise InvalidImage() from exc


def _decode(data: bytes, limits: ImageLimits) -> RGBImage:
    with Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS) as im:
        width, height = im.size  # from the header: nothing decoded yet
        _check_dimensions(width, height, limits)
        if im.format == "JPEG" and im.mode in ("RGB", "L"):
            # The web SDK's frames: OpenCV's decoder gives the same pixels as Pillow's and releases the GIL, so a
            # capture's frames decode in parallel (Pillow's do not). It applies the EXIF orientation too. Imported
            # here: importing `openliveness.vision` loads no heavy module.
            import cv2

            decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
            if decoded is None:
                raise InvalidImage()
            rgb: RGBImage = np.ascontiguousarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), dtype=np.uint8)
            _check_dimensions(rgb.shape[1], rgb.shape[0], limits)
            return rgb
        # For GIF/WEBP animations only frame 0 is decoded: Image.open leaves the reader on it.
        im.load()
        upright = ImageOps.exif_transpose(im)
        rgb = _to_rgb(upright)
    # EXIF rotation swaps the sides; the pixel budget is unchanged but a side limit may now apply.
    _check_dimensions(rgb.shape[1], rgb.shape[0], limits)
    return rgb


def jpeg_quality(data: bytes) -> float | None:
    """The quality (1..100, libjpeg's scale) a JPEG was encoded at, estimated from its luminance quantization
    table in the header (no pixels are decoded); None when `data` is not a JPEG with such a table.

    Encoders that scale the standard table (libjpeg and the browsers built on it) read back within a unit; others
    (own tables) read as the libjpeg quality whose table is as coarse on average."""
    try:
        with Image.open(io.BytesIO(data), formats=("JPEG",)) as im:
            tables = getattr(im, "quantization", None) or {}
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        return None
    luma = tables.get(0)
    if not luma:
        return None
    # libjpeg scales the standard table by S percent: S = 5000 / quality under 50, 200 - 2 x quality from 50.
    scale = 100.0 * float(sum(luma)) / _STANDARD_LUMA_TABLE_SUM
    return (200.0 - scale) / 2.0 if scale <= 100.0 else 5000.0 / scale


def _check_dimensions(width: int, height: int, limits: ImageLimits) -> None:
    if width * height > limits.max_pixels or max(width, height) > limits.max_side:
        raise InvalidImage(
            f"Image dimensions {width}x{height} exceed the limit of {limits.max_side} pixels per side "
            f"and {limits.max_pixels} pixels."
        )
    if min(width, height) < limits.min_side:
        raise InvalidImage(f"Image dimensions {width}x{height} are below the minimum of {limits.min_side} pixels.")


def _to_rgb(im: Image.Image) -> RGBImage:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit greyscale (PNG) arrives as I;16 or I: keep the top 8 bits rather than clipping at 255.
        arr = np.asarray(im)
        wide = arr.astype(np.int64)
        top = int(wide.max()) if wide.size else 0
        shift = 8 if top > 255 else 0
        grey = np.clip(wide >> shift, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if mode == "F":
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = np.zeros_like(arr) if hi <= lo else (arr - lo) * (255.0 / (hi - lo))
        grey = np.clip(scaled, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if mode == "P":
        # A palette with a transparent index must go through RGBA, or Pillow warns and drops it badly.
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
        mode = im.mode
    if mode in ("LA", "La", "PA", "RGBa") or (mode in ("L", "RGB") and "transparency" in im.info):
        im = im.convert("RGBA")
        mode = "RGBA"
    if mode == "RGBA":
        background = Image.new("RGB", im.size, _ALPHA_BACKGROUND)
        background.paste(im, mask=im.getchannel("A"))
        im = background
    elif mode != "RGB":
        # L, 1, CMYK (Pillow undoes Adobe's inverted CMYK itself), YCbCr, LAB, HSV.
        im = im.convert("RGB")
    arr = np.asarray(im, dtype=np.uint8)
    return np.ascontiguousarray(arr)
