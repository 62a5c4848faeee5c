"""Research pages: data sets from the database, model fits, reliability, the export."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from flask.testing import FlaskClient
from numpy.testing import assert_allclose
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.services import datasets
from tests import factories as f
from tests.conftest import StaffLogin

MODEL = "/research/demo/model?scale=equality&by=role_group&method=REML"


@pytest.fixture
def researcher(db: Session, auth: StaffLogin) -> m.User:
    user = f.UserFactory(role=m.StaffRole.RESEARCHER)
    db.commit()
    auth.login(user.email)
    return user


def test_long_scores_are_pseudonymous_and_timed(db: Session) -> None:
    study = f.StudyFactory()
    wave = f.WaveFactory(study=study, index=2)
    p = f.ParticipantFactory(study=study, anchor_date=dt.date(2026, 1, 1))
    inv = f.InvitationFactory(participant=p, wave=wave, status=m.InvitationStatus.COMPLETED)
    response = m.Response(invitation=inv, instrument_id="peer_worker", instrument_version=1,
                          instrument_hash="0" * 64,
                          submitted_at=dt.datetime(2026, 4, 2, 10, tzinfo=dt.UTC))
    response.scores = [m.ScaleScore(scale="equality", score=3.5, items_answered=7)]
    unsubmitted = m.Response(invitation=f.InvitationFactory(participant=f.ParticipantFactory(study=study), wave=wave),
                             instrument_id="peer_worker", instrument_version=1, instrument_hash="0" * 64)
    unsubmitted.scores = [m.ScaleScore(scale="equality", score=1.0, items_answered=7)]
    db.add_all([response, unsubmitted])
    db.commit()
    frame = datasets.long_scores(db, study)
    assert list(frame.columns) == datasets.LONG_COLUMNS
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row.participant == p.code and row.wave == 2 and row.role_group == "peer_worker"
    assert row.months == pytest.approx(91 / (365.25 / 12), abs=1e-3)
    assert row.score == 3.5
    assert p.contact is not None
    assert p.contact.email not in frame.to_csv()


def test_research_pages_need_a_researcher(db: Session, client: FlaskClient, auth: StaffLogin) -> None:
    assert client.get("/research/").status_code == 302
    monitor = f.UserFactory(monitor=True)
    db.commit()
    auth.login(monitor.email)
    for url in ("/research/", MODEL, "/research/demo/export.zip", "/research/demo/reliability"):
        assert client.get(url).status_code == 403, url


def test_model_page_fits_and_downloads_agree(demo: m.Study, researcher: m.User, client: FlaskClient) -> None:
    page = client.get(MODEL)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "months:role_group[T.peer_worker]" in text
    assert "did not converge" not in text
    data = json.loads(client.get(MODEL.replace("/model?", "/model.json?")).data)
    assert set(data) == {"formula", "method", "n_obs", "n_subjects", "n_groups", "fixed_effects",
                         "random_effects", "residual_sd", "loglik", "aic", "bic", "converged", "warnings"}
    assert data["method"] == "REML" and data["converged"] is True
    assert data["n_subjects"] == 156
    slope = next(fe for fe in data["fixed_effects"] if fe["term"] == "months:role_group[T.peer_worker]")
    assert f"{slope['estimate']:.4f}" in text
    # The demo's peer workers start lower on equality than colleagues see them.
    group = next(fe for fe in data["fixed_effects"] if fe["term"] == "role_group[T.peer_worker]")
    assert group["ci_high"] < 0
    svg = client.get(MODEL.replace("/model?", "/model.svg?"))
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    png = client.get(MODEL.replace("/model?", "/model.png?"))
    assert png.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_team_level_model_reports_teams(demo: m.Study, researcher: m.User, client: FlaskClient) -> None:
    data = json.loads(client.get(MODEL.replace("/model?", "/model.json?") + "&team_level=y").data)
    assert data["n_groups"] == 12
    assert data["random_effects"]["group"] is not None


def test_model_without_data_says_so(db: Session, researcher: m.User, client: FlaskClient) -> None:
    f.StudyFactory(code="empty")
    db.commit()
    page = client.get("/research/empty/model")
    assert page.status_code == 200
    response = client.get("/research/empty/model.json?scale=equality&by=&method=REML")
    assert response.status_code == 400


def test_reliability_page_lists_each_scale(demo: m.Study, researcher: m.User, client: FlaskClient) -> None:
    page = client.get("/research/demo/reliability").get_data(as_text=True)
    assert "Peer worker survey – Equality" in page
    assert "Alpha (95% CI)" in page
    # Reverse-keyed items are reversed first; unreversed, alpha of these scales falls below 0.
    # (ICCs in the agreement section below may be negative: the demo has no team effect.)
    assert "<td>-0." not in page.split("Is it a team score?")[0]


def test_item_answers_keyed_reverses_reverse_items(demo: m.Study, db: Session) -> None:
    from instruments import load_instrument

    instrument = load_instrument("peer_worker", 2)  # the demo's version
    reverse = next(i.id for i in instrument.items if i.reverse)
    raw = datasets.item_answers(db, demo, "peer_worker", 2)
    keyed = datasets.item_answers(db, demo, "peer_worker", 2, keyed=True)
    assert "pw_open" not in raw.columns  # free text only in the research export
    answered = raw[reverse].notna()
    assert ((raw[reverse] + keyed[reverse])[answered] == 6).all()
    forward = next(i.id for i in instrument.items if not i.reverse)
    assert raw[forward].equals(keyed[forward])


def test_export_has_data_and_codebook_but_no_contact_details(
    db: Session, demo: m.Study, researcher: m.User, client: FlaskClient, tmp_path: Path
) -> None:
    page = client.get("/research/").get_data(as_text=True)
    assert 'name="without_free_text" value="1"' in page
    assert "Leave out free-text answers (every file)</label>" in page
    response = client.get("/research/demo/export.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {"README.txt", "long.csv", "wide.csv", "codebook.csv", "codebook.md",
            "items_peer_worker_v2.csv", "items_colleague_v2.csv", "long.dta", "wide.dta",
            "items_peer_worker_v2.dta", "items_colleague_v2.dta", "redcap_peer_worker_v2.csv",
            "redcap_colleague_v2.csv", "fhir/Questionnaire.ndjson",
            "fhir/QuestionnaireResponse.ndjson"} <= names
    long = pd.read_csv(archive.open("long.csv"))
    assert long["participant"].nunique() == 156
    # Every file's raw bytes: .sav, .dta, the REDCap dictionaries and the FHIR resources too.
    everything = b"".join(archive.read(n) for n in names)
    for contact in db.scalars(select(m.Contact)):
        for detail in (contact.email, contact.mobile, contact.external_id):
            assert detail is None or detail.encode() not in everything
    items = pd.read_csv(archive.open("items_peer_worker_v2.csv"))
    assert "pw_eq_1" in items.columns or any(c.startswith("pw_") for c in items.columns)
    # SPSS files carry the same data with item wording and response labels.
    import pyreadstat

    assert {"long.sav", "wide.sav", "items_peer_worker_v2.sav", "items_colleague_v2.sav"} <= names
    sav_path = tmp_path / "items.sav"
    sav_path.write_bytes(archive.read("items_peer_worker_v2.sav"))
    sav, meta = pyreadstat.read_sav(str(sav_path))
    assert len(sav) == len(items)
    assert meta.column_names_to_labels["pw_id_1"] == "I am proud to be a peer worker."
    assert meta.variable_value_labels["pw_id_1"][5] == "Strongly agree"
    # Read without user-missing values, "does not apply" (-9 in the CSV) is missing too.
    assert sav["pw_id_1"].isna().sum() == (items["pw_id_1"].isna() | (items["pw_id_1"] == -9)).sum()
    event = db.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "export")).one()
    assert event.user_id == researcher.id and event.detail["participants"] == 156
    assert event.detail["free_text"] is True
    # The form's checkbox leaves free text out.
    assert "pw_open" in items.columns
    without = zipfile.ZipFile(io.BytesIO(
        client.get("/research/demo/export.zip?without_free_text=1").data))
    assert "pw_open" not in pd.read_csv(without.open("items_peer_worker_v2.csv")).columns


def test_change_page_reports_reliable_change_and_team_change(demo: m.Study, researcher: m.User,
                                                             client: FlaskClient, db: Session) -> None:
    from survey.services import change_report

    report = change_report.build(db, demo, "equality", 1, 3)
    assert {g.role_group for g in report.groups} == {"peer_worker", "colleague"}
    for group in report.groups:
        assert 0.5 < group.reliability < 1
        assert sum(group.counts.values()) == len(group.table) > 0
    assert report.teams is not None and len(report.teams) == 12
    assert (report.teams["ci_low"] < report.teams["estimate"]).all()
    page = client.get("/research/demo/change?scale=equality&from=1&to=3").get_data(as_text=True)
    assert "Reliable change per person" in page and "Estimated change per team" in page
    bad = client.get("/research/demo/change?scale=equality&from=3&to=1").get_data(as_text=True)
    assert "choose a later wave" in bad


# statsmodels warns whenever a random-effect variance is below 0.01; the slope variance per month
# (about 0.0012, an SD of 0.034) is small only because of the unit, not on the boundary.
@pytest.mark.filterwarnings("ignore:The MLE may be on the boundary:statsmodels.tools.sm_exceptions.ConvergenceWarning")
def test_team_change_agrees_with_an_independent_mixedlm_fit(demo: m.Study, db: Session) -> None:
    from survey.services import change_report

    report = change_report.build(db, demo, "equality", 1, 3)
    assert report.teams is not None
    # The same model fitted here directly with statsmodels (Nelder-Mead, which reaches the optimum
    # on this flat REML surface where L-BFGS stops early): score ~ months * team with a
    # correlated random intercept and slope per participant, on the report's data and times.
    long = datasets.long_scores(db, demo, "equality").dropna(subset=["score"])
    times = long[long["wave"].isin([1, 3])].groupby("wave")["months"].median()
    span = times[3] - times[1]
    model = smf.mixedlm("score ~ months * team", long, groups=long["participant"], re_formula="~months")
    fit = model.fit(reml=True, method=["nm"], maxiter=5000)
    assert fit.converged
    beta, vcov = fit.fe_params, fit.cov_params().loc[fit.fe_params.index, fit.fe_params.index]
    expected = {}
    for team in sorted(long["team"].unique()):
        contrast = pd.Series(0.0, index=beta.index)
        contrast["months"] = span
        if f"months:team[T.{team}]" in contrast.index:  # the first team is the reference level
            contrast[f"months:team[T.{team}]"] = span
        expected[team] = (contrast @ beta, np.sqrt(contrast @ vcov @ contrast))
    assert list(report.teams["team"]) == list(expected)
    assert_allclose(report.teams["estimate"], [e for e, _ in expected.values()], rtol=1e-3)
    # statsmodels' SEs come from the Hessian of all parameters, lme4-style ones from the fixed
    # effects given the variance components: they differ by about 0.3% here.
    assert_allclose(report.teams["se"], [se for _, se in expected.values()], rtol=1e-2)
    assert report.months == pytest.approx(span)
