"""Each signal on live-like and attack-like synthetic inputs: the scores must differ clearly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pytest

from openliveness.liveness import Capture, CaptureFrame, Challenge, MotionPrompt
from openliveness.liveness.config import EngineConfig
from openliveness.liveness.regions import BESIDE, COLUMN_REGIONS, COLUMNS, RegionSeries, measure_regions
from openliveness.liveness.signals import Verdict, flash_shape, flash_timing, parallax, screen_colours
from openliveness.liveness.signals.parallax import _verdict, excursions, nose_deviation
from openliveness.liveness.tracking import registered, track_faces
from openliveness.vision import FaceAnalyzer

from .synth import Scene, astronaut_frame, head_points, head_scene, keyframe_at, make_challenge, render_capture

CONFIG = EngineConfig()


def _series(analyzer: FaceAnalyzer, challenge: Challenge, capture: Capture) -> RegionSeries:
    track = registered(
        track_faces(analyzer, capture.frames, challenge, CONFIG.tracking), capture.frames, challenge, CONFIG.tracking
    )
    return measure_regions(capture.frames, track.landmarks)


def test_screen_colours_follow_the_schedule_with_the_offset() -> None:
    challenge = make_challenge(1)
    first = np.array(challenge.steps[0].color) / 255
    t = np.array([100.0, challenge.lead_in_ms + 100.0, challenge.lead_in_ms + 100.0])
    colours = screen_colours(challenge, t, 0.0, 0.0)
    assert np.allclose(colours[0], 1.0)  # lead-in is white
    assert np.allclose(colours[1], first)
    # Shifted by more than the time into the step, the frame still saw the white lead-in.
    assert np.allclose(screen_colours(challenge, t[2:], 150.0, 0.0)[0], 1.0)


@pytest.mark.parametrize("seed", [3, 4])
def test_flash_timing_accepts_a_face_answering_the_schedule_only(
    analyzer: FaceAnalyzer, head: Scene, seed: int
) -> None:
    challenge, other = make_challenge(seed), make_challenge(seed + 100)
    live = flash_timing(
        challenge,
        _series(analyzer, challenge, render_capture(head, challenge, seed=seed)),
        CONFIG.flash,
    )
    replay = flash_timing(
        challenge,
        _series(analyzer, challenge, render_capture(head, challenge, answer=other, seed=seed)),
        CONFIG.flash,
    )
    injected = flash_timing(
        challenge,
        _series(analyzer, challenge, render_capture(head, challenge, screen_gain=0.0, seed=seed)),
        CONFIG.flash,
    )
    assert live.result.verdict is Verdict.PASS, live.result
    assert live.result.measures.get("beside_ratio", 0.0) < CONFIG.flash.max_beside_ratio  # the room beside it
    assert 0.0 <= live.offset_ms <= 150.0  # the rendered display latency is 60 ms
    assert replay.result.verdict is Verdict.FAIL, replay.result
    assert injected.result.verdict is Verdict.FAIL, injected.result
    assert injected.result.reasons == ("flash_no_response",)
    assert live.result.score > 0.9 > 0.3 > max(replay.result.score, injected.result.score)


def test_flash_timing_lag_outside_the_window_is_not_searched(analyzer: FaceAnalyzer, head: Scene) -> None:
    """A recording of this very schedule played a second late cannot be slid back into place."""
    challenge = make_challenge(5)
    late = render_capture(head, challenge, lag_ms=1000.0)
    result = flash_timing(challenge, _series(analyzer, challenge, late), CONFIG.flash)
    assert result.result.verdict is not Verdict.PASS


def test_flash_timing_no_response_in_a_bright_room_is_refused(analyzer: FaceAnalyzer, head: Scene) -> None:
    """A face that does not answer the screen is refused however bright the room or the face: a bright room is
    no excuse an injected stream can hide behind (it was `uncertain` once, which left such attacks undecided)."""
    challenge = make_challenge(6)
    series = _series(analyzer, challenge, render_capture(head, challenge, screen_gain=0.0, ambient=1.5))
    bright_face = replace(series, luma=np.full_like(series.luma, 200.0))
    result = flash_timing(challenge, bright_face, CONFIG.flash)
    assert result.result.verdict is Verdict.FAIL
    assert result.result.reasons == ("flash_no_response",)


def test_flash_timing_print_filling_the_frame_responds_like_its_background(analyzer: FaceAnalyzer, flat: Scene) -> None:
    challenge = make_challenge(7)
    series = _series(analyzer, challenge, render_capture(flat, challenge))
    result = flash_timing(challenge, series, CONFIG.flash)
    assert result.result.verdict is Verdict.FAIL
    # The sheet beside the face answers our light as the face does (checked first), and so do the corners.
    assert result.result.reasons == ("flash_lit_beside_face",)
    assert result.result.measures["beside_ratio"] >= CONFIG.flash.max_beside_ratio
    assert result.result.measures["face_background_ratio"] < CONFIG.flash.min_face_background_ratio


@pytest.mark.parametrize("ambient", [0.25, 0.5, 1.5])
def test_flash_shape_separates_a_head_from_a_print(analyzer: FaceAnalyzer, head: Scene, ambient: float) -> None:
    challenge = make_challenge(8)
    print_in_room = head_scene(analyzer, astronaut_frame(), flat=True, fills_frame=False)
    results = {}
    for name, scene in (("head", head), ("print", print_in_room)):
        capture = render_capture(scene, challenge, ambient=ambient, seed=2)
        series = _series(analyzer, challenge, capture)
        timing = flash_timing(challenge, series, CONFIG.flash)
        results[name] = flash_shape(challenge, series, timing.offset_ms, CONFIG.flash)
    assert results["head"].verdict is Verdict.PASS, results["head"]
    assert results["print"].verdict is Verdict.FAIL, results["print"]
    assert results["head"].measures["relative_curvature"] > 2 * results["print"].measures["relative_curvature"]


def test_flash_shape_without_screen_light_is_unmeasurable(analyzer: FaceAnalyzer, head: Scene) -> None:
    challenge = make_challenge(9)
    series = _series(analyzer, challenge, render_capture(head, challenge, screen_gain=0.0))
    result = flash_shape(challenge, series, 50.0, CONFIG.flash)
    assert result.verdict is Verdict.INCONCLUSIVE


def test_nose_deviation_is_zero_for_a_plane_and_grows_with_yaw() -> None:
    ref = head_points(0.0)
    assert nose_deviation(head_points(0.0, planar=True), head_points(25.0, planar=True)) == pytest.approx(0, abs=1e-6)
    assert nose_deviation(ref, head_points(25.0)) > 0.15  # type: ignore[operator]


def _keyframes(yaws: list[float], *, planar: bool, noise: float = 0.4, distance: list[float] | None = None) -> list:
    rng = np.random.default_rng(0)
    dist = distance or [6.0] * len(yaws)
    return [
        keyframe_at(i, head_points(y, d, planar=planar, shift=0.8) + rng.normal(0, noise, (5, 2)))
        for i, (y, d) in enumerate(zip(yaws, dist, strict=True))
    ]


def test_parallax_head_turn_passes_a_head_and_fails_a_turned_photo() -> None:
    yaws = [0.0, 5.0, 12.0, 20.0, 26.0, 28.0]
    head = parallax(_keyframes(yaws, planar=False), MotionPrompt.TURN_LEFT, CONFIG.parallax)
    photo = parallax(_keyframes(yaws, planar=True), MotionPrompt.TURN_LEFT, CONFIG.parallax)
    assert head.verdict is Verdict.PASS, head
    assert photo.verdict is Verdict.FAIL, photo
    assert photo.reasons == ("parallax_planar",)
    assert head.score == 1.0 and photo.score < 0.2


def test_parallax_checks_the_requested_motion() -> None:
    yaws = [0.0, 5.0, 12.0, 20.0, 26.0]
    wrong_way = parallax(_keyframes(yaws, planar=False), MotionPrompt.TURN_RIGHT, CONFIG.parallax)
    still = parallax(_keyframes([0.0] * 5, planar=False), MotionPrompt.TURN_LEFT, CONFIG.parallax)
    assert wrong_way.verdict is Verdict.INCONCLUSIVE and wrong_way.reasons == ("motion_wrong_direction",)
    assert still.verdict is Verdict.INCONCLUSIVE and still.reasons == ("motion_not_performed",)
    closer = parallax(
        _keyframes([0.0] * 5, planar=False, distance=[6.0, 5.5, 5.0, 4.5, 4.0]),
        MotionPrompt.MOVE_CLOSER,
        CONFIG.parallax,
    )
    assert closer.measures["scale_change"] > CONFIG.parallax.min_scale_change
    assert closer.verdict is not Verdict.INCONCLUSIVE or closer.reasons != ("motion_not_performed",)


def test_a_head_shaken_both_ways_does_not_answer_a_turn_prompt() -> None:
    """Reaching the prompted side is not enough when the head went as far the other way: a shake (or a recording
    of one) would otherwise answer either prompt."""
    rng = np.random.default_rng(1)
    shake = [0.0, 12.0, 26.0, 12.0, 0.0, -12.0, -26.0, -12.0]  # centred on the camera's axis: frame 0 is frontal
    keyframes = [keyframe_at(i, head_points(y) + rng.normal(0, 0.4, (5, 2))) for i, y in enumerate(shake)]
    for prompt in (MotionPrompt.TURN_LEFT, MotionPrompt.TURN_RIGHT):
        result = parallax(keyframes, prompt, CONFIG.parallax)
        assert result.measures["yaw_change"] > CONFIG.parallax.min_yaw_change
        assert result.measures["yaw_away"] > CONFIG.parallax.max_yaw_away_share * result.measures["yaw_change"]
        assert result.verdict is Verdict.INCONCLUSIVE and result.reasons == ("motion_wrong_direction",), result


def test_excursions_read_the_prompted_side_first() -> None:
    yaws = np.array([0.02, 0.1, 0.3, 0.15, -0.05])
    assert excursions(yaws, 0, MotionPrompt.TURN_LEFT) == pytest.approx((0.28, 0.07))
    assert excursions(yaws, 0, MotionPrompt.TURN_RIGHT) == pytest.approx((0.07, 0.28))


def test_a_turn_toward_the_prompt_but_too_small_says_so() -> None:
    """The nose left the plane and the face foreshortened, but its yaw toward the prompted side stayed under the
    threshold: the user turned the right way, not far enough (not `motion_wrong_direction`)."""
    motion = {"yaw_change": 0.04, "yaw_away": 0.0, "scale_change": 0.0, "foreshortening": 0.09}
    small = _verdict(MotionPrompt.TURN_LEFT, 0.12, dict(motion), CONFIG.parallax, mark_decisive=True)
    assert small.verdict is Verdict.INCONCLUSIVE and small.reasons == ("motion_too_small",)
    enough = _verdict(MotionPrompt.TURN_LEFT, 0.12, {**motion, "yaw_change": 0.09}, CONFIG.parallax, mark_decisive=True)
    assert enough.verdict is Verdict.PASS and enough.measures["decisive"] == 1.0
    wrong_way = {**motion, "yaw_change": 0.0, "yaw_away": 0.1}
    other = _verdict(MotionPrompt.TURN_LEFT, 0.12, wrong_way, CONFIG.parallax, mark_decisive=True)
    assert other.reasons == ("motion_wrong_direction",)


def test_parallax_needs_keyframes() -> None:
    result = parallax(_keyframes([0.0, 20.0], planar=False), MotionPrompt.TURN_LEFT, CONFIG.parallax)
    assert result.verdict is Verdict.INCONCLUSIVE


def _synthetic_series(
    challenge: Challenge,
    q: dict[str, float] | Callable[[int | None], dict[str, float]],
    noise: float,
    seed: int,
    shown: dict[int, npt.NDArray[np.float64]] | None = None,
) -> RegionSeries:
    """Region light of a surface whose screen-over-ambient irradiance is `q[region]` (default 0.5; `q` may also
    give it per colour step, None for white), at 30 fps, with multiplicative per-frame, per-region noise of relative
    size `noise`. `shown` replaces some steps' colours (RGB 0..1) with what the face actually received."""
    from openliveness.liveness.regions import REGION_NAMES

    rng = np.random.default_rng(seed)
    total = challenge.lead_in_ms + sum(s.duration_ms for s in challenge.steps) + 300
    times = np.arange(0.0, total, 1000 / 30)
    albedo = np.array([0.5, 0.35, 0.3])
    linear = np.empty((len(times), len(REGION_NAMES), 3))
    for i, t in enumerate(times):
        k = challenge.step_at(t - 40.0)
        colour = np.ones(3) if k is None else np.array(challenge.steps[k].color, dtype=np.float64) / 255.0
        if k is not None and shown and k in shown:
            colour = shown[k]
        q_now = q(k) if callable(q) else q
        for r, name in enumerate(REGION_NAMES):
            light = albedo * 0.2 * (1.0 + q_now.get(name, 0.5) * colour)
            linear[i, r] = light * (1.0 + noise * rng.standard_normal(3))
    luma = np.full(len(times), 120.0)
    return RegionSeries(times_ms=times, linear=linear, luma=luma, clipped=np.zeros(len(times)))


