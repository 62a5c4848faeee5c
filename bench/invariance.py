"""Benchmark: the three invariance steps by full-information ML and listwise, against lavaan.

Usage (from the repository root)::

    .venv/bin/python bench/invariance.py            # this engine only
    .venv/bin/python bench/invariance.py --vs-r     # and lavaan on the same files, in this run

Data: psych's bfi (tests/analysis/reference/bfi.csv: 2,800 people, two factors of five items,
211 answers missing, by gender) and lavaan's HolzingerSwineford1939 with answers deleted
(holzinger.csv: 301 pupils, three factors of three items, by school). Each run fits the
configural, metric and scalar models (with standard errors) from a DataFrame; reading the
file is not timed. lavaan: the three cfa() calls with missing = "ml" (its defaults) timed
inside R. The best of --repeat runs is reported.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.datasets import read_csv
from analysis.invariance import measurement_invariance

REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "analysis" / "reference"
CASES = {
    "bfi": ("bfi.csv", {"agree": ["A2", "A3", "A4", "A5", "A1"],
                        "consc": ["C1", "C2", "C3", "C4", "C5"]}, "gender"),
    "holzinger": ("holzinger.csv", {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
                                    "speed": ["x7", "x8", "x9"]}, "school"),
}
R_SCRIPT = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); model <- args[2]; g <- args[3]; reps <- as.integer(args[4])
best <- Inf
for (r in seq_len(reps)) {
  t <- system.time({
    cfa(model, data = d, group = g, missing = "ml")
    cfa(model, data = d, group = g, missing = "ml", group.equal = "loadings")
    cfa(model, data = d, group = g, missing = "ml", group.equal = c("loadings", "intercepts"))
  })[["elapsed"]]
  best <- min(best, t)
}
cat(sprintf("%.6f\n", best))
"""


def _best(repeat: int, df: pd.DataFrame, factors: dict[str, list[str]], group: str,
          missing: str) -> float:
    """The fastest of `repeat` fits of the three steps, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        measurement_invariance(df, factors, group, missing=missing)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Time each data set by FIML and listwise (and lavaan with --vs-r); print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vs-r", action="store_true", help="time lavaan as well (needs Rscript)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.vs_r and shutil.which("Rscript") is None:
        sys.exit("--vs-r needs Rscript with lavaan (Debian: r-cran-lavaan)")
    for name, (file, factors, group) in CASES.items():
        df = read_csv(REFERENCE / file)
        line = [f"{name}: {len(df)} rows"]
        for missing in ("ml", "listwise"):
            seconds = _best(args.repeat, df, factors, group, missing)
            line.append(f"{missing} {seconds:.2f} s")
        if args.vs_r:
            model = "\n".join(f"{f} =~ {' + '.join(items)}" for f, items in factors.items())
            out = subprocess.run(["Rscript", "-e", R_SCRIPT, str(REFERENCE / file), model, group,
                                  str(args.repeat)], capture_output=True, text=True, check=True)
            line.append(f"lavaan ml {float(out.stdout.strip()):.2f} s")
        print(", ".join(line))


if __name__ == "__main__":
    main()
