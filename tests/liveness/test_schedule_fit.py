"""The schedule fit's reduced model, computed once for the offset search, is the one the fit would compute."""

from __future__ import annotations

import numpy as np
import pytest

from openliveness.liveness.signals.schedule_fit import fit_schedule, reduced_rss


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_precomputed_reduced_model_gives_the_same_fit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0.0, 4000.0, 40))
    expected = rng.random((40, 3))
    observed = np.exp(0.3 * expected + rng.normal(0.0, 0.05, (40, 3)) + 0.2 * times[:, None] / 4000.0)
    observed[5] = np.nan  # an untracked frame
    plain = fit_schedule(observed, times, expected)
    reused = fit_schedule(observed, times, expected, rss_reduced=reduced_rss(observed, times))
    assert plain is not None and reused is not None
    assert reused.r2 == pytest.approx(plain.r2, abs=1e-9)
    assert 0.5 < plain.r2 < 1.0
    assert reduced_rss(observed[:6], times[:6]) is None
