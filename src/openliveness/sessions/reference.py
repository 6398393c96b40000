"""Reference-image checks done before face analysis: container format and decodability, within pixel limits."""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from openliveness.domain import ReferenceFace
from openliveness.errors import InvalidImage

__all__ = ["ALLOWED_FORMATS", "check_reference_image"]

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "GIF", "BMP", "WEBP"})
_MAX_PIXELS = 40_000_000


def check_reference_image(data: bytes) -> ReferenceFace | None:
    """Raise InvalidImage unless `data` is a whole JPEG, PNG, GIF, BMP or WEBP image of sane pixel size."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=sorted(ALLOWED_FORMATS)) as image:
                width, height = image.size
                if width * height > _MAX_PIXELS:
                    raise InvalidImage(f"Image has too many pixels: {width}x{height}.")
                image.load()  # decodes fully: truncated or corrupt data fails here
    except InvalidImage:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InvalidImage("Decoding error, image format unsupported or image corrupted.") from exc
    except Image.DecompressionBombWarning as exc:
        raise InvalidImage("Image has too many pixels.") from exc
    return None
