"""Write the seeded wide data set that ``invariance.R`` fits with lavaan.

Run from the repository root: ``python tests/analysis/reference/make_invariance_data.py``.
It writes ``invariance.csv`` beside this file: one row per respondent, two scales
(five identity items ``id1``-``id5``, four support items ``sp1``-``sp4``), a ``role``
column (two groups) and a ``wave`` column (three groups). Item ``id3`` is easier for
peer workers (an intercept shift), so the scalar step has something to find; a few
answers are missing, so listwise deletion is part of what the tests compare.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SEED = 20261126
N = 420


def make_invariance(rng: np.random.Generator) -> pd.DataFrame:
    """Return wide item responses (1-5) from a correlated two-factor model."""
    role = np.where(rng.random(N) < 0.4, "peer_worker", "colleague")
    wave = rng.integers(1, 4, N)
    peer = role == "peer_worker"
    factors = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.4], [0.4, 1.0]], N)
    factors[:, 0] += 0.2 * peer
    id_load = np.array([0.8, 0.7, 0.75, 0.6, 0.55])
    sp_load = np.array([0.7, 0.65, 0.8, 0.5])
    id_raw = 3.0 + factors[:, [0]] * id_load + rng.normal(0.0, 0.7, (N, 5))
    id_raw[:, 2] += 0.45 * peer  # intercept shift: item id3 is easier for peer workers
    sp_raw = 3.2 + factors[:, [1]] * sp_load + rng.normal(0.0, 0.7, (N, 4))
    data: dict[str, object] = {"respondent": [f"R{i + 1:03d}" for i in range(N)],
                               "role": role, "wave": wave}
    for k in range(5):
        data[f"id{k + 1}"] = np.clip(np.rint(id_raw[:, k]), 1, 5)
    for k in range(4):
        data[f"sp{k + 1}"] = np.clip(np.rint(sp_raw[:, k]), 1, 5)
    df = pd.DataFrame(data)
    for col in ("id2", "sp3", "id5"):
        df.loc[rng.choice(N, 4, replace=False), col] = np.nan  # a few unanswered items
    for col in [c for c in df.columns if c[:2] in ("id", "sp")]:
        df[col] = df[col].astype("Int64")
    return df


def main() -> None:
    """Write invariance.csv."""
    make_invariance(np.random.default_rng(SEED)).to_csv(HERE / "invariance.csv", index=False)


if __name__ == "__main__":
    main()