EDGE_NAMES = ("edge_left_upper", "edge_left_lower", "edge_right_upper", "edge_right_lower")
# A head recedes above and below its cheeks (forehead, jaw): 0.4 against the cheeks' 0.5, a curvature of 0.2 along.
HEAD_COLUMNS = dict.fromkeys((name for upper, _, lower in COLUMNS for name in (upper, lower)), 0.4)


@pytest.mark.parametrize(
    ("edge_left", "edge_right", "sheet"),
    # (0.2, 0.21): the outline at 0.4 of the centre, as curved prints of the report faces show; heads reach 0.31.
    [(0.1, 0.1, False), (0.1, 0.45, False), (0.15, 0.16, False), (0.2, 0.21, True), (0.4, 0.45, True)],
)
def test_flash_shape_refuses_an_outline_lit_like_the_centre(edge_left: float, edge_right: float, sheet: bool) -> None:
    """A sheet bent around a vertical axis matches a head's centre-to-cheek falloff, but goes on facing the screen
    at the face's outline, where a head turns away (or ends). One side lit (a shoulder, a hand) does not count."""
    challenge = make_challenge(8)
    q = {"side_left": 0.35, "side_right": 0.35, "edge_left_upper": edge_left, "edge_left_lower": edge_left}
    q |= HEAD_COLUMNS
    q |= {"edge_right_upper": edge_right, "edge_right_lower": edge_right}
    result = flash_shape(challenge, _synthetic_series(challenge, q, 0.0, 1), 0.0, CONFIG.flash)
    assert result.measures["relative_curvature"] == pytest.approx(0.3, abs=1e-6)
    assert result.measures["edge_ratio"] == pytest.approx(min(edge_left, edge_right) / 0.5, abs=1e-6)
    if sheet:
        assert result.verdict is Verdict.FAIL
        assert result.reasons == ("flash_shape_sheet",)
    else:
        assert result.verdict is Verdict.PASS


