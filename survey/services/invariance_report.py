"""Measurement invariance of a study's scales: peer workers against colleagues, and across waves.

Peer workers and colleagues answer different questionnaires; the colleague items that name
a peer worker item in ``pair`` measure the same thing from the other side. Across roles the
model is fitted on those pairs (columns named by the peer worker item); across waves on all
of one questionnaire's items of the scale. Reverse-keyed items are reversed first, as in
scoring. Answers come from ``datasets.item_answers`` (pseudonymous; no contact details).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from analysis import AnalysisError
from instruments import load_instrument
from instruments.model import Instrument
from survey.models import Study
from survey.services import datasets

if TYPE_CHECKING:
    import pandas as pd

    from analysis.invariance import InvarianceResults

ACROSS = ("role", "wave")
ROLE_GROUPS = ("peer_worker", "colleague")
#: how missing answers are handled (analysis.invariance.MISSING; listed here so that importing
#: the app stays free of pandas): full-information ML, the default, or complete rows only
MISSING = ("ml", "listwise")


@dataclass(frozen=True)
class InvarianceChoice:
    """What to test: a scale, across role groups (at one wave) or across waves (one role group)."""

    scale: str
    across: str
    wave: int = 1
    role_group: str = "peer_worker"
    missing: str = "ml"


@dataclass(frozen=True)
class InvarianceReport:
    """The fitted steps and the items they used (item id -> wording, peer worker's first)."""

    choice: InvarianceChoice
    items: dict[str, str]
    results: InvarianceResults


def _instrument(study: Study, role_group: str) -> Instrument:
    """The instrument that a role group answers in the study."""
    assignment = next((si for si in study.instruments if si.role.value == role_group), None)
    if assignment is None:
        raise AnalysisError(f"no {role_group.replace('_', ' ')} questionnaire in this study")
    return load_instrument(assignment.instrument_id, assignment.instrument_version)


def paired_items(peer: Instrument, colleague: Instrument, scale: str) -> dict[str, str]:
    """Map each colleague item of ``scale`` that mirrors a peer worker item to that item."""
    if colleague.pairs_with is None or (colleague.pairs_with.instrument, colleague.pairs_with.version) \
            != (peer.id, peer.version):
        return {}
    return {item.id: item.pair for item in colleague.items
            if item.scale == scale and item.pair is not None}


def scales(study: Study) -> list[str]:
    """The scales of the study's peer worker questionnaire, in the file's order."""
    try:
        return list(_instrument(study, "peer_worker").scales)
    except AnalysisError:
        return []


def build(db: Session, study: Study, choice: InvarianceChoice) -> InvarianceReport:
    """Fit configural, metric and scalar models for the choice; AnalysisError if it cannot be."""
    # Imported here, not at the top: importing the app stays free of pandas.
    import pandas as pd

    from analysis.invariance import measurement_invariance

    if choice.across not in ACROSS or choice.role_group not in ROLE_GROUPS:
        raise AnalysisError("choose role or wave, and peer workers or colleagues")
    if choice.missing not in MISSING:
        raise AnalysisError("choose how missing answers are handled: full-information ML or "
                            "complete rows only")
    peer = _instrument(study, "peer_worker")
    if choice.scale not in peer.scales:
        raise AnalysisError(f"the {peer.title.lower()} has no scale '{choice.scale}'")
    if choice.across == "role":
        colleague = _instrument(study, "colleague")
        pairs = paired_items(peer, colleague, choice.scale)
        order = [i for i in peer.scales[choice.scale].items if i in pairs.values()]
        if len(order) < 3:
            raise AnalysisError(
                f"scale '{choice.scale}' has {len(order)} item(s) paired between the peer worker "
                "and colleague questionnaires; invariance needs at least three"
            )
        own = _answers(db, study, peer, order).query("wave == @choice.wave")
        other = _answers(db, study, colleague, list(pairs)).query("wave == @choice.wave")
        frame = pd.concat([own, other.rename(columns=pairs)], ignore_index=True)
        frame["role"] = frame["role_group"].str.replace("_", " ")
        wording = {i: peer.item(i).text for i in order}
    else:
        instrument = peer if choice.role_group == "peer_worker" else _instrument(study, "colleague")
        if choice.scale not in instrument.scales:
            raise AnalysisError(f"the {instrument.title.lower()} has no scale '{choice.scale}'")
        order = list(instrument.scales[choice.scale].items)
        frame = _answers(db, study, instrument, order).sort_values("wave", kind="stable")
        frame["wave"] = "wave " + frame["wave"].astype(str)
        wording = {i: instrument.item(i).text for i in order}
    if frame.empty:
        raise AnalysisError("no submitted answers to analyse yet")
    frame.attrs["source"] = f"the answers of study {study.code}"
    results = measurement_invariance(frame, {choice.scale: order}, choice.across,
                                     missing=choice.missing)
    results.require_convergence()
    return InvarianceReport(choice, wording, results)


def _answers(db: Session, study: Study, instrument: Instrument, items: list[str]) -> pd.DataFrame:
    """Keyed item answers of one instrument, every named item as a column (NaN if none)."""
    frame = datasets.item_answers(db, study, instrument.id, instrument.version, keyed=True)
    for item in items:
        if item not in frame.columns:
            frame[item] = float("nan")
    return frame[["participant", "role_group", "wave", *items]]
