"""Write the seeded synthetic data sets that the R reference script fits.

Run from the repository root: ``python tests/analysis/reference/make_data.py``.
It writes ``growth.csv`` (long format, one scale) and ``items.csv`` (item
responses) beside this file; ``reference.R`` then prints the lme4 and psych
numbers kept as constants in the tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SEED = 20240611
N_PARTICIPANTS = 150
N_TEAMS = 15
WAVE_MONTHS = (0.0, 3.0, 6.0, 9.0, 12.0)
N_ITEMS = 6


def make_growth(rng: np.random.Generator) -> pd.DataFrame:
    """Return long data: intercept and slope per participant, a team effect, role x time."""
    team = rng.integers(0, N_TEAMS, N_PARTICIPANTS)
    role = np.where(rng.random(N_PARTICIPANTS) < 0.4, "peer_worker", "colleague")
    peer = role == "peer_worker"
    cov = np.array([[0.36, -0.012], [-0.012, 0.0016]])
    b = rng.multivariate_normal([0.0, 0.0], cov, N_PARTICIPANTS)
    team_effect = rng.normal(0.0, 0.25, N_TEAMS)
    rows = []
    for i in range(N_PARTICIPANTS):
        for w, m in enumerate(WAVE_MONTHS, start=1):
            if w > 1 and rng.random() < 0.15:
                continue  # missed wave
            months = m + rng.uniform(-0.5, 0.5) if w > 1 else 0.0
            mean = 3.2 - 0.3 * peer[i] + (0.02 + 0.03 * peer[i]) * months
            score = mean + b[i, 0] + b[i, 1] * months + team_effect[team[i]]
            score += rng.normal(0.0, 0.35)
            rows.append(
                {
                    "participant": f"P{i + 1:03d}",
                    "team": f"T{team[i] + 1:02d}",
                    "trust": f"TR{team[i] % 3 + 1}",
                    "role": role[i],
                    "wave": w,
                    "months": round(months, 3),
                    "scale": "identity",
                    "score": round(score, 4),
                    "items_answered": 5,
                }
            )
    return pd.DataFrame(rows)


def make_items(rng: np.random.Generator) -> pd.DataFrame:
    """Return one-factor item responses (1-5) for every participant at waves 1 and 2."""
    loadings = np.array([0.8, 0.7, 0.75, 0.6, 0.5, 0.65])
    rows = []
    for wave in (1, 2):
        for i in range(N_PARTICIPANTS):
            factor = rng.normal()
            raw = 3.0 + loadings * factor + rng.normal(0.0, 0.7, N_ITEMS)
            values = np.clip(np.rint(raw), 1, 5).astype(int)
            rows.append(
                {
                    "participant": f"P{i + 1:03d}",
                    "wave": wave,
                    "role": "peer_worker" if i % 3 == 0 else "colleague",
                    **{f"i{k + 1}": int(v) for k, v in enumerate(values)},
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    """Write growth.csv and items.csv."""
    rng = np.random.default_rng(SEED)
    make_growth(rng).to_csv(HERE / "growth.csv", index=False)
    make_items(rng).to_csv(HERE / "items.csv", index=False)


if __name__ == "__main__":
    main()
