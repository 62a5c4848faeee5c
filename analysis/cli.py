"""Command line: ``python -m analysis fit|reliability|invariance|attrition|agreement ...``.

Every command reads its file through the input contract (analysis.contract) and exits 0 with
its result, 1 with one line naming what is wrong and where, or 2 on a usage error (argparse).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from analysis.agreement import team_agreement, uniform_null_variance
from analysis.attrition import retention, stayers_and_leavers, wave_patterns
from analysis.contract import distinct_names
from analysis.datasets import read_csv, require_columns
from analysis.errors import AnalysisError
from analysis.growth import fit_growth
from analysis.invariance import MISSING, measurement_invariance
from analysis.reliability import (
    cronbach_alpha,
    item_total_correlations,
    mcdonald_omega,
    reliability_table,
)
from analysis.results import json_safe

#: Columns that say whose row it is in the export's files: with one, a repeated row is refused.
IDENTITY = ("participant",)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with the fit and reliability commands."""
    parser = argparse.ArgumentParser(
        prog="python -m analysis", description="Growth models and reliability for CSV files."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser("fit", help="fit a growth model (random intercept and slope)")
    fit.add_argument("data", metavar="DATA.csv", help="long data, one row per occasion")
    fit.add_argument("--outcome", required=True, metavar="COL", help="score column")
    fit.add_argument("--time", required=True, metavar="COL", help="numeric time, e.g. months")
    fit.add_argument("--subject", required=True, metavar="COL", help="participant column")
    fit.add_argument("--group", metavar="COL", help="team column: adds a team level")
    fit.add_argument("--by", metavar="COL", help="between-subject factor, e.g. role")
    fit.add_argument("--ml", action="store_true", help="maximum likelihood instead of REML")
    fit.add_argument("--json", action="store_true", help="print one JSON object")
    fit.add_argument(
        "--engine", choices=("auto", "fast", "statsmodels"), default="auto",
        help="fitting engine (default: fast, lme4's formulation, for every model; statsmodels: "
             "the cross-check, refused when it stops short of the optimum)",
    )
    fit.add_argument("--plot", metavar="FILE", help="save trajectories as .png or .svg")
    fit.add_argument("--max-iter", type=int, default=1000, metavar="N",
                     help="optimiser iteration limit (default 1000)")
    rel = commands.add_parser("reliability", help="Cronbach's alpha and McDonald's omega")
    rel.add_argument("data", metavar="DATA.csv", help="one row per respondent, items as columns")
    rel.add_argument("--items", required=True, nargs="+", metavar="COL", help="item columns")
    rel.add_argument("--by", nargs="+", default=[], metavar="COL",
                     help="report per group, e.g. --by wave role")
    rel.add_argument("--json", action="store_true", help="print one JSON object")
    inv = commands.add_parser(
        "invariance", help="configural, metric and scalar invariance (multi-group CFA, ML)"
    )
    inv.add_argument("data", metavar="DATA.csv", help="one row per respondent, items as columns")
    inv.add_argument("--items", required=True, nargs="+", metavar="COL",
                     help="item columns of one factor; the first is the marker")
    inv.add_argument("--group", required=True, metavar="COL", help="group column, e.g. role")
    inv.add_argument("--missing", choices=MISSING, default="ml",
                     help="missing answers: ml = full-information ML, every answer counts "
                          "(lavaan missing = \"ml\", the default); listwise = complete rows only")
    inv.add_argument("--json", action="store_true", help="print one JSON object")
    inv.add_argument("--max-iter", type=int, default=5000, metavar="N",
                     help="optimiser iteration limit per step (default 5000)")
    att = commands.add_parser(
        "attrition", help="retention by wave, missing-wave patterns, stayers against leavers"
    )
    att.add_argument("data", metavar="DATA.csv", help="long data, e.g. the export's long.csv")
    att.add_argument("--by", nargs="+", default=[], metavar="COL",
                     help="retention per group too, e.g. --by role team")
    att.add_argument("--json", action="store_true", help="print one JSON object")
    agr = commands.add_parser(
        "agreement", help="ICC(1), ICC(2) and rwg(j) within teams (as R's multilevel)"
    )
    agr.add_argument("data", metavar="DATA.csv", help="one row per respondent, items as columns")
    agr.add_argument("--items", required=True, nargs="+", metavar="COL",
                     help="item columns of one scale")
    agr.add_argument("--group", required=True, metavar="COL", help="team column")
    null = agr.add_mutually_exclusive_group()
    null.add_argument("--options", type=int, default=5, metavar="A",
                      help="answer options per item: null variance (A^2-1)/12 (default 5, i.e. 2)")
    null.add_argument("--ranvar", type=float, metavar="V", help="the null variance itself")
    agr.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def run_fit(args: argparse.Namespace) -> str:
    """Fit the model and return the text to print."""
    df = read_csv(args.data, identity=[args.subject])
    results = fit_growth(
        df, args.outcome, args.time, args.subject, group=args.group, by=args.by,
        method="ML" if args.ml else "REML", engine=args.engine, max_iter=args.max_iter,
    )
    results.require_convergence()
    if args.plot:
        results.plot_trajectories(args.plot)
    if args.json:
        return results.to_json(indent=2)
    return results.summary()


def run_reliability(args: argparse.Namespace) -> str:
    """Compute reliability and return the text to print."""
    df = read_csv(args.data, identity=IDENTITY)
    distinct_names(args.items)
    distinct_names(args.by, what="column")
    require_columns(df, [*args.items, *args.by])
    if args.by:
        table = reliability_table(df, args.items, args.by)
        if args.json:
            return _json({"groups": table.to_dict(orient="records")})
        return table.to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep="–")
    items = df[list(args.items)]
    items.attrs = dict(df.attrs)
    alpha = cronbach_alpha(items)
    omega = mcdonald_omega(items)
    itc = item_total_correlations(items)
    if args.json:
        return _json(
            {
                "n": alpha.n,
                "k": alpha.k,
                "alpha": alpha.alpha,
                "alpha_ci_low": alpha.ci_low,
                "alpha_ci_high": alpha.ci_high,
                "std_alpha": alpha.std_alpha,
                "omega": omega.omega,
                "items": itc.reset_index().to_dict(orient="records"),
                "rows_read": alpha.rows_read,
                "warnings": alpha.warnings,
            }
        )
    return "\n".join(
        [
            f"Complete rows: {alpha.n}   items: {alpha.k}   ({alpha.rows_sentence()})",
            f"Cronbach's alpha: {alpha.alpha:.4f} (95% CI, Feldt: "
            f"{alpha.ci_low:.4f} to {alpha.ci_high:.4f})",
            f"Standardised alpha (psych's std.alpha): {alpha.std_alpha:.4f}",
            f"McDonald's omega total (one factor, minres): {omega.omega:.4f}",
            "",
            itc.to_string(float_format=lambda v: f"{v:.4f}", na_rep="–"),
            *[f"warning: {w}" for w in alpha.warnings],
        ]
    )


