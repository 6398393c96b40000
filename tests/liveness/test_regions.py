"""Region measurements stay proportional to the light when part of a region saturates."""

from __future__ import annotations

import numpy as np

from openliveness.liveness.regions import (
    CANONICAL_LANDMARKS,
    COLUMN_REGIONS,
    REGION_NAMES,
    SKIN,
    measure_regions,
    similarity,
)
from openliveness.liveness.types import CaptureFrame

SIZE = (240, 320)
IOD = 60.0
LANDMARKS = CANONICAL_LANDMARKS * IOD + np.array([160.0, 100.0])


def _frame(albedo: np.ndarray, light: np.ndarray, t: float) -> CaptureFrame:
    linear = np.clip(albedo * light, 0.0, 1.0)
    return CaptureFrame(image=np.round(255.0 * linear ** (1 / 2.2)).astype(np.uint8), timestamp_ms=t, step_index=None)


def _skin_means(frames: list[CaptureFrame]) -> np.ndarray:
    series = measure_regions(frames, np.repeat(LANDMARKS[None], len(frames), axis=0))
    return series.linear[:, [REGION_NAMES.index(name) for name in SKIN]]


def test_saturated_red_does_not_bend_the_ratio_between_two_lights() -> None:
    """Warm skin under the white screen: a third of the pixels clip in red. The white-lit over the half-lit
    measurement must still be the light's ratio (2) in every channel, as the flash signals assume; a plain mean
    over the region gives about 1.9 in red."""
    rng = np.random.default_rng(3)
    texture = rng.uniform(0.55, 1.0, SIZE)[..., None]
    albedo = (texture * np.array([0.9, 0.55, 0.45])).astype(np.float64)
    white = np.array([1.35, 1.35, 1.35])
    frames = [_frame(albedo, white * (1.0 if i % 2 == 0 else 0.5), 40.0 * i) for i in range(10)]
    assert np.mean(np.asarray(frames[0].image)[..., 0] >= 250) > 0.25  # the red channel saturates
    means = _skin_means(frames)
    ratio = means[0::2].mean(axis=0) / means[1::2].mean(axis=0)
    np.testing.assert_allclose(ratio, 2.0, rtol=0.03)


def test_a_mostly_saturated_channel_is_measured_on_its_last_unsaturated_pixels() -> None:
    """Nine in ten pixels clip in red under white (a small face lit by the screen before a dark room): the darkest
    tenth is still clean in every frame and carries the ratio. Keeping a quarter of the pixels, as before, mixed
    clipped ones into the white-lit mean and read the ratio 6 to 12 % low."""
    rng = np.random.default_rng(8)
    texture = rng.uniform(0.3, 1.0, SIZE)[..., None]
    albedo = (texture * np.array([0.9, 0.5, 0.4])).astype(np.float64)
    white = np.array([3.0, 3.0, 3.0])
    frames = [_frame(albedo, white * (1.0 if i % 2 == 0 else 0.5), 40.0 * i) for i in range(10)]
    red = np.asarray(frames[0].image)[..., 0]
    assert np.mean(red >= 250) > 0.85  # the red channel saturates on most of the skin
    means = _skin_means(frames)
    ratio = means[0::2].mean(axis=0) / means[1::2].mean(axis=0)
    np.testing.assert_allclose(ratio, 2.0, rtol=0.03)


def test_a_coloured_light_is_measured_on_the_same_pixels_as_white() -> None:
    """Under a blue step the brightest pixels are those with the most blue albedo, not the most red: ranking by
    overall brightness would measure red on other pixels than under white, and the step's chroma would be off
    (it made genuine steps read as their neighbours). Each channel is ranked by its own value."""
    rng = np.random.default_rng(6)
    # Where the skin is redder it is less blue (lips, blush), as on real faces.
    t = rng.uniform(0.0, 1.0, SIZE)
    albedo = np.stack([0.9 * (0.6 + 0.4 * t), 0.55 * np.full(SIZE, 0.8), 0.45 * (1.0 - 0.4 * t)], axis=-1)
    white = np.array([1.35, 1.35, 1.35])
    blue = np.array([0.6, 0.6, 1.35])
    frames = [_frame(albedo, white if i % 2 == 0 else blue, 40.0 * i) for i in range(10)]
    assert np.mean(np.asarray(frames[0].image)[..., 0] >= 250) > 0.2  # red saturates under white
    means = _skin_means(frames)
    ratio = means[0::2].mean(axis=0) / means[1::2].mean(axis=0)
    np.testing.assert_allclose(ratio, np.broadcast_to(white / blue, ratio.shape), rtol=0.03)


def test_frames_not_measured_do_not_hide_the_saturation() -> None:
    """The saturation test looks at the measured frames only: frames after `until_ms` (PassiveActive's motion
    phase) or untracked ones must not count as unsaturated. Here they are nine in ten; counted, they would make
    the region's worst frames look clean and the plain mean (bent by the clipped red) would be used."""
    rng = np.random.default_rng(3)
    texture = rng.uniform(0.55, 1.0, SIZE)[..., None]
    albedo = (texture * np.array([0.9, 0.55, 0.45])).astype(np.float64)
    white = np.array([1.35, 1.35, 1.35])
    frames = [_frame(albedo, white * (1.0 if i % 2 == 0 else 0.5), 40.0 * i) for i in range(4)]
    frames += [_frame(albedo, white * 0.5, 40.0 * i) for i in range(4, 40)]
    series = measure_regions(frames, np.repeat(LANDMARKS[None], len(frames), axis=0), until_ms=130.0)
    means = series.linear[:4, [REGION_NAMES.index(name) for name in SKIN]]
    assert np.all(np.isnan(series.linear[4:, 0]))
    ratio = means[0::2].mean(axis=0) / means[1::2].mean(axis=0)
    np.testing.assert_allclose(ratio, 2.0, rtol=0.03)