def test_a_flat_sheet_reports_both_readings() -> None:
    """Outline lit like the centre AND no curvature: both reasons, which fusion lets refuse after a turn."""
    challenge = make_challenge(8)
    q = {"side_left": 0.5, "side_right": 0.5} | {name: 0.45 for name in EDGE_NAMES}
    result = flash_shape(challenge, _synthetic_series(challenge, q, 0.0, 1), 0.0, CONFIG.flash)
    assert result.measures["relative_curvature"] == pytest.approx(0.0, abs=1e-6)
    assert result.verdict is Verdict.FAIL
    assert result.reasons == ("flash_shape_sheet", "flash_shape_flat")


@pytest.mark.parametrize(
    ("sides", "along", "reasons"),
    # Lit down the cheeks' columns like the cheeks (paper around a bottle): a sheet bent about one axis. Receding a
    # little less than the share asks (0.3 x 0.2 = 0.06 along): still a sheet; a head's 0.2 along passes. Between
    # the refusal's share and the pass's (0.066 and 0.072 are 0.22 and 0.24 of 0.3; session 16), neither: uncertain;
    # 0.09 (0.3 of it) passes.
    # Curved across a little (0.16, sides 0.42), 0.045 along (a sheet's reading from the screen's falloff) is 0.28 of
    # it, which the share alone let pass: under the floor (0.05), a sheet; 0.06 along is over the floor but under a
    # pass (0.07 since session 23: uncertain, with a head's share: `flash_shape_weak_along`); 0.08 along is a head's.
    [
        (0.35, 0.5, ("flash_shape_cylinder",)),
        (0.35, 0.48, ("flash_shape_cylinder",)),
        (0.35, 0.467, ("flash_shape_cylinder", "flash_shape_weak")),
        (0.35, 0.464, ("flash_shape_cylinder", "flash_shape_weak")),
        (0.35, 0.455, ()),
        (0.35, 0.4, ()),
        (0.42, 0.4775, ("flash_shape_cylinder",)),
        (0.42, 0.47, ("flash_shape_weak_along",)),
        (0.42, 0.46, ()),
    ],
)
def test_flash_shape_refuses_a_sheet_curved_across_only(sides: float, along: float, reasons: tuple[str, ...]) -> None:
    challenge = make_challenge(8)
    q = {"side_left": sides, "side_right": sides, **dict.fromkeys(EDGE_NAMES, 0.1)}
    q |= dict.fromkeys(HEAD_COLUMNS, along)
    result = flash_shape(challenge, _synthetic_series(challenge, q, 0.0, 1), 0.0, CONFIG.flash)
    assert result.measures["relative_curvature"] == pytest.approx((0.5 - sides) / 0.5, abs=1e-6)
    assert result.measures["vertical_curvature"] == pytest.approx((0.5 - along) / 0.5, abs=1e-6)
    assert result.reasons == reasons
    weak = {"flash_shape_weak", "flash_shape_weak_along"} & set(reasons)
    assert result.verdict is (Verdict.INCONCLUSIVE if weak else Verdict.FAIL if reasons else Verdict.PASS)