def run_invariance(args: argparse.Namespace) -> str:
    """Fit the three invariance steps and return the text to print (only if all converged)."""
    df = read_csv(args.data, identity=IDENTITY)
    distinct_names(args.items)
    results = measurement_invariance(df, {"f1": list(args.items)}, args.group,
                                     max_iter=args.max_iter, missing=args.missing)
    results.require_convergence()
    if args.json:
        return _json(results.to_dict())
    return results.summary()


def run_attrition(args: argparse.Namespace) -> str:
    """Report retention, missing-wave patterns and the baseline comparison of stayers and leavers."""
    df = read_csv(args.data, identity=IDENTITY)
    require_columns(df, ["participant", "wave", "scale", "score", *args.by])
    patterns = wave_patterns(df)
    overall = retention(df)
    groups = {col: retention(df, by=[col]) for col in distinct_names(args.by, what="column")}
    try:
        baseline, note = stayers_and_leavers(df), ""
    except AnalysisError as exc:  # retention stands without scores; say why there is no test
        baseline, note = None, str(exc)
    if args.json:
        return _json({
            "rows_read": len(df),
            "patterns": patterns.to_dict(orient="records"),
            "retention": overall.to_dict(orient="records"),
            "retention_by": {c: t.to_dict(orient="records") for c, t in groups.items()},
            "baseline": [] if baseline is None else baseline.to_dict(orient="records"),
            "baseline_note": note,
        })
    text = _table_text
    parts = [f"Rows read: {len(df)}", "", "Retention of the first-wave cohort", text(overall)]
    for col, table in groups.items():
        parts += ["", f"Retention by {col}", text(table)]
    parts += ["", "Patterns of answered (X) and missed (.) waves", text(patterns), "",
              "First-wave scores: stayed (answered the last wave) minus left, Welch 95% CI",
              text(baseline) if baseline is not None else f"not computed: {note}"]
    return "\n".join(parts)


def run_agreement(args: argparse.Namespace) -> str:
    """ICC(1), ICC(2) and rwg(j) per team, as R's multilevel package."""
    df = read_csv(args.data, identity=IDENTITY)
    ranvar = args.ranvar if args.ranvar is not None else uniform_null_variance(args.options)
    results = team_agreement(df, args.items, args.group, ranvar=ranvar)
    if args.json:
        return _json(results.to_dict())
    return results.summary()


def _one_line(message: str) -> str:
    """An error message on one line (a refusal names its place; it is never a dump)."""
    return " ".join(message.split())


def _has_nan(text: str) -> bool:
    """Whether printed output holds an undefined number, as NaN or JSON null of a statistic."""
    import re

    return re.search(r"(?<![A-Za-z])(nan|NaN|inf)(?![A-Za-z])", text) is not None


def _table_text(table: Any) -> str:
    """A table as aligned text with three decimals."""
    return str(table.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="–"))



def _json(data: Any) -> str:
    """Strict JSON text (numpy scalars as numbers, NaN as null)."""
    return json.dumps(json_safe(data), indent=2, allow_nan=False)


COMMANDS = {"fit": run_fit, "reliability": run_reliability, "invariance": run_invariance,
            "attrition": run_attrition, "agreement": run_agreement}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (1 on a data or model error, 2 on usage)."""
    args = build_parser().parse_args(argv)
    try:
        text = COMMANDS[args.command](args)
    except AnalysisError as exc:
        sys.stderr.write(f"error: {_one_line(str(exc))}\n")
        return 1
    if _has_nan(text):
        sys.stderr.write("error: the result holds a number that is not defined (NaN); "
                         "no result is reported, check the data's columns and rows\n")
        return 1
    sys.stdout.write(text + "\n")
    return 0
