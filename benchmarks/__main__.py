"""``python -m benchmarks [--quick] [--json PATH]``: the table, and optionally its JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict

from benchmarks.figures import FIGURES, Figure


def _row(figure: Figure) -> str:
    baseline = "—" if figure.baseline is None else f"{figure.baseline:,.1f}"
    ratio = "—" if figure.ratio is None else f"{figure.ratio:.2f}x"
    verdict = {True: "met", False: "NOT MET", None: "report"}[figure.met]
    return (
        f"{figure.name:<48} {figure.ours:>12,.1f} {baseline:>12} {ratio:>7}  "
        f"{figure.unit:<13} {figure.target:<9} {verdict}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke mode: small counts (CI)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    header = (
        f"{'figure':<48} {'ours':>12} {'baseline':>12} {'ratio':>7}  {'unit':<13} {'target':<9}"
    )
    print(header, "verdict")
    figures = []
    for measure in FIGURES:
        start = time.perf_counter()
        measured = measure(args.quick)
        took = f"({time.perf_counter() - start:.0f} s)"
        for figure in measured if isinstance(measured, list) else [measured]:
            figures.append(figure)
            print(_row(figure), took, flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"quick": args.quick, "figures": [asdict(f) for f in figures]}, out, indent=2)
    if args.quick:  # smoke mode checks that the benchmarks run; its counts are too small to judge
        return 0
    return 0 if all(f.met is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