@pytest.mark.parametrize(
    ("ends", "slant", "passes"),
    # The columns' ends at `ends` (cheeks 0.5: 0.3 or 0.18 of curvature along, against 0.3 across), then raised on
    # one diagonal and lowered on the other by `slant`: a sheet bent about a slanted axis. A mixed term of 0.67 of
    # the curvature across refuses on its own (share 0.6); one of 0.5 leaves 0.4 - 0.25 of curvature along once
    # a sheet's share (its mixed term squared) is taken out, under 0.2; 1/3 leaves 0.29, over the pass's 0.25.
    [(0.4, 0.0, True), (0.4, 0.1, False), (0.44, 0.05, True), (0.44, 0.075, False)],
)
def test_flash_shape_refuses_a_sheet_bent_about_a_slanted_axis(ends: float, slant: float, passes: bool) -> None:
    challenge = make_challenge(8)
    (upper_left, _, jaw_left), (upper_right, _, jaw_right) = COLUMNS
    q = {"side_left": 0.35, "side_right": 0.35, **dict.fromkeys(EDGE_NAMES, 0.1)}
    q |= {upper_left: ends + slant, jaw_right: ends + slant, upper_right: ends - slant, jaw_left: ends - slant}
    result = flash_shape(challenge, _synthetic_series(challenge, q, 0.0, 1), 0.0, CONFIG.flash)
    assert result.measures["relative_curvature"] == pytest.approx(0.3, abs=1e-6)
    assert result.measures["vertical_curvature"] == pytest.approx((0.5 - ends) / 0.5, abs=1e-6)
    assert result.measures["mixed_curvature"] == pytest.approx(slant / 0.5, abs=1e-6)
    if passes:
        assert result.verdict is Verdict.PASS, result
    else:
        assert result.verdict is Verdict.FAIL
        assert result.reasons == ("flash_shape_cylinder",)


