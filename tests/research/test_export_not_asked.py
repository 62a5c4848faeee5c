""""Not asked" (a condition hid the question) is its own missing kind in every export format."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pyreadstat
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey.services.exports import build_export
from tests.respondent.test_conditions import LIKERT_3, conditional_dir, mini_link, post

__all__ = ["conditional_dir"]  # the fixture, used by name


def test_not_asked_is_distinct_in_csv_sav_dta_fhir_and_codebook(
        conditional_dir: Path, db: Session, client: FlaskClient, tmp_path: Path) -> None:
    link = mini_link(db)
    post(client, link, 1, {"a1": "2", "a2": "3", "a3": "4"})
    post(client, link, 3, LIKERT_3)
    # supervised = no: 'useful' and page 5 not asked; hours left blank: not answered.
    assert post(client, link, 4, {"supervised": "0", "useful": "2"}).endswith("/thanks")
    study = link.invitation.participant.study
    archive = zipfile.ZipFile(io.BytesIO(build_export(db, study, None)))
    long = {r["scale"]: r for r in csv.DictReader(io.StringIO(archive.read("long.csv").decode()))}
    assert (long["second"]["items_answered"], long["second"]["items_not_asked"]) == ("0", "3")
    assert long["first"]["items_not_asked"] == "0"
    rows = list(csv.DictReader(io.StringIO(archive.read("items_mini_v1.csv").decode())))
    assert len(rows) == 1
    row = rows[0]
    assert (row["b1"], row["useful"], row["better"]) == ("-8", "-8", "-8")  # not asked
    # hours was asked and not answered; so the question on long hours was not asked.
    assert (row["hours"], row["long_hours"]) == ("", "-8")
    assert (row["a1"], row["supervised"]) == ("2", "0")
    for name in ("items_mini_v1.sav", "items_mini_v1.dta"):
        (tmp_path / name).write_bytes(archive.read(name))
    sav, meta = pyreadstat.read_sav(tmp_path / "items_mini_v1.sav", user_missing=True)
    assert sav.loc[0, "b1"] == -8 and sav.loc[0, "useful"] == -8
    assert meta.variable_value_labels["useful"][-8] == "Not asked"
    assert {"lo": -8.0, "hi": -8.0} in meta.missing_ranges["useful"]
    assert sav.loc[0, "better"] == "-8" and meta.missing_ranges["better"] == [
        {"lo": "-8", "hi": "-8"}]
    dta, meta = pyreadstat.read_dta(tmp_path / "items_mini_v1.dta", user_missing=True)
    assert dta.loc[0, "useful"] == "b" and dta.loc[0, "b1"] == "b"
    assert meta.variable_value_labels["useful"]["b"] == "Not asked"
    assert dta.loc[0, "hours"] != "b"
    # FHIR: the Questionnaire says when each item is enabled; the response has no answer.
    questionnaire = json.loads(archive.read("fhir/Questionnaire.ndjson").decode().splitlines()[0])
    items = {i["linkId"]: i for g in questionnaire["item"] for i in g["item"]}
    assert items["useful"]["enableWhen"] == [{"question": "supervised", "operator": "=",
                                              "answerCoding": {"system": "urn:peerpulse:mini:v1:supervised",
                                                               "code": "1"}}]
    assert items["b1"]["enableBehavior"] == "any"
    answer = json.loads(archive.read("fhir/QuestionnaireResponse.ndjson").decode())
    answered = {i["linkId"] for g in answer["item"] for i in g["item"]}
    assert {"useful", "b1", "better"}.isdisjoint(answered) and "supervised" in answered
    # Codebook and REDCap dictionary carry each condition.
    codebook = {r["item_id"]: r for r in csv.DictReader(io.StringIO(archive.read("codebook.csv").decode()))}
    assert codebook["useful"]["show_if"] == "[supervised] = '1'"
    assert codebook["useful"]["show_if_words"] == "supervised is 1 (Yes)"
    assert codebook["a1"]["show_if"] == ""
    redcap = {r["Variable / Field Name"]: r for r in csv.DictReader(
        io.StringIO(archive.read("redcap_mini_v1.csv").decode()))}
    assert redcap["useful"]["Branching Logic (Show field only if...)"] == "[supervised] = '1'"
    assert "peerpulse_role" in redcap
    assert "| not asked (its condition was not met) | -8 |" in archive.read("codebook.md").decode()
