"""PeerPulse questionnaires as data: YAML files, their loader and checks, and scoring.

Knows nothing of Flask or the database. See `python -m instruments --help`.
"""

from .loader import (
    INSTRUMENT_DIR,
    check_directory,
    load_all,
    load_instrument,
    load_themes,
)
from .model import (
    ITEM_TYPES,
    BaselineModule,
    Instrument,
    InstrumentError,
    InstrumentNotFound,
    Item,
    NumberRange,
    Page,
    PageSpec,
    PairTarget,
    Problem,
    ResponseOption,
    Scale,
    Theme,
)
from .scoring import ScaleScore, score_scales
from .versioning import comparable_scales, content_hash, scale_fingerprint

__all__ = [
    "INSTRUMENT_DIR",
    "ITEM_TYPES",
    "BaselineModule",
    "Instrument",
    "InstrumentError",
    "InstrumentNotFound",
    "Item",
    "NumberRange",
    "Page",
    "PageSpec",
    "PairTarget",
    "Problem",
    "ResponseOption",
    "Scale",
    "ScaleScore",
    "Theme",
    "check_directory",
    "comparable_scales",
    "content_hash",
    "load_all",
    "load_instrument",
    "load_themes",
    "scale_fingerprint",
    "score_scales",
]
