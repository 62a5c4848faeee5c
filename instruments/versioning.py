"""Content hashes of instrument versions, and which scales two versions share."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .model import Instrument


def canonical_json(data: Any) -> str:
    """Serialise parsed YAML deterministically: sorted keys, no spacing, UTF-8 text."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(data: Any) -> str:
    """sha256 of the canonical JSON of a file's parsed content (comments and layout ignored)."""
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def scale_definition(instrument: Instrument, scale_id: str) -> dict[str, Any]:
    """Everything that decides a scale's score: options, rule and each item's wording and key."""
    scale = instrument.scales[scale_id]
    return {
        "response_options": [[o.value, o.label] for o in instrument.response_options],
        "min_answered": scale.min_answered,
        "items": [
            {
                "id": item.id,
                "text": item.text,
                "reverse": item.reverse,
                "baseline_only": item.baseline_only,
            }
            for item in (instrument.item(item_id) for item_id in scale.items)
        ],
    }


def scale_fingerprint(instrument: Instrument, scale_id: str) -> str:
    """A hash of a scale's definition; equal fingerprints mean comparable scores."""
    return content_hash(scale_definition(instrument, scale_id))


def comparable_scales(first: Instrument, second: Instrument) -> list[str]:
    """Ids of scales defined identically in both instruments, in `first`'s order."""
    return [
        scale_id
        for scale_id in first.scales
        if scale_id in second.scales
        and scale_fingerprint(first, scale_id) == scale_fingerprint(second, scale_id)
    ]
