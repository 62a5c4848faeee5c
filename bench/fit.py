"""Benchmark: the two-level growth model (REML) by the fast engine, statsmodels and lme4.

Usage (from the repository root)::

    .venv/bin/python bench/fit.py            # fast engine; statsmodels at the smallest size
    .venv/bin/python bench/fit.py --vs-r     # and lme4 on the same CSV files, in this run

With --vs-r it also times whole processes on each file, as a user would run them:
``Rscript`` loading lme4, reading the CSV and fitting, against ``python -m analysis fit``
doing the same (interpreter start, imports, reading, fitting, printing the summary).

Data: 1,000 participants x 6 waves, 5,000 x 8 and 20,000 x 8, about 15% of waves missing,
written to bench/out/. The model is score ~ months * role + (1 + months | participant).
Then the team-level model (skip with --no-team-level): 5,000 x 8 in 100 teams, 5% of
participants moving team at one wave, score ~ months * role + (1 | team) + (1 | participant)
+ (0 + months | participant), fast engine against lmer (in-process and whole processes).
Each engine is timed on the whole fit from a DataFrame (lme4: lmer() from a data.frame);
reading the file is not timed. The best of --repeat runs is reported.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import fit_growth

OUT = Path(__file__).resolve().parent / "out"
SIZES = {"small": (1000, 6), "medium": (5000, 8), "large": (20000, 8)}
MISSING = 0.15

R_SCRIPT = r"""
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
reps <- as.integer(args[2])
best <- Inf
for (r in seq_len(reps)) {
  t <- system.time(m <- lmer(score ~ months * role + (months | participant), data = d,
                             REML = TRUE))[["elapsed"]]
  best <- min(best, t)
}
cat(sprintf('{"seconds": %.6f, "fixef": [%s], "se": [%s], "sd": [%s], "loglik": %.10f}\n',
            best, paste(sprintf("%.12g", fixef(m)), collapse = ","),
            paste(sprintf("%.12g", sqrt(diag(as.matrix(vcov(m))))), collapse = ","),
            paste(sprintf("%.12g", as.data.frame(VarCorr(m))$sdcor[c(1, 2, 4)]), collapse = ","),
            as.numeric(logLik(m))))
"""


R_WHOLE = r"""
suppressPackageStartupMessages(library(lme4))
d <- read.csv(commandArgs(trailingOnly = TRUE)[1])
m <- lmer(score ~ months * role + (months | participant), data = d, REML = TRUE)
print(summary(m))
"""


R_TEAM = r"""
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
reps <- as.integer(args[2])
best <- Inf
for (r in seq_len(reps)) {
  t <- system.time(m <- lmer(score ~ months * role + (1 | team) + (1 | participant) +
                             (0 + months | participant), data = d, REML = TRUE))[["elapsed"]]
  best <- min(best, t)
}
vc <- as.data.frame(VarCorr(m))
cat(sprintf('{"seconds": %.6f, "fixef": [%s], "se": [%s], "sd": [%s], "loglik": %.10f}\n',
            best, paste(sprintf("%.12g", fixef(m)), collapse = ","),
            paste(sprintf("%.12g", sqrt(diag(as.matrix(vcov(m))))), collapse = ","),
            paste(sprintf("%.12g", vc$sdcor[match(c("participant.1", "participant", "team",
                                                    "Residual"), vc$grp)]), collapse = ","),
            as.numeric(logLik(m))))
"""

R_TEAM_WHOLE = r"""
suppressPackageStartupMessages(library(lme4))
d <- read.csv(commandArgs(trailingOnly = TRUE)[1])
m <- lmer(score ~ months * role + (1 | team) + (1 | participant) + (0 + months | participant),
          data = d, REML = TRUE)
