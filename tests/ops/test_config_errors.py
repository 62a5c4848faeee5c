"""A configuration error is one clear line and exit 1 for every flask command and for gunicorn."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NO_SECRET = "PeerPulse configuration error: SECRET_KEY is not set."


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"SECRET_KEY", "PEERPULSE_DEMO", "FLASK_DEBUG", "FLASK_APP"}}
    clean.update(PEERPULSE_INSTANCE=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
                 **env)
    return subprocess.run(args, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
                          check=False)


def assert_one_line(result: subprocess.CompletedProcess[str], start: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(start), result.stderr


@pytest.mark.parametrize("args", [["--help"], ["db", "upgrade"], ["dispatch", "--once"], ["scheduler"]])
def test_flask_commands_without_a_secret_key(tmp_path: Path, args: list[str]) -> None:
    assert_one_line(run([str(BIN / "flask"), "--app", "wsgi", *args], tmp_path), NO_SECRET)


def test_a_bad_setting_names_itself(tmp_path: Path) -> None:
    result = run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], tmp_path,
                 SECRET_KEY="x", PEERPULSE_JOB_INTERVALS="delivr=5")
    assert_one_line(result, "PeerPulse configuration error: PEERPULSE_JOB_INTERVALS names unknown jobs delivr")


def test_gunicorn_check_config(tmp_path: Path) -> None:
    assert_one_line(run([str(BIN / "gunicorn"), "--check-config", "wsgi:app"], tmp_path), NO_SECRET)


def test_gunicorn_start_stops_at_once(tmp_path: Path) -> None:
    result = run([str(BIN / "gunicorn"), "--bind", "127.0.0.1:0", "--workers", "2", "wsgi:app"],
                 tmp_path)
    assert_one_line(result, NO_SECRET)


def test_with_a_secret_key_gunicorn_config_is_fine(tmp_path: Path) -> None:
    result = run([str(BIN / "gunicorn"), "--check-config", "wsgi:app"], tmp_path, SECRET_KEY="x")
    assert result.returncode == 0, result.stderr
