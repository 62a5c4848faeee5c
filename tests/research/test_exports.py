"""The export read back: .sav and .dta values, labels and missing codes against the database; FHIR."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import load_instrument
from instruments.redcap import COLUMNS
from survey import models as m
from survey.services.demo import load_demo
from survey.services.exports import build_export

TABLE = "items_peer_worker_v2"  # the demo's instruments are version 2
PEER = load_instrument("peer_worker", 2)
LIKERT = {i.id for i in PEER.likert_items} | {i.id for i in load_instrument("colleague", 2).likert_items}


@pytest.fixture
def archive(db: Session) -> zipfile.ZipFile:
    """The demo study's export (the demo has some "does not apply" answers)."""
    load_demo(db, today=dt.date(2026, 11, 26))
    db.commit()
    study = db.scalars(select(m.Study)).one()
    payload = build_export(db, study, None)
    db.commit()
    return zipfile.ZipFile(io.BytesIO(payload))


def _stored(db: Session, instrument: str, likert: bool = True) -> dict[tuple[str, int, str], object]:
    """Every stored answer of submitted responses: (participant, wave, item) -> value (None: does not apply).

    Likert answers only, or (`likert` False) only those of the other item types.
    """
    rows = db.execute(
        select(m.Participant.code, m.Wave.index, m.Answer.item_id, m.Answer.value_text,
               m.Answer.value_number, m.Answer.value)
        .join(m.Response, m.Answer.response_id == m.Response.id)
        .join(m.Invitation, m.Response.invitation_id == m.Invitation.id)
        .join(m.Wave, m.Invitation.wave_id == m.Wave.id)
        .join(m.Participant, m.Invitation.participant_id == m.Participant.id)
        .where(m.Response.submitted_at.is_not(None), m.Response.instrument_id == instrument)
    ).all()
    return {(p, w, i): (text if text is not None else number if number is not None
                        else float(v) if v is not None and not likert else v)
            for p, w, i, text, number, v in rows if (i in LIKERT) == likert}


def _cells(frame: pd.DataFrame, items: list[str]) -> dict[tuple[str, int, str], object]:
    """Every non-empty cell of an item table, keyed like _stored."""
    out: dict[tuple[str, int, str], object] = {}
    for row in frame.to_dict(orient="records"):
        for item in items:
            value = row[item]
            if isinstance(value, str) or pd.notna(value):
                out[(row["participant"], int(row["wave"]), item)] = value
    return out


def _extract(archive: zipfile.ZipFile, name: str, tmp_path: Path) -> str:
    path = tmp_path / name
    path.write_bytes(archive.read(name))
    return str(path)


def test_sav_and_dta_round_trip_values_labels_and_missing_codes(
    db: Session, archive: zipfile.ZipFile, tmp_path: Path
) -> None:
    instrument = PEER
    items = [i.id for i in instrument.likert_items]
    stored = _stored(db, "peer_worker")
    dna = {k for k, v in stored.items() if v is None}
    assert dna, "the demo should hold some 'does not apply' answers"
    expected_numbers = {k: (-9 if v is None else v) for k, v in stored.items()}

    csv_frame = pd.read_csv(archive.open(f"{TABLE}.csv"))
    assert _cells(csv_frame, items) == expected_numbers
    raw = archive.read(f"{TABLE}.csv").decode()
    assert ",-9," in raw or ",-9\n" in raw
    assert ".0," not in raw  # whole numbers, so R's na = "-9" matches
    # R's read.csv(na.strings = c("", "-9")) and pandas' na_values drop both kinds of missing.
    both = pd.read_csv(archive.open(f"{TABLE}.csv"), na_values=["-9"])
    assert _cells(both, items) == {k: v for k, v in stored.items() if v is not None}

    sav, sav_meta = pyreadstat.read_sav(_extract(archive, f"{TABLE}.sav", tmp_path), user_missing=True)
    assert _cells(sav, items) == expected_numbers
    assert sav_meta.missing_ranges["pw_id_1"] == [{"lo": -9.0, "hi": -9.0}]
    assert sav_meta.variable_value_labels["pw_id_1"][-9] == "Does not apply"
    assert sav_meta.variable_value_labels["pw_id_1"][1] == "Strongly disagree"
    assert sav_meta.column_names_to_labels["pw_id_1"] == instrument.item("pw_id_1").text
    plain, _ = pyreadstat.read_sav(_extract(archive, f"{TABLE}.sav", tmp_path))
    assert _cells(plain, items) == {k: v for k, v in stored.items() if v is not None}

    dta, dta_meta = pyreadstat.read_dta(_extract(archive, f"{TABLE}.dta", tmp_path), user_missing=True)
    assert _cells(dta, items) == {k: ("a" if v is None else v) for k, v in stored.items()}
    dna_items = {item for _p, _w, item in dna}
    for item in dna_items:
        assert dta_meta.missing_user_values[item] == ["a"]
        assert dta_meta.variable_value_labels[item]["a"] == "Does not apply"
    assert dta_meta.variable_value_labels["pw_id_1"][5] == "Strongly agree"
    for item in instrument.likert_items:
        label = dta_meta.column_names_to_labels[item.id]
        assert label == item.text if len(item.text) <= 80 else label == item.text[:77] + "..."
    plain_dta, _ = pyreadstat.read_dta(_extract(archive, f"{TABLE}.dta", tmp_path))
    assert _cells(plain_dta, items) == {k: v for k, v in stored.items() if v is not None}
    assert len(dta) == len(sav) == len(csv_frame)

    long_dta, long_meta = pyreadstat.read_dta(_extract(archive, "long.dta", tmp_path))
    long_csv = pd.read_csv(archive.open("long.csv"))
    assert long_dta["participant"].tolist() == long_csv["participant"].tolist()
    assert long_meta.column_names_to_labels["participant"] == "Pseudonymous participant code"
    assert "-9" in archive.read("README.txt").decode()
    assert "| does not apply (the respondent chose it) | -9 |" in archive.read("codebook.md").decode()