def test_a_noisy_diagonal_reading_does_not_refuse() -> None:
    """A head's mixed term that scatters from step to step (a noisy capture) counts only beyond two standard
    errors, so it does not refuse; counted whole (no margin), the same reading would. Steady readings (a bent
    sheet) keep their whole term: see the slanted-axis test above."""
    challenge = make_challenge(8)
    (upper_left, _, jaw_left), (upper_right, _, jaw_right) = COLUMNS
    slants = [0.25, -0.1, 0.2, -0.15, 0.3, 0.12, -0.05, 0.2]

    def q(step: int | None) -> dict[str, float]:
        slant = 0.0 if step is None else slants[step % len(slants)]
        base = {"side_left": 0.35, "side_right": 0.35, **dict.fromkeys(EDGE_NAMES, 0.1)}
        return base | {upper_left: 0.4 + slant, jaw_right: 0.4 + slant, upper_right: 0.4 - slant, jaw_left: 0.4 - slant}

    series = _synthetic_series(challenge, q, 0.0, 1)
    noisy = flash_shape(challenge, series, 0.0, CONFIG.flash)
    assert abs(noisy.measures["mixed_curvature"]) >= CONFIG.flash.shape_mixed_share * 0.3
    assert noisy.measures["mixed_se"] > 0.05
    assert noisy.verdict is Verdict.PASS, noisy
    without_margin = flash_shape(challenge, series, 0.0, replace(CONFIG.flash, shape_mixed_margin=0.0))
    assert without_margin.reasons == ("flash_shape_cylinder",)


