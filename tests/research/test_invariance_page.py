"""The measurement invariance page: access, paired items, waves and plain errors."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import AnalysisError
from instruments import load_instrument
from survey import models as m
from survey.services import invariance_report
from survey.services.invariance_report import InvarianceChoice
from tests import factories as f
from tests.conftest import StaffLogin

PAGE = "/research/demo/invariance"


def _login(db: Session, auth: StaffLogin, **traits: object) -> None:
    user = f.UserFactory(**traits)
    db.commit()
    auth.login(user.email)


def test_only_researchers_and_admins_see_it(demo: m.Study, db: Session, client: FlaskClient,
                                            auth: StaffLogin) -> None:
    assert client.get(PAGE).status_code == 302  # to the sign-in page
    _login(db, auth, monitor=True)
    assert client.get(PAGE).status_code == 403
    assert client.get(PAGE + "?scale=identity&across=role&wave=1").status_code == 403
    auth.logout()
    _login(db, auth, role=m.StaffRole.ADMIN)
    assert client.get(PAGE).status_code == 200


def test_paired_items_map_colleague_items_to_peer_items() -> None:
    peer, colleague = load_instrument("peer_worker", 1), load_instrument("colleague", 1)
    pairs = invariance_report.paired_items(peer, colleague, "identity")
    assert pairs
    for col_item, peer_item in pairs.items():
        assert colleague.item(col_item).pair == peer_item
        assert peer.item(peer_item).scale == "identity"
    assert invariance_report.paired_items(colleague, colleague, "identity") == {}


def test_role_comparison_uses_the_pairs_at_one_wave(demo: m.Study, db: Session) -> None:
    report = invariance_report.build(db, demo, InvarianceChoice("identity", "role", wave=1))
    peer = load_instrument("peer_worker", 1)
    pairs = invariance_report.paired_items(peer, load_instrument("colleague", 1), "identity")
    assert list(report.items) == [i for i in peer.scales["identity"].items if i in pairs.values()]
    res = report.results
    assert set(res.groups) == {"peer worker", "colleague"}
    assert [s.model for s in res.steps] == ["configural", "metric", "scalar"]
    assert res.converged
    # Nested steps: constraints add degrees of freedom and cannot improve the fit.
    assert res.steps[0].df < res.steps[1].df < res.steps[2].df
    assert res.steps[0].chisq <= res.steps[1].chisq + 1e-6 <= res.steps[2].chisq + 2e-6
    wave1 = {code for code, in db.execute(
        select(m.Participant.code).join(m.Invitation).join(m.Wave).join(m.Response)
        .where(m.Wave.index == 1, m.Response.submitted_at.is_not(None)))}
    assert res.n_obs <= len(wave1)


def test_wave_comparison_within_one_group(demo: m.Study, db: Session) -> None:
    report = invariance_report.build(db, demo, InvarianceChoice("identity", "wave",
                                                                role_group="colleague"))
    assert list(report.results.groups) == ["wave 1", "wave 2", "wave 3"]
    assert list(report.items) == list(load_instrument("colleague", 1).scales["identity"].items)
    # Items asked at the first wave only cannot be compared across waves.
    with pytest.raises(AnalysisError, match="column 'wave' has 1 group"):
        invariance_report.build(db, demo, InvarianceChoice("starting_out", "wave"))


def test_page_shows_the_steps(demo: m.Study, db: Session, client: FlaskClient,
                              auth: StaffLogin) -> None:
    _login(db, auth, role=m.StaffRole.RESEARCHER)
    page = client.get(PAGE + "?scale=identity&across=role&wave=1").get_data(as_text=True)
    report = invariance_report.build(db, demo, InvarianceChoice("identity", "role", wave=1))
    assert "Chi-square difference between steps" in page
    assert f"{report.results.step('metric').cfi:.3f}" in page
    assert "Metric to scalar" in page
    assert 'role="alert"' not in page


def test_bad_choices_are_plain_messages(demo: m.Study, db: Session, client: FlaskClient,
                                        auth: StaffLogin) -> None:
    _login(db, auth, role=m.StaffRole.RESEARCHER)
    page = client.get(PAGE + "?scale=nonsense&across=role&wave=1")
    assert page.status_code == 200
    assert "Choose a scale and a wave from the lists." in page.get_data(as_text=True)
    page = client.get(PAGE + "?scale=identity&across=sideways&wave=1").get_data(as_text=True)
    assert "choose role or wave" in page
    empty = f.StudyFactory(code="empty")
    db.commit()
    with pytest.raises(AnalysisError, match="no submitted answers to analyse yet"):
        invariance_report.build(db, empty, InvarianceChoice("identity", "role", wave=1))


def test_page_uses_every_answer_by_default_and_says_how_many_rows(
        demo: m.Study, db: Session, client: FlaskClient, auth: StaffLogin) -> None:
    _login(db, auth, role=m.StaffRole.RESEARCHER)
    page = client.get(PAGE + "?scale=identity&across=wave&role_group=colleague").get_data(as_text=True)
    report = invariance_report.build(db, demo, InvarianceChoice("identity", "wave",
                                                                role_group="colleague"))
    res = report.results
    assert res.missing == "ml"
    assert res.rows_note.startswith(f"{res.n_obs} of {res.rows_read} rows used (full-information ML")
    assert res.rows_note in page
    item = list(report.items)[1]  # the first is the marker: no standard error
    se = res.step("configural").loading_ses["wave 1"][item]
    assert se is not None and f"{res.step('configural').loadings['wave 1'][item]:.3f} ({se:.3f})" in page
    assert 'id="missing-ml" name="missing" value="ml" checked' in page
    listwise = invariance_report.build(db, demo, InvarianceChoice(
        "identity", "wave", role_group="colleague", missing="listwise")).results
    assert listwise.n_obs <= res.n_obs
    page = client.get(PAGE + "?scale=identity&across=wave&role_group=colleague&missing=listwise")
    text = page.get_data(as_text=True)
    assert listwise.rows_note in text
    assert 'value="listwise" checked' in text
    page = client.get(PAGE + "?scale=identity&across=wave&role_group=colleague&missing=pairwise")
    assert page.status_code == 200
    assert "choose how missing answers are handled" in page.get_data(as_text=True)
