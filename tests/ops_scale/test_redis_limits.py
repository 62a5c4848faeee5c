"""The guessing limit holds across gunicorn workers when the counters live in a real Redis."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask

from tests.ops_scale import servers
from tests.ops_scale.links import open_links

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

LIMIT = 10
WORKERS = 3


def test_guessing_limit_holds_across_workers(pg_url: str, pg_app: Flask, tmp_path: Path) -> None:
    (real,) = open_links(pg_app, 1)
    with servers.redis_server() as redis_url:
        env = servers.app_environment(
            pg_url, tmp_path, RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_LINK_GUESS=f"{LIMIT} per minute",
        )
        with servers.gunicorn(env, workers=WORKERS) as server:
            # 40 failed look-ups, eight at a time, each on its own connection: several workers serve them.
            urls = [f"{server.url}/r/guess{n:04d}" for n in range(4 * LIMIT)]
            with ThreadPoolExecutor(8) as pool:
                codes = Counter(status for status, _, _ in pool.map(servers.get, urls))
            # In-memory counters would let each worker allow LIMIT on its own (up to 30 here).
            assert codes == {404: LIMIT, 429: 3 * LIMIT}
            # A real link from the same address still works, whichever worker answers.
            with ThreadPoolExecutor(WORKERS) as pool:
                statuses = set(pool.map(lambda _: servers.get(f"{server.url}/r/{real}/page/1")[0], range(6)))
            assert statuses == {200}


def test_respondents_are_served_while_redis_is_down(pg_url: str, pg_app: Flask, tmp_path: Path) -> None:
    (real,) = open_links(pg_app, 1)
    redis = servers.redis_server()
    env = servers.app_environment(pg_url, tmp_path, RATELIMIT_STORAGE_URI=redis.__enter__())
    try:
        with servers.gunicorn(env, workers=2) as server:
            assert servers.get(f"{server.url}/r/{real}/page/1")[0] == 200
            redis.__exit__(None, None, None)  # Redis stops; the app keeps running
            # Each worker now counts in memory: people are still served, and guessing still limited.
            statuses = [servers.get(f"{server.url}/r/{real}/page/1")[0] for _ in range(4)]
            assert statuses == [200] * 4
    finally:
        redis.__exit__(None, None, None)