def test_unsaturated_regions_keep_their_plain_mean() -> None:
    rng = np.random.default_rng(4)
    albedo = rng.uniform(0.2, 0.6, (*SIZE, 3))
    frames = [_frame(albedo, np.array([1.0, 0.9, 0.8]), 40.0 * i) for i in range(4)]
    means = _skin_means(frames)
    forehead = means[0, 0]
    x, y = LANDMARKS[:2].mean(axis=0) + np.array([0.0, -0.5]) * IOD
    half = 0.14 * IOD
    patch = np.asarray(frames[0].image)[round(y - half) : round(y + half) + 1, round(x - half) : round(x + half) + 1]
    expected = ((patch.reshape(-1, 3) / 255.0) ** 2.2).mean(axis=0)
    np.testing.assert_allclose(forehead, expected, rtol=1e-4)


def test_the_columns_are_read_on_their_lit_skin_under_a_shiny_cap() -> None:
    """A dark cap covers the top half of both columns' upper ends, and the screen's light also glances off it (a
    sheen that does not scale with the cloth's albedo). The head sways by up to a pixel. On the whole region the
    cap's sheen adds to the screen's share (white-lit over room-lit reads 1.40 to 1.46 instead of the skin's 1.3);
    the columns' lit skin reads the skin's own ratio."""
    rng = np.random.default_rng(11)
    albedo = rng.uniform(0.5, 0.8, SIZE)[..., None] * np.array([0.8, 0.6, 0.5])
    cap_edge = LANDMARKS[:2, 1].mean() - 0.65 * IOD
    covered = np.arange(SIZE[0])[:, None, None] < cap_edge
    albedo = np.where(covered, 0.02, albedo)
    frames, landmarks = [], []
    for i in range(16):
        screen = 0.3 if i % 2 == 0 else 0.0  # white-lit, then the room alone
        shift = rng.uniform(-1.0, 1.0, 2)
        # Sway the face by moving the image and the landmarks together (whole pixels for the image).
        dx, dy = np.rint(shift).astype(int)
        light = np.where(covered, albedo * (1.0 + screen) + 0.2 * screen, albedo * (1.0 + screen))
        frames.append(_frame(np.roll(light, (dy, dx), axis=(0, 1)), np.ones(3), 40.0 * i))
        landmarks.append(LANDMARKS + np.array([dx, dy]))
    series = measure_regions(frames, np.asarray(landmarks))
    assert series.column_skin is not None
    for k, name in enumerate(COLUMN_REGIONS):
        lit = series.column_skin[:, k]
        np.testing.assert_allclose(lit[0::2].mean(axis=0) / lit[1::2].mean(axis=0), 1.3, rtol=0.01, err_msg=name)
    whole = series.regions(["upper_left", "upper_right"])
    assert np.all(whole[0::2].mean(axis=0) / whole[1::2].mean(axis=0) > 1.38)


def test_similarity_recovers_a_rotation_scale_and_shift_and_never_reflects() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        angle, scale, shift = rng.uniform(-np.pi, np.pi), rng.uniform(10, 200), rng.uniform(-300, 300, 2)
        rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        m = similarity(CANONICAL_LANDMARKS, CANONICAL_LANDMARKS @ rot.T + shift)
        np.testing.assert_allclose(m[:, :2], rot, atol=1e-9)
        np.testing.assert_allclose(m[:, 2], shift, atol=1e-9)
    # A mirrored face is fitted by a rotation and a scale, not a reflection (and not exactly).
    mirrored = similarity(CANONICAL_LANDMARKS, CANONICAL_LANDMARKS * [-1.0, 1.0])
    assert np.linalg.det(mirrored[:, :2]) >= 0


def test_the_background_is_read_on_the_same_corners_in_every_frame() -> None:
    """The head sways near the right top corner: clear of it in some frames, reaching it in others. Averaging
    whichever corners are clear in each frame switched the background between one corner's colour and two
    corners' mean, a step the flash timing fit could take for a response to the screen (two report captures were
    refused as attacks that way). The background must be the corner clear in every frame, at its steady light."""
    image = np.full((*SIZE, 3), 0.35)
    image[:, : SIZE[1] // 2] = [0.1, 0.3, 0.6]  # a blue wall on the left, a warm one on the right
    image[:, SIZE[1] // 2 :] = [0.6, 0.35, 0.2]
    frames, landmarks = [], []
    for i in range(12):
        frames.append(_frame(image, np.ones(3), 40.0 * i))
        landmarks.append(LANDMARKS + np.array([12.0 if i % 3 == 0 else 0.0, 0.0]))  # every third frame nearer
    series = measure_regions(frames, np.asarray(landmarks))
    background = series.region("background")
    assert np.all(np.isfinite(background))
    np.testing.assert_allclose(background, np.broadcast_to(background[1], background.shape), rtol=1e-6)
    np.testing.assert_allclose(background[0], [0.1, 0.3, 0.6], rtol=0.05)  # the left corner's light alone
