"""Safe decoding: formats, EXIF orientation, colour modes, limits, and hostile input."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from openliveness.errors import InvalidImage, InvalidImageSize
from openliveness.vision import FRAME_LIMITS, ImageLimits, RGBImage, decode_image, jpeg_quality

# 0x0112 is the EXIF Orientation tag.
ORIENTATION = 0x0112


def encode(image: RGBImage | Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    pil = image if isinstance(image, Image.Image) else Image.fromarray(image)
    buf = io.BytesIO()
    pil.save(buf, format=fmt, **params)
    return buf.getvalue()


def mean_abs_diff(a: RGBImage, b: RGBImage) -> float:
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


@pytest.mark.parametrize(
    ("fmt", "params", "tolerance"),
    [
        ("PNG", {}, 0.0),
        ("BMP", {}, 0.0),
        ("WEBP", {"lossless": True}, 0.0),
        ("JPEG", {"quality": 95}, 4.0),
        ("WEBP", {"quality": 90}, 6.0),
        ("GIF", {}, 12.0),  # 256-colour palette
    ],
)
def test_supported_formats_decode_to_rgb(astronaut: RGBImage, fmt: str, params: dict[str, object], tolerance: float):
    out = decode_image(encode(astronaut, fmt, **params))
    assert out.dtype == np.uint8
    assert out.shape == astronaut.shape
    assert mean_abs_diff(out, astronaut) <= tolerance


@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK"])
def test_jpeg_decodes_to_pillows_pixels_exactly(astronaut: RGBImage, mode: str):
    """JPEG frames go through OpenCV's decoder (it releases the GIL); every pixel must be Pillow's."""
    data = encode(Image.fromarray(astronaut).convert(mode), "JPEG", quality=80)
    with Image.open(io.BytesIO(data)) as im:
        expected = np.asarray(im.convert("RGB"))
    out = decode_image(data)
    assert out.flags["C_CONTIGUOUS"]
    assert np.array_equal(out, expected)


def test_a_truncated_jpeg_is_refused(astronaut: RGBImage):
    data = encode(astronaut, "JPEG", quality=80)
    with pytest.raises(InvalidImage):
        decode_image(data[: len(data) // 2])


@pytest.mark.parametrize(("orientation", "quarter_turns"), [(1, 0), (3, 2), (6, 3), (8, 1)])
def test_exif_orientation_is_applied(astronaut: RGBImage, orientation: int, quarter_turns: int):
    crop = astronaut[:, :400]  # not square, so a wrong rotation changes the shape
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    out = decode_image(encode(crop, "JPEG", quality=95, exif=exif.tobytes()))
    expected = np.rot90(crop, quarter_turns)
    assert out.shape == expected.shape
    assert mean_abs_diff(out, expected) < 4.0


def test_cmyk_jpeg_decodes_to_matching_rgb(astronaut: RGBImage):
    cmyk = Image.fromarray(astronaut).convert("CMYK")
    out = decode_image(encode(cmyk, "JPEG", quality=95))
    assert out.shape == astronaut.shape
    assert mean_abs_diff(out, astronaut) < 6.0


def test_16_bit_greyscale_png_keeps_its_contrast(astronaut: RGBImage):
    grey8 = np.asarray(Image.fromarray(astronaut).convert("L"))
    im16 = Image.fromarray(grey8.astype(np.uint16) * 257)  # full 16-bit range
    assert im16.mode.startswith("I;16")
    out = decode_image(encode(im16))
    assert out.shape == (*grey8.shape, 3)
    assert mean_abs_diff(out[:, :, 0], grey8) <= 1.0
    assert np.array_equal(out[:, :, 0], out[:, :, 2])


def test_greyscale_palette_and_alpha_modes(astronaut: RGBImage):
    base = Image.fromarray(astronaut)
    assert decode_image(encode(base.convert("L"))).shape == astronaut.shape
    assert decode_image(encode(base.convert("1"))).shape == astronaut.shape
    palette = base.convert("P")
    assert np.array_equal(decode_image(encode(palette)), np.asarray(palette.convert("RGB")))
    # Fully transparent pixels become the white background; opaque ones keep their colour.
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    rgba[:100, :, 3] = 0
    out = decode_image(encode(rgba))
    assert np.all(out[:100] == 255)
    assert np.array_equal(out[100:], astronaut[100:])
    la = base.convert("LA")
    assert decode_image(encode(la)).shape == astronaut.shape


def test_palette_with_transparent_index():
    im = Image.new("P", (64, 64), 0)
    im.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    im.paste(1, (0, 0, 32, 64))
    im.info["transparency"] = 0
    out = decode_image(encode(im, "PNG", transparency=0), ImageLimits(min_bytes=1))
    assert tuple(out[0, 0]) == (0, 0, 255)
    assert tuple(out[0, 63]) == (255, 255, 255)


def test_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (80, 80), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    out = decode_image(data, ImageLimits(min_bytes=1))
    assert out.shape == (80, 80, 3)
    assert tuple(out[40, 40]) == (255, 0, 0)


@pytest.mark.parametrize("data", [b"", b"\xff\xd8\xff"])
def test_tiny_inputs_are_invalid_size(data: bytes):
    with pytest.raises(InvalidImageSize):
        decode_image(data)


def test_byte_limits_are_parameters(astronaut: RGBImage):
    data = encode(astronaut, "JPEG", quality=90)
    with pytest.raises(InvalidImageSize):
        decode_image(data, ImageLimits(max_bytes=len(data) - 1))
    with pytest.raises(InvalidImageSize):
        decode_image(b"x" * (6 * 1024 * 1024 + 1))


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 8,  # not an image
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000,  # PNG signature, garbage after it
        b"GIF89a" + b"\xff" * 2000,
    ],
)
def test_garbage_is_invalid_image(data: bytes):
    with pytest.raises(InvalidImage):
        decode_image(data)


def test_truncated_and_corrupted_jpeg(astronaut: RGBImage):
    data = encode(astronaut, "JPEG", quality=90)
    with pytest.raises(InvalidImage):
        decode_image(data[: len(data) // 2])
    corrupted = bytearray(data)
    corrupted[20:400] = b"\x00" * 380  # destroys the quantisation and Huffman tables
    with pytest.raises(InvalidImage):
        decode_image(bytes(corrupted))


def test_unsupported_format_is_refused(astronaut: RGBImage):
    with pytest.raises(InvalidImage):
        decode_image(encode(astronaut, "TIFF"))


def _png_of_size(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of any size: rows of zeros compress to almost nothing."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_png_is_refused_before_decoding():
    data = _png_of_size(20_000, 20_000)
    assert len(data) < 6 * 1024 * 1024  # it passes the byte limit: only the pixel check can stop it
    start = time.perf_counter()
    with pytest.raises(InvalidImage):
        decode_image(data)
    assert time.perf_counter() - start < 1.0  # refused from the header, not after inflating 50 MB


def test_pixel_limit_below_pillows_own_guard():
    data = _png_of_size(7_000, 3_800)  # 27 Mpx: under Pillow's 89 Mpx guard, over the frame limit
    with pytest.raises(InvalidImage):
        decode_image(data, FRAME_LIMITS)
    assert decode_image(data).shape == (3_800, 7_000, 3)


def test_too_small_dimensions():
    with pytest.raises(InvalidImage):
        decode_image(encode(np.zeros((20, 200, 3), np.uint8)), ImageLimits(min_bytes=1))


@pytest.mark.parametrize("quality", [40, 60, 75, 85, 92, 95])
def test_jpeg_quality_reads_the_encoders_setting(quality: int) -> None:
    import cv2

    image = np.random.default_rng(quality).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    ok, opencv = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    for data in (encode(image, "JPEG", quality=quality), opencv.tobytes()):
        estimate = jpeg_quality(data)
        assert estimate is not None and abs(estimate - quality) < 1.0


def test_jpeg_quality_of_other_data_is_none() -> None:
    image = np.zeros((40, 40, 3), dtype=np.uint8)
    assert jpeg_quality(encode(image, "PNG")) is None
    assert jpeg_quality(encode(image, "WEBP", quality=50)) is None
    assert jpeg_quality(b"\xff\xd8\xff" + b"\x00" * 200) is None
    assert jpeg_quality(b"not an image") is None
