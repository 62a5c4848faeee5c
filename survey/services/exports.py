"""The researcher's export: pseudonymous data, a codebook generated from the files, a read-me."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import pyreadstat
from sqlalchemy.orm import Session

from analysis import long_to_wide
from instruments import load_instrument, load_themes
from instruments.codebook import write_codebook
from survey.models import Study, User
from survey.services import datasets
from survey.services.audit import record_event

README = """PeerPulse export of study "{name}" ({code})

long.csv      one row per participant x wave x scale: participant (random study code, not
              linkable to a person outside PeerPulse), team, trust, role, role_group
              (managers answer the colleague survey), wave, months (time from the
              participant's anchor date to their answer), scale, score (mean of items after
              reverse keying; empty when too few items were answered), items_answered.
wide.csv      the same scores, one row per participant, a column per scale and wave (identity_w1 ...).
items_*.csv   item answers of each instrument version, one row per response; empty = not
              answered or "does not apply". Reverse-keyed items are as answered (not reversed).
codebook.csv  every item: wording, scale, theme, reverse key, response options (also codebook.md).
*.sav         each table again as an SPSS file, with variable labels (item wording) and value
              labels (response options); missing answers are system-missing.

No names, email addresses or trust staff ids are included. Small groups are not suppressed
in this file: it is for the research team only. Do not share it beyond the study's approvals.
"""


LONG_LABELS: dict[str, str | None] = {
    "participant": "Pseudonymous participant code",
    "team": "Team code",
    "trust": "Trust code",
    "role": "Role in the team",
    "role_group": "Peer worker or colleague (managers answer the colleague survey)",
    "wave": "Wave number",
    "months": "Months from the participant's anchor date to the answer",
    "scale": "Scale",
    "score": "Scale score (mean of items after reverse keying, 1-5)",
    "items_answered": "Items of the scale answered",
}


def build_export(db: Session, study: Study, user: User | None) -> bytes:
    """The study's export as a zip archive; the export itself is audited."""
    long = datasets.long_scores(db, study)
    buffer = io.BytesIO()
    versions = sorted({(si.instrument_id, si.instrument_version) for si in study.instruments})
    instruments = [load_instrument(i, v) for i, v in versions]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, \
            tempfile.TemporaryDirectory() as tmp:
        archive.writestr("README.txt", README.format(name=study.name, code=study.code))
        wide = (long_to_wide(long, index=("participant", "team", "trust", "role", "role_group"))
                if not long.empty else long)
        tables: dict[str, tuple[pd.DataFrame, dict[str, str | None], dict[str, dict[int | float, str]]]]
        tables = {"long": (long, dict(LONG_LABELS), {}), "wide": (wide, {}, {})}
        for instrument in instruments:
            items = datasets.item_answers(db, study, instrument.id, instrument.version)
            codes: dict[int | float, str] = {o.value: o.label for o in instrument.response_options}
            tables[f"items_{instrument.id}_v{instrument.version}"] = (
                items, {i.id: i.text for i in instrument.items},
                {i.id: codes for i in instrument.items if i.id in items.columns})
        for name, (frame, labels, value_labels) in tables.items():
            archive.writestr(f"{name}.csv", frame.to_csv(index=False))
            sav = Path(tmp) / f"{name}.sav"
            pyreadstat.write_sav(frame, sav, column_labels=labels,
                                 variable_value_labels=value_labels)
            archive.write(sav, sav.name)
        for path in write_codebook(instruments, load_themes(), Path(tmp)):
            archive.write(path, path.name)
    record_event(db, user, "export", "study", study.code,
                 {"rows": len(long), "participants": int(long["participant"].nunique())})
    return buffer.getvalue()