def test_a_noisy_reading_along_the_face_does_not_refuse() -> None:
    """Columns lit like the cheeks on average (a sheet's reading along), but scattering from step to step by more
    than the share it is held to (a dark cap at the columns' top in a bright room): uncertain, not an attack. The
    same average read steadily refuses (the cylinder tests above)."""
    challenge = make_challenge(8)
    ends = [0.75, 0.25, 0.72, 0.28, 0.7, 0.3, 0.78, 0.22]

    def q(step: int | None) -> dict[str, float]:
        level = 0.5 if step is None else ends[step % len(ends)]
        return {
            "side_left": 0.35,
            "side_right": 0.35,
            **dict.fromkeys(EDGE_NAMES, 0.1),
            **dict.fromkeys(HEAD_COLUMNS, level),
        }

    noisy = flash_shape(challenge, _synthetic_series(challenge, q, 0.0, 1), 0.0, CONFIG.flash)
    assert noisy.measures["along_share"] < CONFIG.flash.shape_vertical_share
    assert noisy.measures["vertical_se"] >= CONFIG.flash.shape_vertical_share * noisy.measures["relative_curvature"]
    assert noisy.verdict is Verdict.INCONCLUSIVE
    assert noisy.reasons == ("flash_shape_cylinder", "flash_shape_noisy")


def test_the_reading_along_the_face_is_taken_on_the_columns_lit_skin() -> None:
    """A head (its columns recede at the ends) whose plain column means read flat, as a cap's sheen over the ends
    makes them read: flash shape takes the columns from `column_skin`, the ends' lit skin, and passes; the plain means
    alone refuse it as a sheet bent about one axis."""
    from openliveness.liveness.regions import REGION_NAMES

    challenge = make_challenge(8)
    q = {"side_left": 0.35, "side_right": 0.35, **dict.fromkeys(EDGE_NAMES, 0.1), **HEAD_COLUMNS}
    head = _synthetic_series(challenge, q, 0.0, 1)
    column_skin = head.regions(COLUMN_REGIONS).copy()
    linear = head.linear.copy()
    for upper, middle, lower in COLUMNS:
        for end in (upper, lower):
            linear[:, REGION_NAMES.index(end)] = linear[:, REGION_NAMES.index(middle)]
    plain = RegionSeries(times_ms=head.times_ms, linear=linear, luma=head.luma, clipped=head.clipped)
    lit = replace(plain, column_skin=column_skin)
    assert flash_shape(challenge, plain, 0.0, CONFIG.flash).reasons == ("flash_shape_cylinder",)
    result = flash_shape(challenge, lit, 0.0, CONFIG.flash)
    assert result.verdict is Verdict.PASS, result
    assert result.measures["vertical_curvature"] == pytest.approx(0.2, abs=0.01)


