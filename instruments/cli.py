"""Command line: `python -m instruments check|codebook|readability|summary|from-redcap`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .codebook import scale_themes, write_codebook
from .languages import english_name
from .loader import INSTRUMENT_DIR, check_directory, read_catalogue
from .model import Instrument, InstrumentError, Theme
from .readability import measure
from .redcap import draft_from_dictionary


def run_check(directory: Path, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Check every instrument file and themes.yaml in `directory`; 1 if anything is wrong."""
    out, err = out or sys.stdout, err or sys.stderr
    problems = check_directory(directory)
    if problems:
        for problem in problems:
            print(problem, file=err)
        print(f"{len(problems)} problem(s) in {directory}", file=err)
        return 1
    catalogue = read_catalogue(directory)
    for warning in review_warnings(catalogue.instruments):
        print(warning, file=err)
    names = ", ".join(i.key for i in catalogue.instruments) or "no instruments"
    print(f"OK: {names}; {len(catalogue.themes)} themes ({directory})", file=out)
    return 0


def review_warnings(instruments: Sequence[Instrument]) -> list[str]:
    """A warning (not an error) for each language whose texts no qualified translator reviewed."""
    return [
        f"{instrument.source}: warning: the {english_name(t.language)} ({t.language}) texts of "
        f"{instrument.key} need review by a qualified {english_name(t.language)} translator; "
        f"record reviewed_by and reviewed_on under translations.{t.language} once reviewed"
        for instrument in instruments for t in instrument.translations if not t.reviewed
    ]


def _loaded(directory: Path, err: TextIO) -> tuple[list[Instrument], dict[str, Theme]] | None:
    catalogue = read_catalogue(directory)
    if catalogue.problems:
        print(InstrumentError(list(catalogue.problems)), file=err)
        print(f"fix these first: python -m instruments check {directory}", file=err)
        return None
    return list(catalogue.instruments), dict(catalogue.themes)


def run_codebook(
    directory: Path, out_dir: Path, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Write codebook.csv and codebook.md for the instruments in `directory`."""
    out, err = out or sys.stdout, err or sys.stderr
    loaded = _loaded(directory, err)
    if loaded is None:
        return 1
    for path in write_codebook(*loaded, out_dir):
        print(f"wrote {path}", file=out)
    return 0


def run_readability(directory: Path, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Print Flesch Reading Ease, Flesch-Kincaid grade and length figures per instrument."""
    out, err = out or sys.stdout, err or sys.stderr
    loaded = _loaded(directory, err)
    if loaded is None:
        return 1
    print("Aims: Flesch Reading Ease 60 or more; Flesch-Kincaid grade about 7 (items only).",
          file=out)
    for instrument in loaded[0]:
        r = measure(instrument)
        print(f"{r.instrument}: {r.items} items ({r.items_later_waves} at later waves), "
              f"Flesch Reading Ease {r.flesch_reading_ease:.1f}, "
              f"Flesch-Kincaid grade {r.flesch_kincaid_grade:.1f}, "
              f"{r.mean_words:.1f} words per item, about {r.minutes_first_wave:.1f} min "
              f"at wave 1 and {r.minutes_later_waves:.1f} min later", file=out)
        hardest = ", ".join(f"{item} ({grade:.1f})" for item, grade in r.hardest_items)
        print(f"  hardest items by grade: {hardest}", file=out)
        for item_id, words in r.long_items:
            print(f"  long item: {item_id} has {words} words", file=out)
    return 0


def run_summary(directory: Path, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Print each instrument's scales with their item counts and themes."""
    out, err = out or sys.stdout, err or sys.stderr
    loaded = _loaded(directory, err)
    if loaded is None:
        return 1
    for instrument in loaded[0]:
        print(f"{instrument.key} ({instrument.audience}): {len(instrument.items)} items, "
              f"hash {instrument.content_hash[:12]}", file=out)
        for scale in instrument.scales.values():
            reverse = sum(instrument.item(i).reverse for i in scale.items)
            themes = ", ".join(scale_themes(instrument, scale.id))
            print(f"  {scale.id}: {len(scale.items)} items ({reverse} reverse-keyed); "
                  f"themes: {themes}", file=out)
    return 0


def run_from_redcap(dictionary: Path, target: Path | None, theme: str | None,
                    out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Draft an instrument from a REDCap dictionary; on any problem write nothing and return 1."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        text = draft_from_dictionary(dictionary, theme)
    except InstrumentError as exc:
        for problem in exc.problems:
            print(problem, file=err)
        print(f"{len(exc.problems)} problem(s) in {dictionary}; nothing written", file=err)
        return 1
    if target is None:
        out.write(text)
        return 0
    if target.exists():
        print(f"{target} exists; choose a new file name (nothing written)", file=err)
        return 1
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}; check it with: python -m instruments check {target.parent}", file=out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for all subcommands."""
    parser = argparse.ArgumentParser(prog="python -m instruments", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="check instrument files; exit 1 on problems")
    check.add_argument("path", nargs="?", type=Path, default=INSTRUMENT_DIR)
    codebook = commands.add_parser("codebook", help="write codebook.csv and codebook.md")
    codebook.add_argument("--out", type=Path, required=True, help="directory to write to")
    codebook.add_argument("--dir", type=Path, default=INSTRUMENT_DIR, help="instrument files")
    for name, help_text in (("readability", "reading-ease figures per instrument"),
                            ("summary", "scales with item counts and themes")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("path", nargs="?", type=Path, default=INSTRUMENT_DIR)
    redcap = commands.add_parser("from-redcap",
                                 help="draft an instrument YAML from a REDCap data dictionary")
    redcap.add_argument("dictionary", type=Path, metavar="DICTIONARY.csv")
    redcap.add_argument("--out", type=Path, help="write the draft here (default: print it)")
    redcap.add_argument("--theme", help="theme id for fields whose annotation names none")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "check":
        return run_check(args.path)
    if args.command == "codebook":
        return run_codebook(args.dir, args.out)
    if args.command == "from-redcap":
        return run_from_redcap(args.dictionary, args.out, args.theme)
    if args.command == "readability":
        return run_readability(args.path)
    return run_summary(args.path)