print(summary(m))
"""

TEAMS = 100
MOVERS = 0.05


def make_team_data(n: int, waves: int, seed: int) -> pd.DataFrame:
    """make_data with 100 teams (SD 0.25) and 5% of participants moving team at one wave."""
    rng = np.random.default_rng(seed + 1)
    df = make_data(n, waves, seed)
    pid = df["participant"].str[1:].astype(int).to_numpy()
    home = rng.integers(0, TEAMS, n)
    moved_to = rng.integers(0, TEAMS, n)
    moves_at = np.where(rng.random(n) < MOVERS, rng.integers(1, waves, n) * 3.0, np.inf)
    team = np.where(df["months"].to_numpy() >= moves_at[pid] - 0.5, moved_to[pid], home[pid])
    effect = rng.normal(0, 0.25, TEAMS)
    return df.assign(team=[f"T{t:03d}" for t in team], score=np.round(df["score"] + effect[team], 4))


def run_team_level(args: argparse.Namespace) -> None:
    """Time the team-level model at 5,000 x 8 in 100 teams: fast engine, lme4, whole processes."""
    n, waves = SIZES["medium"]
    df = make_team_data(n, waves, args.seed)
    path = OUT / f"growth_teams_{n}x{waves}.csv"
    df.to_csv(path, index=False)
    df = pd.read_csv(path)
    movers = int((df.groupby("participant")["team"].nunique() > 1).sum())
    print(f"\nteam level: score ~ months * role + (1 | team) + (1 | participant) + "
          f"(0 + months | participant), REML; {n} x {waves}, {len(df)} rows, {TEAMS} teams, "
          f"{movers} participants change team")

    def fast() -> Any:
        return fit_growth(df, "score", "months", "participant", group="team", by="role")

    t_fast, res = best_time(fast, args.repeat)
    line = f"  fast engine in-process: {t_fast:.3f} s (converged: {res.converged})"
    if args.vs_r:
        with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as f:
            f.write(R_TEAM)
        proc = subprocess.run(["Rscript", f.name, str(path), str(args.repeat)],
                              capture_output=True, text=True, check=False)
        Path(f.name).unlink()
        if proc.returncode != 0:
            raise SystemExit(f"Rscript failed on {path}:\n{proc.stderr}")
        ref = json.loads(proc.stdout.strip().splitlines()[-1])
        re = res.random_effects
        sd = [re.subject_sd["Intercept"], re.subject_sd["months"], re.group_sd, res.residual_sd]
        order = ["Intercept", "months", "role[T.peer_worker]", "months:role[T.peer_worker]"]
        fe = res.fixed_effects

        def rel(a: object, b: object) -> float:
            a_, b_ = np.asarray(a, float), np.asarray(b, float)
            return float(np.max(np.abs(a_ - b_) / np.abs(b_)))

        line += (f"; lme4: {ref['seconds']:.3f} s (fast/lme4 {t_fast / ref['seconds']:.2f}); "
                 f"max rel diff fixef {rel(fe.loc[order, 'estimate'], ref['fixef']):.1e}, "
                 f"se {rel(fe.loc[order, 'se'], ref['se']):.1e}, sd {rel(sd, ref['sd']):.1e}; "
                 f"logLik fast - lme4 {res.loglik - float(ref['loglik']):+.1e}")
    print(line)
    if args.vs_r:
        root = Path(__file__).resolve().parents[1]
        with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as f:
            f.write(R_TEAM_WHOLE)
        commands = (
            ["Rscript", f.name, str(path)],
            [sys.executable, "-m", "analysis", "fit", str(path), "--outcome", "score", "--time",
             "months", "--subject", "participant", "--group", "team", "--by", "role"],
        )
        times = []
        try:
            for command in commands:
                def run(command: list[str] = command) -> None:
                    subprocess.run(command, capture_output=True, check=True, cwd=root, timeout=600)

                times.append(best_time(run, args.repeat)[0])
        finally:
            Path(f.name).unlink()
        print(f"  whole processes: Rscript {times[0]:.2f} s, python -m analysis fit "
              f"{times[1]:.2f} s, python/R {times[1] / times[0]:.2f}")


def make_data(n: int, waves: int, seed: int) -> pd.DataFrame:
    """Simulate long data: n participants, waves every 3 months, ~15% of waves missed."""
    rng = np.random.default_rng(seed)
    months = np.arange(waves) * 3.0
    pid = np.repeat(np.arange(n), waves)
    t = np.tile(months, n) + np.where(np.tile(months, n) > 0, rng.uniform(-0.5, 0.5, n * waves), 0)
    peer = np.repeat(rng.random(n) < 0.4, waves)
    b = rng.multivariate_normal([0, 0], [[0.36, -0.012], [-0.012, 0.0016]], n)
    b0, b1 = np.repeat(b[:, 0], waves), np.repeat(b[:, 1], waves)
    score = (3.2 - 0.3 * peer + (0.02 + 0.03 * peer) * t + b0 + b1 * t
             + rng.normal(0, 0.35, n * waves))
    keep = (np.tile(months, n) == 0) | (rng.random(n * waves) >= MISSING)
    return pd.DataFrame(
        {
            "participant": [f"P{i:05d}" for i in pid[keep]],
            "role": np.where(peer[keep], "peer_worker", "colleague"),
            "months": np.round(t[keep], 3),
            "score": np.round(score[keep], 4),
        }
    )


def best_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Return the shortest wall time of ``repeat`` calls and the last result."""
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def run_r(path: Path, repeat: int) -> dict[str, Any]:
    """Fit the model with lme4 in Rscript and return its time and estimates."""
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as f:
        f.write(R_SCRIPT)
    proc = subprocess.run(
        ["Rscript", f.name, str(path), str(repeat)], capture_output=True, text=True, check=False
    )
    Path(f.name).unlink()
    if proc.returncode != 0:
        raise SystemExit(f"Rscript failed on {path}:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def whole_process(path: Path, repeat: int) -> tuple[float, float]:
    """Best wall time of `Rscript` (lme4) and of `python -m analysis fit` on one file."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as f:
        f.write(R_WHOLE)
    commands = (
        ["Rscript", f.name, str(path)],
        [sys.executable, "-m", "analysis", "fit", str(path), "--outcome", "score",
         "--time", "months", "--subject", "participant", "--by", "role"],
    )
    best = []
    try:
        for command in commands:
            def run(command: list[str] = command) -> None:
                subprocess.run(command, capture_output=True, check=True, cwd=root, timeout=600)

            best.append(best_time(run, repeat)[0])
    finally:
        Path(f.name).unlink()
    return best[0], best[1]


def main() -> int:
    """Run the benchmark and print one row per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vs-r", action="store_true", help="also time lme4 (needs Rscript)")
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine (best is kept)")
    parser.add_argument("--statsmodels-up-to", type=int, default=1000, metavar="N",
                        help="time statsmodels' default MixedLM fit up to N participants")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--no-team-level", action="store_true",
                        help="skip the team-level model (5,000 x 8 in 100 teams)")
    args = parser.parse_args()
    if args.vs_r and shutil.which("Rscript") is None:
        print("error: --vs-r needs R: Rscript is not on PATH. Install it with "
              "`apt-get install r-base-core r-cran-lme4`, or run without --vs-r.",
              file=sys.stderr)
        return 2
    OUT.mkdir(exist_ok=True)
    header = (f"{'size':<14}{'rows':>8}{'fast s':>9}{'statsm. s':>11}{'lme4 s':>9}"
              f"{'fast/lme4':>11}  max rel diff vs lme4 (fixef, se, sd; |dlogLik|)")
    print(header)
    print("-" * len(header))
    whole: dict[str, tuple[float, float]] = {}
    for name in args.sizes:
        n, waves = SIZES[name]
        df = make_data(n, waves, args.seed)
        path = OUT / f"growth_{n}x{waves}.csv"
        df.to_csv(path, index=False)
        df = pd.read_csv(path)  # the engines see exactly what R reads

        def fast(df: pd.DataFrame = df) -> object:
            return fit_growth(df, "score", "months", "participant", by="role", engine="fast")

        t_fast, res = best_time(fast, args.repeat)
        t_sm = float("nan")
        if n <= args.statsmodels_up_to:
            import statsmodels.formula.api as smf

            def sm_default(df: pd.DataFrame = df) -> object:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return smf.mixedlm("score ~ months * role", df, groups=df["participant"],
                                       re_formula="~months").fit(reml=True)

            t_sm, _ = best_time(sm_default, 1)
        t_r, ratio, diffs = float("nan"), float("nan"), ""
        if args.vs_r:
            ref = run_r(path, args.repeat)
            t_r = float(ref["seconds"])
            ratio = t_fast / t_r
            fe = res.fixed_effects
            re = res.random_effects
            sd = [re.subject_sd["Intercept"], re.subject_sd["months"], res.residual_sd]
            order = ["Intercept", "months", "role[T.peer_worker]", "months:role[T.peer_worker]"]

            def rel(a: object, b: object) -> float:
                a_, b_ = np.asarray(a, float), np.asarray(b, float)
                return float(np.max(np.abs(a_ - b_) / np.abs(b_)))

            diffs = (f"{rel(fe.loc[order, 'estimate'], ref['fixef']):.1e}, "
                     f"{rel(fe.loc[order, 'se'], ref['se']):.1e}, {rel(sd, ref['sd']):.1e}; "
                     f"{abs(res.loglik - float(ref['loglik'])):.1e}")
        print(f"{f'{n} x {waves}':<14}{len(df):>8}{t_fast:>9.3f}{t_sm:>11.2f}{t_r:>9.3f}"
              f"{ratio:>11.2f}  {diffs}")
        if args.vs_r:
            whole[f"{n} x {waves}"] = whole_process(path, args.repeat)
    if whole:
        print("\nwhole processes (start, imports, read the CSV, fit, print; best of --repeat):")
        print(f"{'size':<14}{'Rscript s':>10}{'python s':>10}{'python/R':>10}")
        for size, (t_r, t_py) in whole.items():
            print(f"{size:<14}{t_r:>10.2f}{t_py:>10.2f}{t_py / t_r:>10.2f}")
    if not args.no_team_level:
        run_team_level(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
