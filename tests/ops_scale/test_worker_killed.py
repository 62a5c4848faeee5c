"""A gunicorn worker killed (SIGKILL) mid-submission: each page stored whole or not at all."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask import Flask

from tests.ops_scale import servers
from tests.ops_scale.links import open_links
from tests.ops_scale.respondents import (
    PAGES,
    Respondent,
    answers_by_token,
    assert_all_complete,
    assert_pages_whole,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PEOPLE = 24
KILL_ROUNDS = 3


def test_killing_workers_mid_submission_keeps_every_page_whole(pg_url: str, pg_app: Flask, tmp_path: Path) -> None:
    tokens = open_links(pg_app, PEOPLE)
    env = servers.app_environment(pg_url, tmp_path, RATELIMIT_STORAGE_URI="memory://")
    stop = threading.Event()
    cut = [0]

    def answer_until_stopped(token: str, base_url: str) -> None:
        """Send pages one after another until told to stop; a killed request just ends."""
        person = Respondent([base_url], token)
        number = 1
        while not stop.is_set() and number <= len(PAGES):
            try:
                person.send_page(number)
                number += 1
            except requests.RequestException:  # reset by the kill, or timed out while workers restart
                cut[0] += 1
                time.sleep(0.2)  # the master starts a fresh worker

    with servers.gunicorn(env, workers=3) as server, ThreadPoolExecutor(PEOPLE) as pool:
        futures = [pool.submit(answer_until_stopped, token, server.url) for token in tokens]
        for _ in range(KILL_ROUNDS):
            time.sleep(1.0)
            for pid in server.worker_pids():  # every worker, while submissions are in flight
                os.kill(pid, signal.SIGKILL)
        stop.set()
        for future in futures:
            future.result(timeout=120)

        # Right after the kills: no page half stored, no answer twice.
        stored_pages = assert_pages_whole(answers_by_token(pg_app, tokens))
        assert cut[0] > 0, "no request was in flight when the workers were killed"
        assert stored_pages < PEOPLE * len(PAGES)

        # Everyone can go back to their link and finish, resubmitting what was lost.
        with ThreadPoolExecutor(8) as finishers:
            list(finishers.map(lambda t: Respondent([server.url], t).finish(), tokens))
    assert_all_complete(pg_app, tokens)