def test_a_sheet_reading_under_a_covered_forehead_does_not_refuse() -> None:
    """Columns read flat along the face, as on paper around a bottle: refused. The same reading with the columns'
    upper ends under dark cloth (a cap: the regions' light scaled down, which leaves every ratio, and so the reading,
    unchanged) is no evidence of a sheet: uncertain."""
    from openliveness.liveness.regions import REGION_NAMES

    challenge = make_challenge(8)
    q = {"side_left": 0.35, "side_right": 0.35, **dict.fromkeys(EDGE_NAMES, 0.1), **dict.fromkeys(HEAD_COLUMNS, 0.5)}
    bare = _synthetic_series(challenge, q, 0.0, 1)
    refused = flash_shape(challenge, bare, 0.0, CONFIG.flash)
    assert refused.verdict is Verdict.FAIL and refused.reasons == ("flash_shape_cylinder",)
    assert refused.measures["column_end_light"] == pytest.approx(1.0, abs=1e-6)
    linear = bare.linear.copy()
    for upper, _, _ in COLUMNS:
        linear[:, REGION_NAMES.index(upper)] *= 0.03
    capped = RegionSeries(times_ms=bare.times_ms, linear=linear, luma=bare.luma, clipped=bare.clipped)
    result = flash_shape(challenge, capped, 0.0, CONFIG.flash)
    assert result.measures["vertical_curvature"] == pytest.approx(refused.measures["vertical_curvature"], abs=1e-6)
    assert result.measures["column_end_light"] == pytest.approx(0.03, abs=1e-6)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.reasons == ("flash_shape_cylinder", "flash_shape_occluded")


@pytest.mark.parametrize(
    ("sides", "verdict", "reasons"),
    # The sides around the centre's 0.5, per step. Scattering by a third of it (a bright room's noise): the median
    # reads flat, but a pass lies within two standard errors. The same median read steadily still refuses.
    [
        (
            [0.3, 0.68, 0.32, 0.66, 0.49, 0.34, 0.64, 0.49],
            Verdict.INCONCLUSIVE,
            ("flash_shape_flat", "flash_shape_noisy"),
        ),
        ([0.49] * 8, Verdict.FAIL, ("flash_shape_flat",)),
    ],
)
def test_a_flat_reading_within_its_noise_does_not_refuse(
    sides: list[float], verdict: Verdict, reasons: tuple[str, ...]
) -> None:
    challenge = make_challenge(8)

    def q(step: int | None) -> dict[str, float]:
        side = 0.49 if step is None else sides[step % len(sides)]
        return {"side_left": side, "side_right": side, **dict.fromkeys(EDGE_NAMES, 0.1), **HEAD_COLUMNS}

    result = flash_shape(challenge, _synthetic_series(challenge, q, 0.0, 1), 0.0, CONFIG.flash)
    assert result.measures["relative_curvature"] < CONFIG.flash.shape_fail
    assert result.verdict is verdict, result
    assert result.reasons == reasons


@pytest.mark.parametrize(
    ("clipped", "verdict", "reasons"),
    # Saturated skin is measured on its darker pixels, which lean toward flat: a flat reading there is doubted.
    [
        (0.3, Verdict.FAIL, ("flash_shape_flat",)),
        (0.6, Verdict.INCONCLUSIVE, ("flash_shape_flat", "flash_shape_saturated")),
    ],
)
def test_a_flat_reading_on_saturated_skin_does_not_refuse(
    clipped: float, verdict: Verdict, reasons: tuple[str, ...]
) -> None:
    challenge = make_challenge(8)
    q = {"side_left": 0.49, "side_right": 0.49, **dict.fromkeys(EDGE_NAMES, 0.1), **HEAD_COLUMNS}
    series = _synthetic_series(challenge, q, 0.0, 1)
    series = replace(series, clipped=np.full(len(series.times_ms), clipped))
    result = flash_shape(challenge, series, 0.0, CONFIG.flash)
    assert result.measures["relative_curvature"] < CONFIG.flash.shape_fail
    assert result.verdict is verdict
    assert result.reasons == reasons


