"""No figure about fewer than the threshold, nor any other trust's own figure, reaches a monitor:
not in the page, the CSV or the API, and not through a difference of two shown figures."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey import models as m
from survey.services import dashboard_stats as stats
from survey.services.dashboard import PEERS, build
from tests import factories as f
from tests.conftest import StaffLogin
from tests.dashboard.conftest import PEERS_1, PEERS_2
from tests.helpers import completed_with_scores, publish

# Each other trust's own means at wave 2 (see conftest): peers 3.2, 3.1, 2.7; colleagues 2.4, 2.7, 2.3.
SECRETS = (3.2, 3.1, 2.7, 2.4, 2.3)


def _monitor(db: Session, auth: StaffLogin, org: m.Organisation) -> None:
    user = f.UserFactory(role=m.StaffRole.TRUST_MONITOR, organisation=org)
    db.commit()
    auth.login(user.email)


def _text(page: str, intervals: bool = False) -> str:
    """The words a reader sees: no SVG drawing coordinates, no tags, and not the intervals of
    the trust's own means (test_scorecard checks they are exactly the trust's own), whose
    bounds may equal another trust's mean by chance."""
    page = re.sub(r"<svg.*?</svg>", " ", page, flags=re.S)
    if not intervals:
        page = re.sub(r'<span class="mean-ci">.*?</span>', " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _without_mean_intervals(sheet: str) -> str:
    """The CSV without the trust's own means' intervals (see `_text`)."""
    rows = list(csv.DictReader(io.StringIO(sheet)))
    for row in rows:
        if row["section"] == "mean score":
            row["ci_low"] = row["ci_high"] = ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _numbers(data: Any) -> Iterator[float]:
    if isinstance(data, dict):
        for value in data.values():
            yield from _numbers(value)
    elif isinstance(data, list):
        for value in data:
            yield from _numbers(value)
    elif isinstance(data, int | float) and not isinstance(data, bool):
        yield float(data)


def _everything(client: FlaskClient, study: m.Study, path: str, api: str,
                intervals: bool = False) -> tuple[str, str, dict[str, Any]]:
    page = client.get(f"{path}?study={study.code}")
    sheet = client.get(f"{path}/figures.csv?study={study.code}")
    data = client.get(f"{api}&study={study.code}" if "?" in api else f"{api}?study={study.code}")
    assert (page.status_code, sheet.status_code, data.status_code) == (200, 200, 200)
    assert sheet.mimetype == "text/csv"
    return (_text(page.get_data(as_text=True), intervals), sheet.get_data(as_text=True),
            data.get_json())


def test_no_other_trusts_own_figures_reach_a_monitor(db: Session, client: FlaskClient, auth: StaffLogin,
                                                     small_study: dict[str, Any]) -> None:
    _monitor(db, auth, small_study["org"])
    page, sheet, data = _everything(client, small_study["study"], "/dashboard/AAA",
                                    "/api/v1/trusts/AAA/dashboard")
    # Not the trust's own means' intervals (see `_text`).
    numbers = list(_numbers({**data, "trends": [
        {k: v for k, v in row.items() if k not in ("ci_low", "ci_high")} for row in data["trends"]]}))
    for secret in SECRETS:
        assert not any(abs(x - secret) < 1e-9 for x in numbers), secret
        assert not re.search(rf"(?<![\d.]){re.escape(str(secret))}(?!\d)", page), secret
        assert f",{secret}," not in _without_mean_intervals(sheet), secret
    # Only the pooled comparator is there: 45/15 = 3.0 for peers, 37/15 = 2.466667 for
    # colleagues, at the page's precision (1 decimal place).
    pooled = {b["group"]: b["comparator_value"] for b in data["benchmarks"]}
    assert pooled == {"peer_workers": 3.0, "colleagues": 2.5}
    assert all(b["comparator_trusts"] == 3 for b in data["benchmarks"])
    assert "Trust B" not in page and "BBB" not in page and "BBB" not in sheet
    # Nor can the monitor open any other trust's figures.
    for url in ("/dashboard/BBB", "/dashboard/BBB/figures.csv", "/dashboard/BBB/teams/BBB-1",
                "/dashboard/BBB/teams/BBB-1/figures.csv", "/api/v1/trusts/BBB/dashboard?study=x"):
        assert client.get(url).status_code == 403, url
    assert client.get("/dashboard/AAA/teams/BBB-1").status_code == 404  # not a team of AAA
    assert client.get("/api/v1/trusts/AAA/dashboard?study="
                      f"{small_study['study'].code}&team=BBB-1").status_code == 404


def test_a_change_resting_on_four_people_is_withheld_everywhere(
        db: Session, client: FlaskClient, auth: StaffLogin, small_study: dict[str, Any]) -> None:
    """Five peer workers at each wave, but only four answered both: no CI, no verdict."""
    study = small_study["study"]
    w1, w2 = small_study["waves"]
    # Trust E: persons 0-4 answer wave 1; persons 0-3 and a new person 5 answer wave 2.
    org = f.OrganisationFactory(code="EEE", name="Trust E")
    small = f.TeamFactory(organisation=org, code="E1", name="Team E")
    people = [f.ParticipantFactory(study=study, team=small) for _ in range(6)]
    for i, person in enumerate(people[:5]):
        completed_with_scores(db, person, w1, {"equality": PEERS_1[i]})
    for i, person in enumerate(people[:4]):
        completed_with_scores(db, person, w2, {"equality": PEERS_2[i]})
    completed_with_scores(db, people[5], w2, {"equality": 4.0})
    db.commit()
    publish(db, fresh=True)
    before = {i: PEERS_1[i] for i in range(5)}
    after = {**{i: PEERS_2[i] for i in range(4)}, 5: 4.0}
    would_be = stats.change(before, after)  # what a four-pair interval would have been
    board = build(db, study, org.id, min_group=5)
    peers = [c for c in board.changes if c.group == PEERS]
    assert peers and all(c.suppressed and c.verdict is None for c in peers)
    assert peers[0].reason == "withheld: fewer than 5 people answered both waves"
    assert all(c.suppressed for c in board.gap_changes)  # the gap change rests on it too
    assert not board.summary

    _monitor(db, auth, org)
    page, sheet, data = _everything(client, study, "/dashboard/EEE", "/api/v1/trusts/EEE/dashboard")
    numbers = list(_numbers(data))
    for bound in would_be.ci:
        assert not any(abs(x - bound) < 1e-9 for x in numbers)
        assert f"{bound:+.1f} to" not in page
    for row in data["changes"]:
        assert row["suppressed"] and row["estimate"] is row["ci_low"] is row["verdict"] is None
    raw = client.get(f"/dashboard/EEE?study={study.code}").get_data(as_text=True)
    for table in ("table-change", "table-gap-change"):
        assert 'class="verdict' not in raw.split(f'id="{table}"')[1].split("</table>")[0]
    assert "Not enough people answered both waves" in page
    for word in ("better", "worse", "no clear change"):
        assert word not in sheet
    assert "fewer than 5 people answered both waves" in page
    assert sum(1 for r in csv.DictReader(io.StringIO(sheet))
               if r["section"].startswith("change") and r["value"] == "withheld") == 4


def test_shown_differences_rest_only_on_shown_figures(db: Session, small_study: dict[str, Any]) -> None:
    """A change is the difference of two shown means; a gap change of two shown changes;
    a comparison of a shown trust mean and a comparator of three large-enough trusts."""
    study, org = small_study["study"], small_study["org"]
    # A second team of two peer workers answering both waves.
    tiny = f.TeamFactory(organisation=org, code="T2", name="Team two")
    w1, w2 = small_study["waves"]
    for x1, x2 in ((2.5, 2.9), (3.5, 3.0)):
        p = f.ParticipantFactory(study=study, team=tiny)
        completed_with_scores(db, p, w1, {"equality": x1})
        completed_with_scores(db, p, w2, {"equality": x2})
    db.commit()
    publish(db, fresh=True)
    for team_id in (None, small_study["team"].id, tiny.id):
        board = build(db, study, org.id, min_group=5, team_id=team_id)
        for change in board.changes:
            row = board.trends[change.scale][change.group]
            if change.estimate is not None:
                shown = row[change.wave_from], row[change.wave_to]
                assert all(c.value is not None and c.n >= 5 for c in shown)
                assert change.estimate.value == pytest.approx(shown[1].value - shown[0].value)
        for gap in board.gap_changes:
            if gap.estimate is not None:
                assert all(c.estimate is not None for c in board.changes
                           if c.scale == gap.scale and c.since == gap.since)
        for bench in board.benchmarks:
            if bench.estimate is not None:
                assert board.trends[bench.scale][bench.group][bench.wave].value == bench.trust_value
                assert bench.comparator_trusts is not None and bench.comparator_trusts >= 3
    # Team one (5 peers) is withheld with team two (2 peers): else 7 - 5 = 2 would show through.
    team_one = build(db, study, org.id, min_group=5, team_id=small_study["team"].id)
    assert all(c.suppressed for c in team_one.trends["equality"][PEERS].values())
    assert all(c.suppressed for c in team_one.changes if c.group == PEERS)
    assert team_one.benchmarks == []  # the comparator is for the whole trust only


def test_csv_holds_exactly_the_pages_figures(db: Session, client: FlaskClient, auth: StaffLogin,
                                              small_study: dict[str, Any]) -> None:
    _monitor(db, auth, small_study["org"])
    page, sheet, _data = _everything(client, small_study["study"], "/dashboard/AAA",
                                     "/api/v1/trusts/AAA/dashboard", intervals=True)
    rows = list(csv.DictReader(io.StringIO(sheet)))
    assert rows and set(rows[0]) >= {"section", "value", "ci_low", "ci_high", "n", "verdict"}
    for row in rows:
        for column in ("value", "ci_low", "ci_high", "n", "completed", "still_open"):
            value = row[column]
            if value and value != "withheld":
                assert re.fullmatch(r"[+-]?\d+(\.\d)?", value), (column, value)  # one decimal place
                assert re.search(rf"(?<![\d.]){re.escape(value)}(?![\d])", page), (row, column)
        if row["verdict"]:
            assert row["verdict"] in page
    change = next(r for r in rows if r["section"] == "change since baseline" and r["group"] == "Peer workers")
    # 0.6 with CI 0.207 to 0.993, to one decimal place.
    assert (change["value"], change["ci_low"], change["ci_high"], change["verdict"]) == (
        "+0.6", "+0.2", "+1.0", "better")
    assert "+0.6 (95% CI +0.2 to +1.0) better" in page
    assert "Equality among peer workers: up 0.6 points since Baseline (2.8 to 3.4; 95% CI 0.2 to 1.0), better." in page


def test_team_view_is_the_same_in_the_api(db: Session, client: FlaskClient, auth: StaffLogin,
                                          small_study: dict[str, Any]) -> None:
    """The API's team JSON carries the team page's figures: here one team of five peer workers
    and five colleagues, so the team's change is the trust's (0.6, CI 0.2 to 1.0, better)."""
    _monitor(db, auth, small_study["org"])
    study = small_study["study"]
    data = client.get(f"/api/v1/trusts/AAA/dashboard?study={study.code}&team=T1").get_json()
    assert data["team"] == {"code": "T1", "name": "Team one"}
    assert data["benchmarks"] == []  # no comparator for a team
    change = next(c for c in data["changes"] if c["group"] == "peer_workers" and c["since"] == "baseline")
    assert change["estimate"] == pytest.approx(0.6) and change["verdict"] == "better"
    # 0.2073513677 to 0.9926486323, to the page's 1 decimal place.
    assert (change["ci_low"], change["ci_high"]) == (0.2, 1.0)
    page = _text(client.get(f"/dashboard/AAA/teams/T1?study={study.code}").get_data(as_text=True))
    assert "Team one, Trust A" in page and "+0.6 (95% CI +0.2 to +1.0) better" in page
