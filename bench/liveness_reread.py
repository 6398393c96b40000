"""Re-read kept captures in-process: the decision, reasons and every signal's measures of each pickle in DIR.

The pickles are `bench/liveness_tune.py`'s cache records, or the wrong decisions `bench/liveness_accuracy.py --keep`
wrote (those also hold the server's decision, printed beside the in-process one: they should agree). Run it with
another checkout on PYTHONPATH to see how a change reads the same captures.

    python bench/liveness_reread.py DIR [--signal flash_shape] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from liveness_tune import _evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--signal", action="append", help="print only these signals' measures (repeatable)")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args()
    paths = sorted(str(p) for p in Path(args.directory).glob("*.pkl"))
    if not paths:
        sys.exit(f"no .pkl captures in {args.directory}")
    rows = []
    for path in paths:
        row = _evaluate(path)
        server = row["server"]
        rows.append(row)
        told = f" (server: {server['decision']})" if server else ""
        print(
            f"{Path(path).name}: {row['species']}/{row['variant'] or '-'} {row['mode']} {row['face']} "
            f"ambient {row['ambient']:.2f} face {row['face_size']:.2f} -> {row['decision']}{told} "
            f"{', '.join(row['reasons'])}"
        )
        for name, measures in row["measures"].items():
            if args.signal and name not in args.signal:
                continue
            listed = ", ".join(f"{k} {v:.3g}" for k, v in measures.items())
            print(f"    {name:16s} {row['verdicts'][name]:12s} {listed}")
    agree = sum(r["server"]["decision"] == r["decision"] for r in rows if r["server"])
    told = sum(bool(r["server"]) for r in rows)
    if told:
        print(f"in-process decision equals the server's for {agree} of {told}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, default=float))


if __name__ == "__main__":
    main()
