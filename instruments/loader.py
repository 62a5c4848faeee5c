"""Find, check and load the instrument files and themes.yaml of a directory."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .model import Instrument, InstrumentError, InstrumentNotFound, Problem, Theme
from .schema import parse_instrument
from .source import read_yaml
from .themes import THEMES_FILE, parse_themes

INSTRUMENT_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Catalogue:
    """Everything read from one directory: themes, valid instruments and all problems."""

    themes: dict[str, Theme]
    instruments: tuple[Instrument, ...]
    problems: tuple[Problem, ...]


def _yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _check_pairs(instrument: Instrument, known: dict[tuple[str, int], Instrument]) -> list[Problem]:
    """Check that each `pair` names a same-scale, same-keyed item of the paired instrument."""
    target_ref = instrument.pairs_with
    if target_ref is None:
        return []
    file = instrument.source or instrument.id
    target = known.get((target_ref.instrument, target_ref.version))
    if target is None:
        missing = f"{target_ref.instrument} v{target_ref.version}"
        return [Problem(file, None, None, "pairs_with", f"no instrument {missing} to pair with")]
    if target.audience != "peer_worker":
        return [Problem(file, None, None, "pairs_with",
                        f"{target.key} is for {target.audience}; "
                        "pair with a peer_worker instrument")]
    problems = []
    for item in instrument.items:
        if item.pair is None:
            continue
        try:
            mirrored = target.item(item.pair)
        except KeyError:
            problems.append(Problem(file, item.line, item.id, "pair",
                                    f"{item.pair!r} is not an item of {target.key}"))
            continue
        if mirrored.scale != item.scale:
            problems.append(Problem(
                file, item.line, item.id, "pair",
                f"pairs with {target.key} item {mirrored.id} on scale {mirrored.scale!r}, but "
                f"this item is on scale {item.scale!r}; paired items must measure the same scale"))
        if mirrored.reverse != item.reverse:
            problems.append(Problem(
                file, item.line, item.id, "pair",
                f"reverse key differs from {target.key} item {mirrored.id}; word paired items "
                "in the same direction so answers can be compared directly"))
        if mirrored.baseline_only:
            problems.append(Problem(
                file, item.line, item.id, "pair",
                f"{target.key} item {mirrored.id} is baseline-only; pair only with items asked "
                "at every wave"))
    return problems


def _read_directory(directory: Path) -> Catalogue:
    if not directory.is_dir():
        problem = Problem(str(directory), None, None, None, "not a directory of instrument files")
        return Catalogue({}, (), (problem,))
    problems: list[Problem] = []
    themes: dict[str, Theme] | None = None
    themes_path = directory / THEMES_FILE
    if themes_path.is_file():
        data, read_problems = read_yaml(themes_path, THEMES_FILE)
        problems += read_problems
        if data is not None:
            themes, theme_problems = parse_themes(data, THEMES_FILE)
            problems += theme_problems
    else:
        problems.append(Problem(THEMES_FILE, None, None, None,
                                f"not found in {directory}; every item must name a theme from it"))
    known: dict[tuple[str, int], Instrument] = {}
    for path in _yaml_files(directory):
        if path.name == THEMES_FILE:
            continue
        data, read_problems = read_yaml(path, path.name)
        problems += read_problems
        if data is None:
            continue
        instrument, parse_problems = parse_instrument(data, path.name, themes)
        problems += parse_problems
        if instrument is None or read_problems:
            continue
        other = known.get((instrument.id, instrument.version))
        if other is not None:
            problems.append(Problem(path.name, data.line_of("version"), None, "version",
                                    f"{instrument.key} is also defined in {other.source}; "
                                    "a changed instrument needs a new version number"))
            continue
        known[(instrument.id, instrument.version)] = instrument
    for instrument in known.values():
        problems += _check_pairs(instrument, known)
    ordered = tuple(sorted(known.values(), key=lambda i: (i.id, i.version)))
    return Catalogue(themes or {}, ordered, tuple(problems))


@lru_cache(maxsize=32)
def _read_cached(directory: Path, _signature: tuple[tuple[str, int, int], ...]) -> Catalogue:
    return _read_directory(directory)


def read_catalogue(directory: Path | None = None) -> Catalogue:
    """Read a directory (the shipped one by default), re-reading only when its files change."""
    directory = (directory or INSTRUMENT_DIR).resolve()
    if not directory.is_dir():
        return _read_directory(directory)
    signature = tuple(
        (p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in _yaml_files(directory)
    )
    return _read_cached(directory, signature)


def _valid_catalogue(directory: Path | None) -> Catalogue:
    catalogue = read_catalogue(directory)
    if catalogue.problems:
        raise InstrumentError(list(catalogue.problems))
    return catalogue


def check_directory(directory: Path) -> list[Problem]:
    """Every problem in a directory's instrument files and themes.yaml; empty when all is well."""
    return list(read_catalogue(directory).problems)


def load_themes(directory: Path | None = None) -> dict[str, Theme]:
    """The themes by id; raises InstrumentError if any file in the directory is faulty."""
    return dict(_valid_catalogue(directory).themes)


def load_all(directory: Path | None = None) -> list[Instrument]:
    """Every instrument version, ordered by id then version; raises InstrumentError on faults."""
    return list(_valid_catalogue(directory).instruments)


def load_instrument(
    instrument_id: str, version: int | None = None, directory: Path | None = None
) -> Instrument:
    """One instrument version (the latest when `version` is None); InstrumentNotFound if absent."""
    catalogue = _valid_catalogue(directory)
    matches = [
        i for i in catalogue.instruments
        if i.id == instrument_id and (version is None or i.version == version)
    ]
    if matches:
        return max(matches, key=lambda i: i.version)
    wanted = instrument_id if version is None else f"{instrument_id} v{version}"
    available = ", ".join(i.key for i in catalogue.instruments) or "none"
    where = str(directory or INSTRUMENT_DIR)
    raise InstrumentNotFound(
        [Problem(where, None, None, None, f"no instrument {wanted}; available: {available}")]
    )
