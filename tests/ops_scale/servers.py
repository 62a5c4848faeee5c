"""Real servers on loopback for the scale and fault tests: redis-server, gunicorn, schedulers.

Each one listens on a free 127.0.0.1 port, is started by a context manager and stopped (TERM,
then KILL) when it ends, so nothing outlives a test.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() == "true"


def free_port() -> int:
    """A port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def require_program(name: str) -> str:
    """The path of a program the test needs: missing fails under CI, skips elsewhere."""
    path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if path is None:
        message = f"{name} is not installed (Debian package; .ci/run installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def _stop(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Ask a process to stop, then make it."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_until(check: object, what: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Poll `check()` until it is true; fail with the process's output if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within {timeout} s")


def _answers(port: int, path: str = "/staff/login") -> bool:
    """Whether an HTTP server answers on the port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path)
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


@contextmanager
def redis_server() -> Iterator[str]:
    """A throw-away redis-server (no persistence) on a free loopback port; yields its URL."""
    program = require_program("redis-server")
    port = free_port()
    process = subprocess.Popen(
        [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        def pong() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    return sock.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        _wait_until(pong, "redis-server", process, timeout=10)
        yield f"redis://127.0.0.1:{port}"
    finally:
        _stop(process)


def app_environment(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a production-like PeerPulse process on the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RATELIMIT_", "FLASK_", "PEERPULSE_"))}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="scale-test-secret-key",
        BASE_URL="http://127.0.0.1",
        MAIL_BACKEND="file",
        MAIL_FILE_DIR=str(tmp_path / "mail"),
        PEERPULSE_INSTANCE=str(tmp_path / "instance"),
        FLASK_APP="wsgi",
    )
    env.update(extra)
    return env


class Gunicorn:
    """A running gunicorn master (several sync workers) serving wsgi:app."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        """The process ids of the master's current workers."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(child) for child in children]


@contextmanager
def gunicorns(env: dict[str, str], count: int = 1, workers: int = 3, timeout: int = 30) -> Iterator[list[Gunicorn]]:
    """`count` gunicorn servers (-w workers, wsgi:app) on free loopback ports, started together."""
    started: list[Gunicorn] = []
    try:
        for _ in range(count):
            port = free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                 "--timeout", str(timeout), "--graceful-timeout", "5", "wsgi:app"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            started.append(Gunicorn(process, port))
        for server in started:
            _wait_until(lambda s=server: _answers(s.port), "gunicorn", server.process, timeout=90)  # type: ignore[misc]
            # Wait for every worker to have booted, so that requests spread over all of them.
            _wait_until(lambda s=server: len(s.worker_pids()) == workers, "gunicorn workers", server.process)  # type: ignore[misc]
        yield started
    finally:
        for server in started:
            _stop(server.process)


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 3, timeout: int = 30) -> Iterator[Gunicorn]:
    """One gunicorn server (see gunicorns)."""
    with gunicorns(env, 1, workers, timeout) as (server,):
        yield server


@contextmanager
def schedulers(env: dict[str, str], count: int, log_dir: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` `flask scheduler` processes (output kept in log_dir), stopped at the end."""
    log_dir.mkdir(parents=True, exist_ok=True)
    started: list[subprocess.Popen[bytes]] = []
    try:
        for n in range(count):
            with open(log_dir / f"scheduler-{n}.log", "wb") as out:
                started.append(subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                ))
        yield started
    finally:
        for process in started:
            _stop(process, timeout=30)


def get(url: str, timeout: float = 10) -> tuple[int, dict[str, str], str]:
    """GET on a fresh connection: status, headers and body."""
    parts = url.split("/", 3)
    host, port = parts[2].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", "/" + (parts[3] if len(parts) > 3 else ""))
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8", "replace")
    finally:
        conn.close()