def test_fhir_resources_parse_back_and_match_the_database(db: Session, archive: zipfile.ZipFile) -> None:
    lines = archive.read("fhir/Questionnaire.ndjson").decode().splitlines()
    questionnaires = [Questionnaire.model_validate_json(line) for line in lines]
    assert {(q.name, q.version) for q in questionnaires} == {("PeerWorker", "2"), ("Colleague", "2")}
    peer = next(q for q in questionnaires if q.name == "PeerWorker")
    types = {i.linkId: i.type for g in peer.item or [] for i in g.item or []}
    assert set(types) == {i.id for i in PEER.items}
    assert {types[i.id] for i in PEER.likert_items} == {"choice"}
    assert (types["pw_bg_hours"], types["pw_bg_peers"], types["pw_open"]) == ("choice", "integer", "text")

    stored = {**_stored(db, "peer_worker"), **_stored(db, "colleague"),
              **_stored(db, "peer_worker", likert=False), **_stored(db, "colleague", likert=False)}
    submitted = db.scalar(select(m.Response.id).where(m.Response.submitted_at.is_not(None)).limit(1))
    assert submitted is not None
    got: dict[tuple[str, int, str], object] = {}
    lines = archive.read("fhir/QuestionnaireResponse.ndjson").decode().splitlines()
    n_submitted = len(db.scalars(select(m.Response.id).where(m.Response.submitted_at.is_not(None))).all())
    assert len(lines) == n_submitted
    for line in lines:
        qr = QuestionnaireResponse.model_validate_json(line)
        assert qr.status == "completed"
        raw = json.loads(line)
        assert set(raw["subject"]) == {"identifier"}  # a study code, no reference to a person
        code = qr.subject.identifier.value  # type: ignore[union-attr]
        wave = int(qr.identifier.value.rsplit("-", 1)[1])  # type: ignore[union-attr]
        for group in qr.item or []:
            for item in group.item or []:
                answer = item.answer[0]  # type: ignore[index]
                coding = answer.valueCoding
                value: object
                if coding is not None:
                    value = None if coding.code == "not-applicable" else int(coding.code)  # type: ignore[arg-type]
                elif answer.valueInteger is not None:
                    value = float(answer.valueInteger)
                else:
                    value = answer.valueString
                got[(code, wave, item.linkId)] = value  # type: ignore[index]
    assert got == stored


def test_redcap_dictionaries_have_the_standard_columns(archive: zipfile.ZipFile) -> None:
    rows = list(csv.reader(io.StringIO(archive.read("redcap_colleague_v2.csv").decode())))
    assert tuple(rows[0]) == COLUMNS and len(COLUMNS) == 18
    assert rows[1][0] == "record_id"
    instrument = load_instrument("colleague", 2)
    assert [r[0] for r in rows[2:]] == [i.id for i in instrument.items]
    kinds = {r[0]: r[3] for r in rows[2:]}
    assert {kinds[i.id] for i in instrument.likert_items} == {"radio"}
    assert (kinds["col_bg_job"], kinds["col_bg_peers"], kinds["col_open"]) == ("radio", "text", "notes")
    peers = next(r for r in rows if r[0] == "col_bg_peers")
    assert (peers[7], peers[8], peers[9]) == ("integer", "0", "50")
    assert "@CHARLIMIT=1000" in next(r for r in rows if r[0] == "col_open")[17]
    assert rows[2][5].endswith("-9, Does not apply")


