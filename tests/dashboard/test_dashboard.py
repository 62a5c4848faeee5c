"""The trust dashboard: right figures, small groups withheld, each trust sees only itself."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey import models as m
from survey.services.dashboard import Cell, build, suppress
from tests import factories as f
from tests.conftest import StaffLogin
from tests.helpers import completed_with_scores, publish


def test_suppress_withholds_small_cells_and_one_more() -> None:
    cells = [Cell(3, 2.0), Cell(12, 3.0), Cell(6, 4.0), Cell(0, None)]
    suppress(cells, 5)
    assert [c.suppressed for c in cells] == [True, False, True, False]
    assert cells[0].value is None and cells[2].value is None and cells[1].value == 3.0


def test_suppress_keeps_withholding_until_the_hidden_total_is_safe() -> None:
    cells = [Cell(1, 2.0), Cell(2, 2.5), Cell(5, 3.0), Cell(9, 4.0)]
    suppress(cells, 5)
    # 1 + 2 = 3 people hidden could be derived from a total: the 5 is withheld too.
    assert [c.suppressed for c in cells] == [True, True, True, False]


def test_suppress_leaves_large_groups_alone() -> None:
    cells = [Cell(5, 2.0), Cell(8, 3.0)]
    suppress(cells, 5)
    assert not any(c.suppressed for c in cells)


def test_figures_are_right_and_small_groups_withheld(db: Session, trust: dict[str, object]) -> None:
    org, study = trust["org"], trust["study"]
    assert isinstance(org, m.Organisation) and isinstance(study, m.Study)
    board = build(db, study, org.id, min_group=5)
    # Wave 1: 8 peers + 11 colleagues answered, one more peer invited.
    wave1 = board.rates[0]
    assert (wave1.invited, wave1.completed) == (20, 19)
    peers_equality = board.trends["equality"]["peer_workers"]
    expected = sum([2.0 + i * 0.1 for i in range(6)] + [2.0, 2.1]) / 8
    assert peers_equality[1].value == pytest.approx(expected)
    assert peers_equality[1].n == 8
    # Colleagues answered only wave 1: wave 2 has no cell.
    assert board.trends["equality"]["colleagues"][2].n == 0
    # Gap table at wave 2 (latest): only peers answered, small team's 2 peers withheld,
    # and the big team too (else the small team could be derived from the trust mean).
    gaps = board.gaps["equality"]
    assert gaps["Small team"][0].suppressed and gaps["Big team"][0].suppressed
    assert board.gap_wave == 2


def _signed_in(client: FlaskClient, auth: StaffLogin, db: Session, **traits: object) -> m.User:
    user = f.UserFactory(**traits)
    db.commit()
    auth.login(user.email)
    return user


def test_monitor_sees_own_trust_and_no_small_group(db: Session, client: FlaskClient, auth: StaffLogin,
                                                   trust: dict[str, object]) -> None:
    org = trust["org"]
    assert isinstance(org, m.Organisation)
    _signed_in(client, auth, db, role=m.StaffRole.TRUST_MONITOR, organisation=org)
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard/NRT")
    page = client.get("/dashboard/NRT").get_data(as_text=True)
    assert "North Riverside" in page
    assert "withheld" in page
    # No figure is printed for any group smaller than five people.
    assert not re.search(r"\(n=[1-4]\)", page)
    assert "95%" in page  # 19 of 20 invited answered wave 1


def test_monitor_cannot_open_another_trust(db: Session, client: FlaskClient, auth: StaffLogin,
                                           trust: dict[str, object]) -> None:
    _signed_in(client, auth, db, role=m.StaffRole.TRUST_MONITOR, organisation=trust["org"])
    assert client.get("/dashboard/SHP").status_code == 403


@pytest.mark.parametrize("role", [m.StaffRole.RESEARCHER, m.StaffRole.ADMIN])
def test_study_staff_see_every_trust(db: Session, client: FlaskClient, auth: StaffLogin,
                                     trust: dict[str, object], role: m.StaffRole) -> None:
    _signed_in(client, auth, db, role=role)
    index = client.get("/dashboard/").get_data(as_text=True)
    assert "North Riverside" in index and "South Hills" in index
    assert client.get("/dashboard/SHP").status_code == 200


def test_dashboard_needs_sign_in(client: FlaskClient, app: Flask) -> None:
    for url in ("/dashboard/", "/dashboard/NRT"):
        response = client.get(url)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_unknown_trust_is_404(db: Session, client: FlaskClient, auth: StaffLogin) -> None:
    _signed_in(client, auth, db, role=m.StaffRole.ADMIN)
    assert client.get("/dashboard/NOPE").status_code == 404


def test_dashboard_page_shows_chart_and_table(db: Session, client: FlaskClient, auth: StaffLogin,
                                              trust: dict[str, object]) -> None:
    _signed_in(client, auth, db, role=m.StaffRole.RESEARCHER)
    page = client.get("/dashboard/NRT").get_data(as_text=True)
    assert '<svg class="chart"' in page and "<polyline" in page
    assert 'id="table-equality"' in page
    assert "style=" not in page  # CSP: no inline styles


def test_response_rates_by_role_group(db: Session, trust: dict[str, object]) -> None:
    org, study = trust["org"], trust["study"]
    assert isinstance(org, m.Organisation) and isinstance(study, m.Study)
    board = build(db, study, org.id, min_group=5)
    wave1 = {r.group: (r.invited, r.completed, r.suppressed) for r in board.group_rates if r.wave == 1}
    assert wave1 == {"peer_workers": (9, 8, False), "colleagues": (11, 11, False)}
    # With a threshold of 10 the peer workers' 9 are withheld, and the colleagues too,
    # or the peer workers' rate would follow from the trust's total.
    strict = build(db, study, org.id, min_group=10)
    assert {r.group: r.suppressed for r in strict.group_rates if r.wave == 1} == {
        "peer_workers": True, "colleagues": True}


def test_a_withheld_group_size_cannot_be_worked_out(db: Session) -> None:
    """Three peer workers answered: their mean is withheld, and so is the colleagues' n."""
    org = f.OrganisationFactory()
    study = f.StudyFactory()
    wave = f.WaveFactory(study=study, index=1)
    team = f.TeamFactory(organisation=org)
    for _ in range(3):
        completed_with_scores(db, f.ParticipantFactory(study=study, team=team), wave, {"support": 2.0})
    for _ in range(6):
        completed_with_scores(db, f.ParticipantFactory(study=study, team=team, colleague=True), wave, {"support": 4.0})
    tiny = f.OrganisationFactory()
    completed_with_scores(db, f.ParticipantFactory(study=study, team=f.TeamFactory(organisation=tiny)), wave,
              {"support": 3.0})
    db.commit()
    publish(db)
    board = build(db, study, org.id, min_group=5)
    peers, colleagues = (board.trends["support"][g][1] for g in ("peer_workers", "colleagues"))
    assert peers.suppressed and peers.value is None
    assert colleagues.value == 4.0 and colleagues.n_hidden
    # A trust with fewer than five people invited shows no response counts either.
    assert build(db, study, tiny.id, min_group=5).rates[0].suppressed
