"""Attrition and missing waves: retention, patterns of missing waves, stayers against leavers.

Definitions (the same for the CLI and the research page): the *cohort* is everyone who
answered the first wave; *retention* at a wave is the share of the cohort who answered it;
someone *stayed* if they answered the last wave in the data and *left* if they answered the
first wave but not the last (so a person who missed a middle wave and came back stayed).
A *pattern* writes X for each wave answered and . for each missed, e.g. ``XX.X``.
The baseline comparison uses Welch's t interval for the difference of means, as R's
``t.test(a, b, var.equal = FALSE)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.contract import label, native, row_label
from analysis.datasets import numeric_column, require_columns, source_of
from analysis.errors import AnalysisError


@dataclass(frozen=True)
class WelchDifference:
    """The difference of two means (a minus b) with Welch's confidence interval."""

    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    difference: float
    ci_low: float
    ci_high: float
    df: float
    p: float


def welch_difference(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                     level: float = 0.95) -> WelchDifference:
    """Welch's t interval for mean(a) - mean(b); AnalysisError if a group has fewer than two values."""
    from scipy import stats  # slow to import: only when used
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if len(x) < 2 or len(y) < 2:
        raise AnalysisError(f"each group needs at least two scores (there are {len(x)} and {len(y)})")
    va, vb = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se = float(np.sqrt(va + vb))
    if se == 0:
        raise AnalysisError("every score is the same in both groups: no interval can be given")
    df = (va + vb) ** 2 / (va**2 / (len(x) - 1) + vb**2 / (len(y) - 1))
    diff = float(x.mean() - y.mean())
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    p = float(2 * stats.t.sf(abs(diff / se), df))
    return WelchDifference(len(x), len(y), float(x.mean()), float(y.mean()), diff,
                           diff - half, diff + half, float(df), p)


def _answered(frame: pd.DataFrame, subject: str, wave: str) -> pd.DataFrame:
    """One row per subject and wave answered, with the waves as numbers."""
    require_columns(frame, [subject, wave])
    out = frame.copy()
    out[wave] = numeric_column(frame, wave)
    empty = (out[wave].isna() | out[subject].isna()).to_numpy()
    if empty.any():
        pos = int(np.flatnonzero(empty)[0])
        raise AnalysisError(f"{source_of(frame)}: columns {subject!r} and {wave!r} must have no "
                            f"empty cells, but {row_label(frame, pos)} has one "
                            f"({int(empty.sum())} such row(s))")
    return out.drop_duplicates([subject, wave])


def wave_patterns(frame: pd.DataFrame, subject: str = "participant", wave: str = "wave",
                  waves: Sequence[int] | None = None,
                  subjects: Sequence[object] = ()) -> pd.DataFrame:
    """Count each pattern of answered (X) and missed (.) waves, commonest first.

    ``subjects`` adds people who answered no wave at all (their pattern is all dots).
    """
    answered = _answered(frame, subject, wave)
    order = list(waves) if waves is not None else sorted(answered[wave].unique())
    if not order:
        raise AnalysisError(f"{source_of(frame)}: no waves to describe")
    sets = answered.groupby(subject)[wave].agg(set)
    sets = pd.concat([sets, pd.Series([set()] * len(extra), index=extra, dtype=object)]) \
        if (extra := [s for s in dict.fromkeys(subjects) if s not in sets.index]) else sets
    patterns = sets.map(lambda got: "".join("X" if w in got else "." for w in order))
    counts = patterns.value_counts()
    table = pd.DataFrame({"pattern": counts.index, "n": counts.to_numpy()})
    table["share"] = table["n"] / table["n"].sum()
    return table.sort_values(["n", "pattern"], ascending=[False, False], kind="stable") \
        .reset_index(drop=True)


def retention(frame: pd.DataFrame, subject: str = "participant", wave: str = "wave",
              by: Sequence[str] = ()) -> pd.DataFrame:
    """Per group and wave: answered, the cohort (first-wave answerers), those of it retained, the share."""
    answered = _answered(frame, subject, wave)
    require_columns(frame, list(by))
    waves = sorted(answered[wave].unique())
    rows: list[dict[str, Any]] = []
    groups = answered.groupby(list(by), sort=True) if by else [((), answered)]
    for key, part in groups:
        keys = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        cohort = set(part.loc[part[wave] == waves[0], subject])
        for w in waves:
            at = set(part.loc[part[wave] == w, subject])
            rows.append({**keys, "wave": int(w) if float(w).is_integer() else w,
                         "answered": len(at), "cohort": len(cohort),
                         "retained": len(at & cohort),
                         "retention": len(at & cohort) / len(cohort) if cohort else float("nan")})
    return pd.DataFrame(rows, columns=[*by, "wave", "answered", "cohort", "retained", "retention"])


def stayers_and_leavers(long: pd.DataFrame, subject: str = "participant", wave: str = "wave",
                        scale: str = "scale", score: str = "score") -> pd.DataFrame:
    """Per scale: first-wave scores of those who stayed against those who left (Welch 95% CI)."""
    answered = _answered(long, subject, wave)  # one row per person and wave: who answered when
    require_columns(long, [scale, score])
    first, last = answered[wave].min(), answered[wave].max()
    if first == last:
        raise AnalysisError(f"{source_of(long)}: only one wave in the data; nobody can have left yet")
    stayed = set(answered.loc[answered[wave] == last, subject])
    scores = long.assign(**{wave: numeric_column(long, wave), score: numeric_column(long, score)})
    at_first = scores[scores[wave] == first]
    baseline = at_first.dropna(subset=[score])
    if baseline.empty:
        raise AnalysisError(
            f"{source_of(long)}: no {score!r} at the first wave ({wave} {label(first)}; "
            f"{len(at_first)} row(s) there, all empty): stayers cannot be compared with leavers"
        )
    twice = baseline.duplicated([subject, scale])
    if twice.any():
        who = baseline.loc[twice].iloc[0]
        raise AnalysisError(
            f"{source_of(long)}: {subject} {label(who[subject])} has more than one {score!r} "
            f"for {scale} {label(who[scale])} at {wave} {label(first)} ({int(twice.sum())} "
            "repeated row(s)); each person is counted once: keep one row per person, scale "
            "and wave"
        )
    rows = []
    for name, part in baseline.groupby(scale, sort=True):
        kept = part[subject].isin(stayed)
        row: dict[str, Any] = {"scale": native(name), "n_stayed": int(kept.sum()),
                               "n_left": int((~kept).sum())}
        try:
            result = welch_difference(part.loc[kept, score], part.loc[~kept, score])
        except AnalysisError as exc:
            row["note"] = str(exc)
        else:
            row.update({k: v for k, v in asdict(result).items() if k not in ("n_a", "n_b")})
            row["note"] = ""
        rows.append(row)
    columns = ["scale", "n_stayed", "n_left", "mean_a", "mean_b", "difference", "ci_low",
               "ci_high", "df", "p", "note"]
    table = pd.DataFrame(rows).reindex(columns=columns)
    return table.rename(columns={"mean_a": "mean_stayed", "mean_b": "mean_left"})
