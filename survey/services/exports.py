"""The researcher's export: pseudonymous data, a codebook generated from the files, a read-me."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

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

No names, email addresses or trust staff ids are included. Small groups are not suppressed
in this file: it is for the research team only. Do not share it beyond the study's approvals.
"""


def build_export(db: Session, study: Study, user: User | None) -> bytes:
    """The study's export as a zip archive; the export itself is audited."""
    long = datasets.long_scores(db, study)
    buffer = io.BytesIO()
    versions = sorted({(si.instrument_id, si.instrument_version) for si in study.instruments})
    instruments = [load_instrument(i, v) for i, v in versions]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(name=study.name, code=study.code))
        archive.writestr("long.csv", long.to_csv(index=False))
        wide = (long_to_wide(long, index=("participant", "team", "trust", "role", "role_group"))
                if not long.empty else long)
        archive.writestr("wide.csv", wide.to_csv(index=False))
        for instrument in instruments:
            items = datasets.item_answers(db, study, instrument.id, instrument.version)
            archive.writestr(f"items_{instrument.id}_v{instrument.version}.csv",
                             items.to_csv(index=False))
        with tempfile.TemporaryDirectory() as tmp:
            for path in write_codebook(instruments, load_themes(), Path(tmp)):
                archive.write(path, path.name)
    record_event(db, user, "export", "study", study.code,
                 {"rows": len(long), "participants": int(long["participant"].nunique())})
    return buffer.getvalue()