@pytest.mark.parametrize(
    ("other", "mix", "passes"),
    # A magenta step received as 36 % yellow: nearer another colour, but still at cosine 0.83 of its own (a
    # misread). All red: another colour (cosine 0.5). Seed 8's fourth step is magenta.
    [((1.0, 1.0, 0.0), 0.36, True), ((1.0, 0.0, 0.0), 1.0, False)],
)
def test_flash_timing_excuses_one_misread_step_when_six_agree(
    other: tuple[float, float, float], mix: float, passes: bool
) -> None:
    challenge = make_challenge(8)
    own = np.array(challenge.steps[3].color, dtype=np.float64) / 255.0
    assert tuple(own) == (1.0, 0.0, 1.0)
    shown = {3: (1.0 - mix) * own + mix * np.array(other)}
    series = _synthetic_series(challenge, {**dict.fromkeys(BESIDE, 0.02), "background": 0.02}, 0.0, 1, shown)
    result = flash_timing(challenge, series, CONFIG.flash).result
    assert result.measures["steps"] == 7
    assert result.measures["steps_disagreeing"] == 1
    if passes:
        assert result.measures["steps_min_cosine"] >= CONFIG.flash.step_excused_min_cosine
        assert result.verdict is Verdict.PASS
    else:
        assert result.verdict is Verdict.INCONCLUSIVE
        assert result.reasons == ("flash_steps_weak",)


def test_flash_shape_curvature_and_its_standard_error_on_known_irradiance() -> None:
    challenge = make_challenge(8)
    # Centre regions 0.5, sides 0.35: relative curvature (0.5 - 0.35) / 0.5 = 0.3 exactly, whatever the albedo.
    # The outline turns away to a grazing angle (0.1).
    q = {"side_left": 0.35, "side_right": 0.35, **dict.fromkeys(EDGE_NAMES, 0.1), **HEAD_COLUMNS}
    clean = flash_shape(challenge, _synthetic_series(challenge, q, 0.0, 1), 0.0, CONFIG.flash)
    assert clean.verdict is Verdict.PASS
    assert clean.measures["relative_curvature"] == pytest.approx(0.3, abs=1e-6)
    assert clean.measures["vertical_curvature"] == pytest.approx(0.2, abs=1e-6)
    assert clean.measures["curvature_se"] == pytest.approx(0.0, abs=1e-6)
    # The standard error grows with the measurement noise (about 0.006 at 3 % per-frame noise).
    errors = [
        flash_shape(challenge, _synthetic_series(challenge, q, noise, 1), 0.0, CONFIG.flash).measures["curvature_se"]
        for noise in (0.005, 0.03)
    ]
    assert errors[1] > 0.003
    assert errors[1] > 3 * errors[0]
    # A plane (every region lit alike) is flat.
    flat = flash_shape(challenge, _synthetic_series(challenge, {}, 0.0, 1), 0.0, CONFIG.flash)
    assert flat.verdict is Verdict.FAIL
    assert flat.measures["relative_curvature"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    ("clipped", "luma", "reasons"),
    [(0.8, 238.0, ()), (0.9, 200.0, ("clipped",)), (0.5, 243.0, ("too_bright",)), (0.0, 30.0, ("too_dark",))],
)
def test_saturation_gates_leave_faces_that_are_still_measured(
    clipped: float, luma: float, reasons: tuple[str, ...]
) -> None:
    """Regions are measured per channel on their darkest unsaturated tenth, so a face with four in five skin pixels
    clipped in some channel (a light face lit by the screen before a dark room) or white-lit luma 238 is judged,
    not refused (the gates were 70 % and 235); beyond 85 % or luma 240 too little is left."""
    from openliveness.liveness.gates import quality_gates
    from openliveness.liveness.tracking import FaceTrack

    challenge = make_challenge(8)
    series = _synthetic_series(challenge, {}, 0.0, 1)
    n = len(series.times_ms)
    series = replace(series, luma=np.full(n, luma), clipped=np.full(n, clipped))
    frames = [CaptureFrame(np.zeros((8, 8, 3), np.uint8), float(t), None) for t in series.times_ms]
    points = head_points(0.0, 6.0, planar=False, shift=0.8)
    keyframes = tuple(keyframe_at(i, points) for i in range(0, len(frames), 10))
    track = FaceTrack(landmarks=np.repeat(points[None], len(frames), axis=0), keyframes=keyframes)
    result = quality_gates(challenge, frames, track, series, CONFIG.quality)
    assert result.reasons == reasons
