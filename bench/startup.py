"""Benchmark: how long the app takes to start, as every `flask` command and gunicorn worker pays it.

Usage (from the repository root)::

    .venv/bin/python bench/startup.py [--repeat 5]

Times whole processes (interpreter start included), best of ``--repeat``:

- ``flask --help`` with the demo settings: imports the app, builds it, lists the commands
  (target: under 1 s);
- ``python -c "import wsgi"``: the app alone;
- ``python -c "import flask, sqlalchemy"``: the floor no Flask + SQLAlchemy app goes below;
- ``python -c "import wsgi; import statsmodels.api"``: what start-up cost before the statistics
  were imported lazily (only the research views, the API's model endpoint and ``analysis``
  import them, on first use).

It also checks that building the app did not import statsmodels, scipy or matplotlib.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGET_SECONDS = 1.0
HEAVY = ("statsmodels", "scipy", "matplotlib", "pandas")


def best_of(command: list[str], env: dict[str, str], repeat: int) -> float:
    """The fastest of `repeat` runs of a whole process, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)  # nosec B603
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command (best kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PEERPULSE_DEMO": "1",
            "FLASK_APP": "wsgi",
            "DATABASE_URL": f"sqlite:///{tmp}/startup.db",
        }
        python = str(BIN / "python")
        rows = [
            ("flask --help", [str(BIN / "flask"), "--help"]),
            ("import wsgi", [python, "-c", "import wsgi"]),
            ("import flask, sqlalchemy", [python, "-c", "import flask, sqlalchemy"]),
            ("import wsgi + statsmodels", [python, "-c", "import wsgi, statsmodels.api"]),
        ]
        results = {label: best_of(command, env, args.repeat) for label, command in rows}
        loaded = subprocess.run(  # nosec B603
            [python, "-c", "import sys, wsgi; print(' '.join(sorted(m for m in "
             f"{HEAVY!r} if m in sys.modules)))"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout.strip()
    print(f"best of {args.repeat}; load average now {os.getloadavg()[0]:.1f}")
    for label, seconds in results.items():
        print(f"{label:28s} {seconds:6.2f} s")
    met = "met" if results["flask --help"] < TARGET_SECONDS else "NOT met"
    print(f"flask --help target < {TARGET_SECONDS:.0f} s: {met}")
    print(f"heavy modules imported by the app: {loaded or 'none'}")
    return 0 if not loaded else 1


if __name__ == "__main__":
    raise SystemExit(main())
