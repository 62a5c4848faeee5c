"""Every export table says which language each response was answered in."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pandas as pd
import pyreadstat
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from survey import models as m
from survey.services.demo import load_demo
from survey.services.exports import build_export


def test_long_wide_and_item_tables_carry_the_language(db: Session, tmp_path: Path) -> None:
    load_demo(db, today=dt.date(2026, 11, 26))
    db.commit()
    study = db.scalars(select(m.Study)).one()
    submitted = db.scalars(select(m.Response).where(m.Response.submitted_at.is_not(None))
                           .order_by(m.Response.id)).all()
    welsh_ids = [r.id for r in submitted[::3]]
    db.execute(update(m.Response).where(m.Response.id.in_(welsh_ids)).values(language="cy"))
    db.commit()
    expected = {(code, wave): language for code, wave, language in db.execute(
        select(m.Participant.code, m.Wave.index, m.Response.language)
        .join(m.Invitation, m.Response.invitation_id == m.Invitation.id)
        .join(m.Wave, m.Invitation.wave_id == m.Wave.id)
        .join(m.Participant, m.Invitation.participant_id == m.Participant.id)
        .where(m.Response.submitted_at.is_not(None)))}
    archive = zipfile.ZipFile(io.BytesIO(build_export(db, study, None)))
    long = pd.read_csv(archive.open("long.csv"))
    assert set(long["language"]) == {"en", "cy"}
    assert all(expected[(p, w)] == lang for p, w, lang in long[["participant", "wave", "language"]].itertuples(index=False))
    items = pd.read_csv(archive.open("items_peer_worker_v2.csv"))
    assert list(items.columns[:7]) == ["participant", "team", "trust", "role", "role_group", "wave", "language"]
    assert all(expected[(p, w)] == lang for p, w, lang in items[["participant", "wave", "language"]].itertuples(index=False))
    wide = pd.read_csv(archive.open("wide.csv"))
    assert {"language_w1", "language_w2"} <= set(wide.columns)
    row = wide.iloc[0]
    assert row["language_w1"] == expected[(row["participant"], 1)]
    sav = tmp_path / "items.sav"
    sav.write_bytes(archive.read("items_peer_worker_v2.sav"))
    frame, meta = pyreadstat.read_sav(str(sav))
    assert set(frame["language"]) <= {"en", "cy"} and "Language answered in" in meta.column_names_to_labels["language"]
    dta = tmp_path / "long.dta"
    dta.write_bytes(archive.read("long.dta"))
    assert set(pyreadstat.read_dta(str(dta))[0]["language"]) == {"en", "cy"}
    readme = archive.read("README.txt").decode()
    assert "language (the language the questionnaire was answered in" in readme
    codebook = archive.read("codebook.md").decode()
    assert "NEEDS REVIEW by a qualified Welsh translator" in codebook
