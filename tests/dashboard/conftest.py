"""A small hand-computable study: one trust with five peer workers and five colleagues at two
waves, and three other trusts with five of each at the second wave."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests import factories as f
from tests.helpers import completed_with_scores, publish

# Trust AAA: the same five peer workers and five colleagues answer both waves.
PEERS_1 = [2.0, 2.0, 3.0, 3.0, 4.0]  # mean 14/5 = 2.8
PEERS_2 = [2.2, 2.4, 3.6, 3.8, 5.0]  # mean 17/5 = 3.4; each person's change 0.2 .. 1.0
COLLEAGUES_1 = [3.0, 3.5, 4.0, 4.5, 4.0]  # mean 19/5 = 3.8
COLLEAGUES_2 = [3.1, 3.4, 4.0, 4.7, 3.8]  # mean 19/5 = 3.8; changes 0.1, -0.1, 0, 0.2, -0.2
# Three other trusts at wave 2 (their own means are secrets: 3.2, 3.1, 2.7 and 2.4, 2.7, 2.3).
OTHER_PEERS = {"BBB": [2.2, 2.7, 3.2, 3.7, 4.2], "CCC": [2.6, 3.1, 3.1, 3.1, 3.6],
               "DDD": [1.2, 2.2, 2.7, 3.2, 4.2]}
OTHER_COLLEAGUES = {"BBB": [2.0, 2.2, 2.4, 2.6, 2.8], "CCC": [2.3, 2.5, 2.7, 2.9, 3.1],
                    "DDD": [1.9, 2.1, 2.3, 2.5, 2.7]}


@pytest.fixture
def small_study(db: Session) -> dict[str, Any]:
    """Trust AAA (team T1) at waves 1 and 2, and trusts BBB, CCC, DDD at wave 2 (equality only)."""
    study = f.StudyFactory()
    w1 = f.WaveFactory(study=study, index=1, label="Baseline")
    w2 = f.WaveFactory(study=study, index=2, label="3 months")
    org = f.OrganisationFactory(code="AAA", name="Trust A")
    team = f.TeamFactory(organisation=org, code="T1", name="Team one")
    for before, after, colleague in ((PEERS_1, PEERS_2, False), (COLLEAGUES_1, COLLEAGUES_2, True)):
        for x1, x2 in zip(before, after, strict=True):
            p = f.ParticipantFactory(study=study, team=team, colleague=colleague)
            completed_with_scores(db, p, w1, {"equality": x1})
            completed_with_scores(db, p, w2, {"equality": x2})
    others = {}
    for code in OTHER_PEERS:
        other = f.OrganisationFactory(code=code, name=f"Trust {code[0]}")
        other_team = f.TeamFactory(organisation=other, code=f"{code}-1")
        for values, colleague in ((OTHER_PEERS[code], False), (OTHER_COLLEAGUES[code], True)):
            for x in values:
                completed_with_scores(db, f.ParticipantFactory(study=study, team=other_team, colleague=colleague),
                         w2, {"equality": x})
        others[code] = other
    db.commit()
    publish(db)
    return {"study": study, "org": org, "team": team, "others": others, "waves": (w1, w2)}
