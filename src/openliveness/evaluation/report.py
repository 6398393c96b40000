"""Report folders: DET curve, score histograms and decision bars (PNG), per-bundle CSV, HTML page, summary JSON."""

from __future__ import annotations

import csv
import html
import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

from .metrics import ATTACK_SPECIES, BONA_FIDE, PadMetrics, Rate, VerifyMetrics, pad_metrics, roc_curve
from .pairs import PairResult
from .runner import BundleResult

__all__ = ["pad_summary", "verify_summary", "write_pad_report", "write_verify_report"]

_COLORS = {
    BONA_FIDE: "#1a7f37",
    "print": "#cf222e",
    "replay": "#8250df",
    "mask": "#bc4c00",
    "injection": "#0969da",
    "other": "#6e7781",
}
_DECISION_COLORS = {"realface": "#1a7f37", "uncertain": "#d4a72c", "spoofface": "#cf222e"}


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("reports need matplotlib: pip install 'openliveness[eval]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f} %"


def _rate_cell(rate: Rate) -> str:
    low, high = rate.interval
    if rate.total == 0:
        return "n/a (no samples)"
    return f"<b>{_pct(rate.value)}</b> ({rate.errors}/{rate.total}; 95 % CI {_pct(low)} to {_pct(high)})"


# --- presentation attack detection -----------------------------------------------------------------------------


def pad_summary(results: Sequence[BundleResult], metrics: PadMetrics) -> dict[str, Any]:
    errors = [r for r in results if r.error]
    summary = {"kind": "presentation_attack_detection", "bundles": len(results), "unreadable_bundles": len(errors)}
    summary.update(metrics.to_json())
    summary["median_seconds_per_bundle"] = (
        float(np.median([r.seconds for r in results if not r.error])) if len(errors) < len(results) else None
    )
    return summary


def _probit(p: np.ndarray, floor: float) -> np.ndarray:
    nd = NormalDist()
    return np.array([nd.inv_cdf(min(max(float(v), floor), 1 - floor)) for v in p])


def _det_plot(results: Sequence[BundleResult], metrics: PadMetrics, path: Path) -> None:
    plt = _pyplot()
    scored = [r for r in results if not r.error]
    bona = np.array([-math.inf if r.score is None else r.score for r in scored if r.label == BONA_FIDE])
    fig, ax = plt.subplots(figsize=(7, 6.2))
    n_min = max(2, min([len(bona)] + [r.total for r in metrics.apcer.values()] or [2]))
    floor = min(0.001, 1 / (2 * n_min))
    ticks = [t for t in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95) if t >= floor]
    for species, rate in metrics.apcer.items():
        attack = np.array([-math.inf if r.score is None else r.score for r in scored if r.label == species])
        if not bona.size:
            break
        finite = np.concatenate([bona, attack])
        thresholds = np.unique(np.concatenate([finite[np.isfinite(finite)], [-math.inf, math.inf]]))
        apcer = np.array([np.mean(attack >= t) for t in thresholds])
        bpcer = np.array([np.mean(bona < t) for t in thresholds])
        color = _COLORS.get(species, "#333")
        separated = bool(attack.size and bona.size and attack.max() < bona.min())
        note = ": fully separated (curve runs along the axes)" if separated else ""
        style = ("-", "--", "-.", ":", (0, (5, 1)))[list(metrics.apcer).index(species) % 5]
        ax.step(
            _probit(apcer, floor),
            _probit(bpcer, floor),
            where="post",
            color=color,
            lw=2.2,
            ls=style,
            label=f"{species} (n={rate.total}), weakest-signal score{note}",
        )
        # The engine's actual operating point (its decisions, not a score threshold).
        if rate.value is not None and metrics.bpcer.value is not None:
            ax.plot(
                _probit(np.array([rate.value]), floor),
                _probit(np.array([metrics.bpcer.value]), floor),
                "o",
                color=color,
                ms=10,
                mec="black",
                label=f"engine decision: APCER {_pct(rate.value)}",
            )
    ax.set_xticks(_probit(np.array(ticks), floor), [f"{100 * t:g}" for t in ticks])
    ax.set_yticks(_probit(np.array(ticks), floor), [f"{100 * t:g}" for t in ticks])
    lim = (_probit(np.array([floor]), floor)[0] - 0.1, _probit(np.array([0.97]), floor)[0])
    ax.set_xlim(*lim)
    ax.set_ylim(*lim)
    ax.grid(True, alpha=0.4)
    ax.set_xlabel("APCER (%): attacks accepted  →  worse security")
    ax.set_ylabel("BPCER (%): genuine users not accepted  →  worse usability")
    ax.set_title(
        f"DET curve per attack species (bona fide n={len(bona)})\n"
        f"points on the lower-left edge mean 0 errors (drawn at {100 * floor:g} %)",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _score_plot(results: Sequence[BundleResult], path: Path) -> None:
    plt = _pyplot()
    scored = [r for r in results if not r.error]
    labels = [s for s in ATTACK_SPECIES if any(r.label == s for r in scored)] or [BONA_FIDE]
    fig, axes = plt.subplots(len(labels), 1, figsize=(7.5, 2.3 * len(labels) + 0.6), squeeze=False, sharex=True)
    bins = np.linspace(0, 1, 41)
    bona = [0.0 if r.score is None else r.score for r in scored if r.label == BONA_FIDE]
    for ax, species in zip(axes[:, 0], labels, strict=True):
        if bona:
            ax.hist(bona, bins=bins, color=_COLORS[BONA_FIDE], alpha=0.55, label=f"bona fide (n={len(bona)})")
        if species != BONA_FIDE:
            attack = [0.0 if r.score is None else r.score for r in scored if r.label == species]
            accepted = sum(r.decision == "realface" for r in scored if r.label == species)
            ax.hist(
                attack,
                bins=bins,
                color=_COLORS[species],
                alpha=0.55,
                label=f"{species} (n={len(attack)}, {accepted} accepted)",
            )
        ax.set_ylabel("bundles")
        ax.legend(fontsize=8, loc="upper center")
        ax.grid(True, alpha=0.3)
    axes[-1, 0].set_xlabel("weakest signal score (0 = attack-like, 1 = live-like)")
    fig.suptitle("Score distributions: bona fide vs each attack species (overlap = hard to separate)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _decision_plot(results: Sequence[BundleResult], path: Path) -> None:
    plt = _pyplot()
    scored = [r for r in results if not r.error]
    labels = [lab for lab in (BONA_FIDE, *ATTACK_SPECIES) if any(r.label == lab for r in scored)]
    fig, ax = plt.subplots(figsize=(8.2, 0.55 * max(len(labels), 1) + 1.4))
    for row, lab in enumerate(labels):
        group = [r for r in scored if r.label == lab]
        left = 0.0
        for decision, color in _DECISION_COLORS.items():
            share = sum(r.decision == decision for r in group) / len(group)
            ax.barh(row, share, left=left, color=color, label=decision if row == 0 else None)
            if share >= 0.06:
                ax.text(
                    left + share / 2,
                    row,
                    f"{100 * share:.0f}%",
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=9,
                    fontweight="bold",
                )
            left += share
        accepted = sum(r.decision == "realface" for r in group)
        if lab != BONA_FIDE:
            ax.text(
                1.01,
                row,
                f"{accepted} accepted",
                va="center",
                fontsize=9,
                color="#cf222e" if accepted else "#57606a",
                fontweight="bold" if accepted else "normal",
            )
    ax.set_yticks(range(len(labels)), [f"{lab} (n={sum(r.label == lab for r in scored)})" for lab in labels])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of bundles; green on an attack row = attack accepted (APCER)")
    ax.legend(ncol=3, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _write_bundle_csv(results: Sequence[BundleResult], path: Path) -> None:
    signals = sorted({k for r in results for k in r.scores})
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["bundle", "label", "decision", "correct", "score", *signals, "reasons", "source", "error", "path"])
        for r in results:
            correct = "" if r.error else str((r.decision == "realface") == (r.label == BONA_FIDE)).lower()
            w.writerow(
                [
                    r.name,
                    r.label,
                    r.decision,
                    correct,
                    "" if r.score is None else f"{r.score:.4f}",
                    *[f"{r.scores[s]:.4f}" if s in r.scores else "" for s in signals],
                    " ".join(r.reasons),
                    r.source,
                    r.error,
                    r.path,
                ]
            )


_CSS = """body{font-family:system-ui,sans-serif;max-width:1180px;margin:24px auto;padding:0 16px;color:#1f2328}
table{border-collapse:collapse;margin:8px 0 18px}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left;
font-size:14px}th{background:#f6f8fa}.bad{background:#ffebe9}.warn{background:#fff8c5}.ok{background:#dafbe1}
.big{font-size:20px}.note{color:#57606a;font-size:13px}
img{max-width:100%;height:auto;border:1px solid #d0d7de;margin:6px 0}
.grid{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}.grid img{max-width:560px}
code{background:#f6f8fa;padding:1px 4px}"""


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _cls(rate: Rate, warn: float, bad: float) -> str:
    v = rate.value
    return "" if v is None else "bad" if v >= bad else "warn" if v >= warn else "ok"


def _small_sample_note(rate: Rate) -> str:
    if rate.total == 0:
        return "no samples: this figure is unknown, not zero"
    high = rate.interval[1]
    return f"rests on {rate.total} samples: the true rate may be as high as {_pct(high)}"


def write_pad_report(results: Sequence[BundleResult], out: Path, *, dataset: str = "") -> dict[str, Any]:
    """Write the report folder and return the summary (the `--json` object)."""
    out.mkdir(parents=True, exist_ok=True)
    readable = [r for r in results if not r.error]
    metrics = pad_metrics(r.outcome() for r in readable)
    summary = pad_summary(results, metrics)
    summary["report"] = str(out / "report.html")
    _write_bundle_csv(results, out / "bundles.csv")
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    if readable:
        _det_plot(results, metrics, out / "det.png")
        _score_plot(results, out / "scores.png")
        _decision_plot(results, out / "decisions.png")

    worst = metrics.max_apcer
    rows = []
    for species, rate in metrics.apcer.items():
        unc = metrics.uncertain_by_label[species]
        rows.append(
            f"<tr class={_cls(rate, 0.01, 0.05)}><td>{species}</td><td>{rate.total}</td><td>{rate.errors}</td>"
            f"<td>{_rate_cell(rate)}</td><td>{_pct(unc.value)}</td><td class=note>{_small_sample_note(rate)}"
            "</td></tr>"
        )
    missing = [s for s in ATTACK_SPECIES if s not in metrics.apcer]
    missing_note = (
        f"<p class=note>No samples of: {', '.join(missing)}. Their APCER is unknown: test them before claiming "
        "protection.</p>"
        if missing
        else ""
    )
    bp = metrics.bpcer
    unc_bona = metrics.uncertain_by_label.get(BONA_FIDE, Rate(0, 0))
    headline = f"""
<table class=big>
<tr><th>APCER, worst species</th><td class={_cls(worst[1], 0.01, 0.05) if worst else ""}>
{"n/a (no attacks)" if worst is None else f"{_pct(worst[1].value)} ({worst[0]}, {worst[1].errors}/{worst[1].total})"}
</td></tr>
<tr><th>BPCER</th><td class={_cls(bp, 0.05, 0.2)}>{_rate_cell(bp)}</td></tr>
<tr><th>ACER (2017 edition)</th><td>{_pct(metrics.acer)}</td></tr>
<tr><th>False accepts (attacks accepted)</th><td class={"bad" if metrics.false_accepts else "ok"}>
{metrics.false_accepts} of {metrics.attacks} attacks</td></tr>
<tr><th>Uncertain (user asked to retry)</th><td>{_rate_cell(metrics.uncertain)} of all bundles</td></tr>
<tr><th>Accuracy</th><td>{_pct(metrics.correct.value)} ({metrics.correct.errors}/{metrics.correct.total})</td></tr>
</table>"""

    def threshold_cell(t: float | None) -> str:
        if t is None:
            return "n/a (needs bona fide and attacks)"
        return (
            "none: an attack scores above every genuine user; only refusing all meets it"
            if math.isinf(t)
            else f"{t:.3f}"
        )

    points = "".join(
        f"<tr><td>{_pct(p)}</td><td>{_pct(b)}</td><td>{threshold_cell(t)}</td></tr>"
        for p, (b, t) in sorted(metrics.bpcer_at_apcer.items())
    )
    accepted = [r for r in readable if r.label != BONA_FIDE and r.decision == "realface"]
    fa_rows = (
        "".join(
            f"<tr class=bad><td>{html.escape(r.name)}</td><td>{r.label}</td><td>{html.escape(r.source)}</td>"
            f"<td>{'' if r.score is None else f'{r.score:.3f}'}</td>"
            f"<td>{html.escape(', '.join(f'{k} {v:.2f}' for k, v in r.scores.items()))}</td></tr>"
            for r in accepted[:200]
        )
        or "<tr><td colspan=5>none</td></tr>"
    )
    reason_rows = []
    for lab in (BONA_FIDE, *metrics.apcer):
        counts = Counter(x for r in readable if r.label == lab for x in r.reasons)
        top = ", ".join(f"<code>{html.escape(k)}</code> {v}" for k, v in counts.most_common(6))
        reason_rows.append(f"<tr><td>{lab}</td><td>{top or '-'}</td></tr>")
    errors = [r for r in results if r.error]
    error_html = "".join(f"<li>{html.escape(r.error)}</li>" for r in errors[:50])
    body = f"""
<p>Dataset <code>{html.escape(dataset)}</code>: {len(results)} bundles ({bp.total} bona fide, {metrics.attacks}
attacks{f", <b>{len(errors)} unreadable and left out</b>" if errors else ""}). Figures follow ISO/IEC 30107-3:
<b>APCER</b> = share of attack presentations of one species <i>accepted</i> as live (the security figure; the
worst species counts); <b>BPCER</b> = share of genuine (bona fide) presentations <i>not</i> accepted, whether refused
or <code>uncertain</code> (the usability figure). Brackets give 95 % Wilson intervals: with few samples a
0 % APCER only bounds the true rate from above.</p>
{headline}
<h2>Per attack species</h2>
<table><tr><th>species</th><th>attacks</th><th>accepted</th><th>APCER</th><th>uncertain</th><th>how firm</th></tr>
{"".join(rows)}
<tr class={_cls(bp, 0.05, 0.2)}><td><b>bona fide</b></td><td>{bp.total}</td><td>{bp.total - bp.errors}</td>
<td>BPCER {_rate_cell(bp)}</td><td>{_pct(unc_bona.value)}</td><td class=note>{_small_sample_note(bp)}</td></tr>
</table>
{missing_note}
<div class=grid><img src=decisions.png alt="decisions per label"><img src=det.png alt="DET curve"></div>
<h2>Trade-off: BPCER at fixed APCER</h2>
<p class=note>If the engine accepted every presentation whose weakest signal score is at least the threshold, this is
the share of genuine users refused while no attack species exceeds the APCER point. The engine decides with
per-signal rules, not one threshold; this shows how much margin the scores leave.</p>
<table><tr><th>APCER at most</th><th>BPCER</th><th>score threshold</th></tr>{points}</table>
<img src=scores.png alt="score histograms">
<h2>Accepted attacks (review these first)</h2>
<table><tr><th>bundle</th><th>species</th><th>source</th><th>score</th><th>signal scores</th></tr>{fa_rows}</table>
<h2>Most frequent reasons</h2>
<table><tr><th>label</th><th>reasons (count)</th></tr>{"".join(reason_rows)}</table>
{f"<h2>Unreadable bundles</h2><ul>{error_html}</ul>" if errors else ""}
<p>Every bundle with its scores and reasons: <a href=bundles.csv>bundles.csv</a>; figures as JSON:
<a href=summary.json>summary.json</a>. Score = the weakest signal's score (the engine needs every required
signal to pass).</p>"""
    (out / "report.html").write_text(_page("OpenLiveness evaluation: liveness (presentation attack detection)", body))
    return summary


# --- verification -------------------------------------------------------------------------------------------------


def verify_summary(results: Sequence[PairResult], metrics: VerifyMetrics) -> dict[str, Any]:
    summary: dict[str, Any] = {"kind": "verification", "pairs_in_csv": len(results)}
    summary["pairs_without_face"] = sum(1 for r in results if r.error)
    summary.update(metrics.to_json())
    return summary


def write_verify_report(
    results: Sequence[PairResult], metrics: VerifyMetrics, out: Path, *, dataset: str = ""
) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    summary = verify_summary(results, metrics)
    summary["report"] = str(out / "report.html")
    with (out / "pairs.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file_x", "file_y", "same_person", "distance", "match_confidence", "accepted", "correct", "error"])
        for r in results:
            acc = "" if r.confidence is None else r.confidence >= metrics.threshold
            w.writerow(
                [
                    r.pair.x,
                    r.pair.y,
                    r.pair.same,
                    "" if r.distance is None else f"{r.distance:.4f}",
                    "" if r.confidence is None else f"{r.confidence:.6f}",
                    acc,
                    "" if acc == "" else acc == r.pair.same,
                    r.error,
                ]
            )
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    scored = [r for r in results if r.distance is not None]
    gd = np.array([r.distance for r in scored if r.pair.same], dtype=np.float64)
    idist = np.array([r.distance for r in scored if not r.pair.same], dtype=np.float64)
    from openliveness.vision import confidence_to_distance

    d_thr = confidence_to_distance(metrics.threshold)
    if gd.size and idist.size:
        plt = _pyplot()
        far, tar, _ = roc_curve(-gd, -idist)  # on distances: confidences saturate
        fig, ax = plt.subplots(figsize=(7, 5.5))
        floor = 1 / (2 * idist.size)
        ax.step(np.maximum(far, floor), tar, where="post", color="#0969da", lw=2, label="ROC (threshold swept)")
        op_far = max(metrics.false_accepts.value or 0.0, floor)
        ax.plot(
            [op_far],
            [1 - (metrics.false_rejects.value or 0.0)],
            "o",
            ms=10,
            color="#cf222e",
            mec="black",
            label=f"default threshold (confidence {metrics.threshold}): FAR {_pct(metrics.false_accepts.value)}, "
            f"TAR {_pct(1 - (metrics.false_rejects.value or 0.0))}",
        )
        ax.axvline(1 / idist.size, color="#6e7781", ls=":", label=f"1 impostor pair = {_pct(1 / idist.size, 2)} FAR")
        ax.set_xscale("log")
        ax.set_xlim(floor * 0.8, 1.05)
        tar_op = 1 - (metrics.false_rejects.value or 0.0)
        ax.set_ylim(max(0.0, min(0.9, tar_op - 0.05)), 1.004)  # zoomed: the interesting part is near the top
        ax.set_xlabel(f"FAR: impostor pairs accepted (log; 0 drawn at {100 * floor:.2g} %)")
        ax.set_ylabel("TAR: genuine pairs accepted (axis zoomed)")
        ax.set_title(f"ROC: {gd.size} genuine, {idist.size} impostor pairs (upper left is better)", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        fig.savefig(out / "roc.png", dpi=110)
        plt.close(fig)

        fig, ax = plt.subplots(figsize=(7.5, 4))
        bins = np.linspace(0, max(1.2, float(max(gd.max(), idist.max())) + 0.05), 49)
        ax.hist(gd, bins=bins, color="#1a7f37", alpha=0.6, label=f"same person (n={gd.size})")
        ax.hist(idist, bins=bins, color="#cf222e", alpha=0.6, label=f"different people (n={idist.size})")
        ax.axvline(d_thr, color="black", ls="--", label=f"default threshold: distance {d_thr:.3f} (accept left of it)")
        ax.set_xlabel("embedding distance (lower = more alike)")
        ax.set_ylabel("pairs")
        ax.legend(fontsize=8)
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "scores.png", dpi=110)
        plt.close(fig)

    fa = [r for r in scored if not r.pair.same and (r.confidence or 0.0) >= metrics.threshold]
    fr = [r for r in scored if r.pair.same and (r.confidence or 0.0) < metrics.threshold]

    def pair_rows(rows: list[PairResult]) -> str:
        return (
            "".join(
                f"<tr><td>{html.escape(r.pair.x.name)}</td><td>{html.escape(r.pair.y.name)}</td>"
                f"<td>{r.distance:.3f}</td><td>{r.confidence:.4f}</td></tr>"
                for r in rows[:100]
                if r.distance is not None and r.confidence is not None
            )
            or "<tr><td colspan=4>none</td></tr>"
        )

    n_imp = metrics.false_accepts.total
    strict = f"with {n_imp} impostor pairs this means no false accept at all"
    tar_rows = "".join(
        f"<tr><td>{_pct(p, 2)}</td><td>{_pct(tar)}</td><td>{t:.4f}</td>"
        f"<td class=note>{strict if p * n_imp < 1 else ''}</td></tr>"
        for p, (tar, t) in sorted(metrics.tar_at_far.items())
    )
    no_face = [r for r in results if r.error]
    body = f"""
<p>Pairs <code>{html.escape(dataset)}</code>: {len(results)} pairs, {metrics.false_rejects.total} same person,
{metrics.false_accepts.total} different people{f", <b>{len(no_face)} left out (no usable face)</b>" if no_face else ""}.
A pair is accepted when <code>match_confidence &ge; {metrics.threshold}</code> (the default threshold; distance
&le; {d_thr:.3f}). <b>FAR</b> = impostor pairs accepted (the security figure), <b>FRR</b> = genuine pairs refused.
With n impostor pairs FAR is resolved only to 1/n: 0 false accepts bounds FAR by the interval shown, no lower.</p>
<table class=big>
<tr><th>False accepts</th><td class={"bad" if metrics.false_accepts.errors else "ok"}>
{_rate_cell(metrics.false_accepts)}</td></tr>
<tr><th>False rejects</th><td>{_rate_cell(metrics.false_rejects)}</td></tr>
<tr><th>Accuracy</th><td>{_pct(metrics.correct.value)} ({metrics.correct.errors}/{metrics.correct.total})</td></tr>
<tr><th>EER</th><td>{_pct(metrics.eer)}{
        "" if metrics.eer_threshold is None else f" (at distance {-metrics.eer_threshold:.3f})"
    }</td></tr>
</table>
<h2>TAR at fixed FAR</h2>
<table><tr><th>FAR at most</th><th>TAR</th><th>confidence threshold</th><th></th></tr>{tar_rows}</table>
<div class=grid><img src=roc.png alt="ROC"><img src=scores.png alt="distance histograms"></div>
<h2>False accepts at the default threshold</h2>
<table><tr><th>file x</th><th>file y</th><th>distance</th><th>confidence</th></tr>{pair_rows(fa)}</table>
<h2>False rejects at the default threshold</h2>
<table><tr><th>file x</th><th>file y</th><th>distance</th><th>confidence</th></tr>{pair_rows(fr)}</table>
{
        "<h2>Pairs left out</h2><ul>" + "".join(f"<li>{html.escape(r.error)}</li>" for r in no_face[:50]) + "</ul>"
        if no_face
        else ""
    }
<p>Every pair: <a href=pairs.csv>pairs.csv</a>; figures as JSON: <a href=summary.json>summary.json</a>.</p>"""
    (out / "report.html").write_text(_page("OpenLiveness evaluation: face verification", body))
    return summary
