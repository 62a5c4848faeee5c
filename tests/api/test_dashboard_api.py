"""The dashboard JSON: no withheld figure leaks, and shown figures are the HTML page's."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from survey import models as m
from survey.services.dashboard_report import one_dp
from tests.api.conftest import json_of


def _cells(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every cell of the trends and gap tables."""
    yield from board["trends"]
    for row in board["gaps"]:
        yield row["peer_workers"]
        yield row["colleagues"]


def _numbers(data: Any) -> Iterator[float]:
    """Every number anywhere in a JSON value."""
    if isinstance(data, dict):
        for value in data.values():
            yield from _numbers(value)
    elif isinstance(data, list):
        for value in data:
            yield from _numbers(value)
    elif isinstance(data, int | float) and not isinstance(data, bool):
        yield float(data)


def _board(client: FlaskClient, sign_in: Callable[..., m.User], trust: dict[str, Any]) -> dict[str, Any]:
    sign_in(role=m.StaffRole.TRUST_MONITOR, organisation=trust["org"])
    status, board, mimetype = json_of(client, f"/api/v1/trusts/NRT/dashboard?study={trust['study'].code}")
    assert (status, mimetype) == (200, "application/json")
    return board


def test_no_small_group_figure_leaves(app: Flask, client: FlaskClient, sign_in: Callable[..., m.User],
                                      trust: dict[str, Any]) -> None:
    board = _board(client, sign_in, trust)
    min_group = app.config["MIN_GROUP_SIZE"]
    assert board["min_group_size"] == min_group
    cells = list(_cells(board))
    withheld = [c for c in cells if c["suppressed"]]
    assert withheld, "the 2-person team must be withheld"
    for cell in withheld:
        assert cell["n"] is None and cell["value"] is None
    for cell in cells:
        assert cell["suppressed"] or cell["n"] == 0 or cell["n"] >= min_group
    small = [r for r in board["gaps"] if r["team"] == "Small team" and r["scale"] == "equality"]
    assert small and small[0]["peer_workers"]["suppressed"] and small[0]["gap"] is None
    for row in board["team_response_rates"]:
        if row["suppressed"]:
            assert row["invited"] is row["completed"] is row["still_open"] is row["rate"] is None
        else:
            assert row["invited"] >= min_group
    # The small team's two peer workers' wave-2 equality mean (3.0 and 3.1) appears nowhere,
    # nor does the mean of its two peers at wave 1, nor their count.
    numbers = list(_numbers(board))
    for secret in (3.05, 2.05):
        assert not any(abs(x - secret) < 1e-9 for x in numbers), secret


def _html_tables(page: str) -> dict[str, list[list[str]]]:
    """Each table of the page (keyed by id, else caption) as rows of cell texts."""
    tables = {}
    for attrs, body in re.findall(r"<table([^>]*)>(.*?)</table>", page, re.S):
        key = re.search(r'id="([^"]+)"', attrs) or re.search(r"<caption[^>]*>(.*?)</caption>", body, re.S)
        assert key is not None
        rows = [[" ".join(html.unescape(re.sub(r"<[^>]+>", "", c)).split())
                 for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
                for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
        tables[key.group(1).strip()] = rows
    return tables


def _shown(cell: dict[str, Any], interval: bool = False) -> str:
    """How the HTML page prints a cell (a trend table's with the mean's 95% interval)."""
    if cell["suppressed"]:
        return "withheld"
    if cell["value"] is None:
        return "–"
    ci = (f" (95% CI {cell['ci_low']:.1f} to {cell['ci_high']:.1f})"
          if interval and cell["ci_low"] is not None else "")
    return f"{cell['value']:.1f}{ci} (n={cell['n']})"  # one decimal place, as the NHS Staff Survey


def test_json_equals_the_html_dashboard(client: FlaskClient, sign_in: Callable[..., m.User],
                                        trust: dict[str, Any]) -> None:
    board = _board(client, sign_in, trust)
    tables = _html_tables(client.get(f"/dashboard/NRT?study={trust['study'].code}").get_data(as_text=True))
    labels = {g["id"]: g["label"] for g in board["groups"]}
    waves = [w["index"] for w in board["waves"]]
    scales = sorted({row["scale"] for row in board["trends"]})
    assert scales == ["equality", "support"]
    for scale in scales:
        expected = [[label] + [_shown(next(r for r in board["trends"] if r["scale"] == scale
                                           and r["group"] == group and r["wave"] == w), True)
                               for w in waves]
                    for group, label in labels.items()]
        assert tables[f"table-{scale}"][1:] == expected, scale
    assert {row["scale"] for row in board["gaps"]} == {"equality", "support"}
    for scale in {row["scale"] for row in board["gaps"]}:
        expected = [[row["team"], _shown(row["peer_workers"]), _shown(row["colleagues"]),
                     "–" if row["gap"] is None else one_dp(row["gap"], signed=True)]
                    for row in board["gaps"] if row["scale"] == scale]
        assert tables[scale.capitalize()][1:] == expected, scale
    rates = [[r["label"], str(r["invited"]), str(r["completed"])] for r in board["response_rates"]]
    assert [row[:3] for row in tables["Response rate by wave for the whole trust"][1:]] == rates
    assert board["response_rates"][0]["invited"] == 20 and board["response_rates"][0]["completed"] == 19
