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

TABLE = "items_peer_worker_v1"


@pytest.fixture
def archive(db: Session) -> zipfile.ZipFile:
    """The demo study's export (the demo has some "does not apply" answers)."""
    load_demo(db, today=dt.date(2026, 11, 26))
    db.commit()
    study = db.scalars(select(m.Study)).one()
    payload = build_export(db, study, None)
    db.commit()
    return zipfile.ZipFile(io.BytesIO(payload))


def _stored(db: Session, instrument: str) -> dict[tuple[str, int, str], int | None]:
    """Every stored answer of submitted responses: (participant, wave, item) -> value (None: does not apply)."""
    rows = db.execute(
        select(m.Participant.code, m.Wave.index, m.Answer.item_id, m.Answer.value)
        .join(m.Response, m.Answer.response_id == m.Response.id)
        .join(m.Invitation, m.Response.invitation_id == m.Invitation.id)
        .join(m.Wave, m.Invitation.wave_id == m.Wave.id)
        .join(m.Participant, m.Invitation.participant_id == m.Participant.id)
        .where(m.Response.submitted_at.is_not(None), m.Response.instrument_id == instrument)
    ).all()
    return {(p, w, i): v for p, w, i, v in rows}


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
    instrument = load_instrument("peer_worker", 1)
    items = [i.id for i in instrument.items]
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
    for item in instrument.items:
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
    assert {(q.name, q.version) for q in questionnaires} == {("PeerWorker", "1"), ("Colleague", "1")}
    peer = next(q for q in questionnaires if q.name == "PeerWorker")
    link_ids = {i.linkId for g in peer.item or [] for i in g.item or []}
    assert link_ids == {i.id for i in load_instrument("peer_worker", 1).items}

    stored = {**_stored(db, "peer_worker"), **_stored(db, "colleague")}
    submitted = db.scalar(select(m.Response.id).where(m.Response.submitted_at.is_not(None)).limit(1))
    assert submitted is not None
    got: dict[tuple[str, int, str], int | None] = {}
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
                coding = item.answer[0].valueCoding  # type: ignore[index]
                assert coding is not None
                value = None if coding.code == "not-applicable" else int(coding.code)  # type: ignore[arg-type]
                got[(code, wave, item.linkId)] = value  # type: ignore[index]
    assert got == stored


def test_redcap_dictionaries_have_the_standard_columns(archive: zipfile.ZipFile) -> None:
    rows = list(csv.reader(io.StringIO(archive.read("redcap_colleague_v1.csv").decode())))
    assert tuple(rows[0]) == COLUMNS and len(COLUMNS) == 18
    assert rows[1][0] == "record_id"
    instrument = load_instrument("colleague", 1)
    assert [r[0] for r in rows[2:]] == [i.id for i in instrument.items]
    assert {r[3] for r in rows[2:]} == {"radio"}
    assert rows[2][5].endswith("-9, Does not apply")
