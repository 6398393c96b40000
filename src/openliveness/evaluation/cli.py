"""`openliveness eval` and `openliveness eval-verify`: run a dataset, write the report, print the figures."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["eval_main", "eval_verify_main"]


def _print_summary(summary: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(summary))
    else:
        print("\n".join(lines))


def _pct(v: Any) -> str:
    return "n/a" if v is None else f"{100 * v:.2f} %"


def eval_main(args: argparse.Namespace) -> int:
    from .bundle import BundleError, find_bundles
    from .report import write_pad_report
    from .runner import run_dataset

    try:
        paths = find_bundles(args.dataset)
    except BundleError as exc:
        print(f"openliveness eval: {exc}", file=sys.stderr)
        return 2
    if not paths:
        print(f"openliveness eval: no bundles in {args.dataset} (see docs/evaluation.md)", file=sys.stderr)
        return 2
    results = run_dataset(paths, jobs=args.jobs, progress=not args.no_progress)
    summary = write_pad_report(results, args.out, dataset=str(args.dataset))
    apcer = ", ".join(f"{s} {_pct(r['value'])} ({r['errors']}/{r['total']})" for s, r in summary["apcer"].items())
    b = summary["bpcer"]
    _print_summary(
        summary,
        args.json,
        [
            f"bundles: {summary['bundles']} ({summary['bona_fide']} bona fide, {summary['attacks']} attacks,"
            f" {summary['unreadable_bundles']} unreadable)",
            f"APCER: {apcer or 'no attacks'}; worst {_pct(summary['apcer_max'])}",
            f"BPCER: {_pct(b['value'])} ({b['errors']}/{b['total']}); ACER {_pct(summary['acer'])};"
            f" uncertain {_pct(summary['uncertain_share'])}",
            f"report: {summary['report']}",
        ],
    )
    return 0


def eval_verify_main(args: argparse.Namespace) -> int:
    from openliveness.vision import DEFAULT_VERIFY_CONFIDENCE_THRESHOLD, FaceAnalyzer

    from .pairs import read_pairs, score_pairs, verify_pair_metrics
    from .report import write_verify_report

    try:
        pairs = read_pairs(args.pairs)
    except (OSError, ValueError, KeyError) as exc:
        print(f"openliveness eval-verify: {exc}", file=sys.stderr)
        return 2
    threshold = DEFAULT_VERIFY_CONFIDENCE_THRESHOLD if args.threshold is None else args.threshold
    results = score_pairs(pairs, FaceAnalyzer.load())
    metrics = verify_pair_metrics(results, threshold)
    summary = write_verify_report(results, metrics, args.out, dataset=str(args.pairs))
    tar = "; ".join(f"TAR at FAR <= {_pct(t['far'])}: {_pct(t['tar'])}" for t in summary["tar_at_far"])
    _print_summary(
        summary,
        args.json,
        [
            f"pairs: {summary['pairs']} ({summary['genuine_pairs']} same, {summary['impostor_pairs']} different,"
            f" {summary['pairs_without_face']} without a face)",
            f"threshold {threshold}: accuracy {_pct(summary['accuracy'])}, false accepts {summary['false_accepts']},"
            f" false rejects {summary['false_rejects']}",
            f"{tar}; EER {_pct(summary['eer'])}",
            f"report: {summary['report']}",
        ],
    )
    return 0