def test_background_and_free_text_round_trip_with_labels(
    db: Session, archive: zipfile.ZipFile, tmp_path: Path
) -> None:
    others = [i.id for i in PEER.items if not i.is_likert]
    stored = _stored(db, "peer_worker", likert=False)
    texts = {k: v for k, v in stored.items() if isinstance(v, str)}
    assert texts and any(k[2] == "pw_bg_peers" for k in stored), "the demo should answer these"
    numbers = {k: v for k, v in stored.items() if not isinstance(v, str)}

    csv_frame = pd.read_csv(archive.open(f"{TABLE}.csv"), keep_default_na=False, na_values=[""])
    assert list(csv_frame.columns)[-len(others):] == others  # in questionnaire order
    cells = _cells(csv_frame, others)
    assert {k: v for k, v in cells.items() if not isinstance(v, str)} == numbers
    assert {k: v for k, v in cells.items() if isinstance(v, str)} == texts

    sav, meta = pyreadstat.read_sav(_extract(archive, f"{TABLE}.sav", tmp_path))
    assert meta.readstat_variable_types["pw_open"] == "string"
    assert meta.variable_value_labels["pw_bg_band"][7] == "Not paid on Agenda for Change"
    assert meta.variable_value_labels["pw_bg_hours"][1] == "Up to 15 hours"
    assert "pw_bg_peers" not in meta.variable_value_labels
    assert meta.column_names_to_labels["pw_open"] == PEER.item("pw_open").text
    sav_cells = {k: v for k, v in _cells(sav, others).items() if v != ""}
    assert sav_cells == {**numbers, **texts}

    dta, dta_meta = pyreadstat.read_dta(_extract(archive, f"{TABLE}.dta", tmp_path))
    assert dta_meta.variable_value_labels["pw_bg_time"][5] == "More than 5 years"
    assert {k: v for k, v in _cells(dta, others).items() if v != ""} == {**numbers, **texts}
    codebook = archive.read("codebook.md").decode()
    assert "| pw_bg_peers | number | How many other peer workers are in your team? | number: " \
           "A whole number from 0 to 50 (peer workers). |" in codebook
    assert "Free text" in archive.read("README.txt").decode()


def test_the_export_without_free_text_has_none_in_any_file(db: Session, archive: zipfile.ZipFile) -> None:
    texts = {v for v in _stored(db, "peer_worker", likert=False).values() if isinstance(v, str)}
    texts |= {v for v in _stored(db, "colleague", likert=False).values() if isinstance(v, str)}
    assert texts
    with_text = b"".join(archive.read(n) for n in archive.namelist())
    assert all(t.encode() in with_text for t in texts)
    study = db.scalars(select(m.Study)).one()
    without = zipfile.ZipFile(io.BytesIO(build_export(db, study, None, free_text=False)))
    assert set(without.namelist()) == set(archive.namelist())  # the same files: CSV, sav, dta, FHIR
    for name in without.namelist():
        data = without.read(name)
        assert not [t for t in texts if t.encode() in data], name
    for name in ("items_peer_worker_v2.csv", "items_colleague_v2.csv"):
        header = without.read(name).decode().splitlines()[0].split(",")
        assert "pw_bg_band" in header or "col_bg_band" in header
        assert "pw_open" not in header and "col_open" not in header
    assert "Free-text answers were left out" in without.read("README.txt").decode()
    event = db.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "export")
                       .order_by(m.AuditEvent.id.desc())).first()
    assert event is not None and event.detail["free_text"] is False


def test_fhir_questionnaire_types_each_kind_of_item(tmp_path: Path) -> None:
    from instruments.loader import read_catalogue
    from survey.services.fhir_export import questionnaire
    from tests.instruments.builders import THEMES, TYPED, write_dir

    directory = write_dir(tmp_path, {"themes.yaml": THEMES, "mini.yaml": TYPED})
    (mini,) = read_catalogue(directory).instruments
    resource = json.loads(questionnaire(mini).model_dump_json(exclude_none=True))
    items = {i["linkId"]: i for g in resource["item"] for i in g["item"]}
    assert (items["a1"]["type"], items["hours"]["type"], items["peers"]["type"],
            items["weight"]["type"], items["open"]["type"]) == (
        "choice", "choice", "integer", "decimal", "text")
    assert [o["valueCoding"]["display"] for o in items["hours"]["answerOption"]] == [
        "Up to 15 hours", "16 hours or more"]
    assert items["open"]["maxLength"] == 200
