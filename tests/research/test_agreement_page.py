"""The reliability page's agreement section: multilevel's ICC(1), ICC(2), rwg(j), small teams out."""

from __future__ import annotations

import pandas as pd
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from analysis.agreement import team_agreement
from instruments import load_instrument
from survey import models as m
from survey.services import datasets
from survey.services.agreement import study_agreement
from tests import factories as f
from tests.conftest import StaffLogin


@pytest.fixture
def researcher(db: Session, auth: StaffLogin) -> m.User:
    user = f.UserFactory(role=m.StaffRole.RESEARCHER)
    db.commit()
    auth.login(user.email)
    return user


def _expected(db: Session, study: m.Study, scale: str, wave: int,
              min_group: int) -> tuple[pd.DataFrame, list[str]]:
    """The same computation by hand: complete rows, teams of min_group or more."""
    version = next(si.instrument_version for si in study.instruments
                   if si.instrument_id == "colleague")
    instrument = load_instrument("colleague", version)
    answers = datasets.item_answers(db, study, "colleague", version, keyed=True)
    items = list(instrument.scales[scale].items)
    part = answers[answers["wave"] == wave].dropna(subset=[*items, "team"])
    sizes = part["team"].value_counts()
    return part[part["team"].isin(sizes[sizes >= min_group].index)], items


def test_agreement_is_the_analysis_of_the_teams_big_enough(demo: m.Study, db: Session) -> None:
    tables = study_agreement(db, demo, min_group_size=5)
    scale = next(t for t in tables if t.instrument.id == "colleague" and t.scale.id == "equality")
    first = next(w for w in scale.waves if w.results is not None)
    assert [w.wave for w in scale.waves] == sorted(w.wave for w in scale.waves)
    kept, items = _expected(db, demo, "equality", first.wave, 5)
    want = team_agreement(kept, items, "team", ranvar=2.0)  # five response options
    assert first.results is not None
    assert first.results.icc1 == pytest.approx(want.icc1, rel=1e-12)
    assert first.results.icc2 == pytest.approx(want.icc2, rel=1e-12)
    assert first.results.teams.equals(want.teams)
    assert (first.results.teams["size"] >= 5).all()


def test_no_team_smaller_than_the_minimum_is_shown(demo: m.Study, db: Session) -> None:
    tables = study_agreement(db, demo, min_group_size=10_000)
    for table in tables:
        for wave in table.waves:
            assert wave.results is None
            assert wave.error == ("no team has at least 10000 people who answered every item "
                                  "of the scale at this wave")
    # peer workers are one or two a team in the demo: never shown at the default minimum
    for table in study_agreement(db, demo, min_group_size=5):
        if table.instrument.id == "peer_worker":
            assert all(w.results is None for w in table.waves)


def test_page_shows_agreement_and_standardised_alpha(
    app: Flask, demo: m.Study, researcher: m.User, client: FlaskClient, db: Session
) -> None:
    page = client.get("/research/demo/reliability").get_data(as_text=True)
    assert "Is it a team score?" in page and "Standardised alpha" in page
    scale = next(t for t in study_agreement(db, demo, app.config["MIN_GROUP_SIZE"])
                 if t.instrument.id == "colleague" and t.scale.id == "equality")
    results = next(w.results for w in scale.waves if w.results is not None)
    assert f"<td>{results.icc1:.3f}</td><td>{results.icc2:.3f}</td>" in page
    team = results.teams.iloc[0]
    assert f"{team['group']}: {team['rwg_j']:.3f}" in page
    assert "nan" not in page.lower().replace("nanny", "")

