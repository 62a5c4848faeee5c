"""Hostile YAML in a questionnaire or study file: aliases, anchors, deep nesting and size are
refused at once with the file and line, never expanded into memory or a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from instruments import check_directory
from instruments.source import MAX_BYTES, MAX_DEPTH, read_yaml
from survey.services.study_setup import read_study_file
from tests.instruments.builders import MINI, THEMES, write_dir

# The "billion laughs": nine levels of nine aliases, about 1 KB that expands to 9**9 strings.
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    data, problems = read_yaml(path, path.name)
    assert data is None
    return [str(p) for p in problems]


def test_an_alias_bomb_is_refused_at_its_first_anchor_in_no_time(tmp_path: Path) -> None:
    assert len(BOMB) < 1100
    started = time.perf_counter()
    problems = _problems(tmp_path, BOMB)
    assert time.perf_counter() - started < 1
    assert problems == ["hostile.yaml:1: not valid YAML: an anchor (&a) is not allowed here: "
                        "write each value out in full"]


def test_an_alias_is_refused_with_its_line(tmp_path: Path) -> None:
    assert _problems(tmp_path, "x: 1\ny:\n  - *z\n") == [
        "hostile.yaml:3: not valid YAML: an alias (*z) is not allowed here: write the value out in full"]


@pytest.mark.parametrize("text", ["a:\n  b: " + "[" * 100_000 + "]" * 100_000 + "\n",
                                  "a:\n" + "".join(f"{'  ' * (i + 1)}k{i}:\n" for i in range(200)) + "   x\n"])
def test_deep_nesting_is_refused_with_its_line_not_a_traceback(tmp_path: Path, text: str) -> None:
    [problem] = _problems(tmp_path, text)
    assert problem.startswith("hostile.yaml:") and problem.endswith(f"nested more than {MAX_DEPTH} levels deep")


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    assert _problems(tmp_path, "a: " + "x" * MAX_BYTES + "\n") == [
        f"hostile.yaml: file is {MAX_BYTES + 4:,} bytes; the most accepted is {MAX_BYTES:,}"]


def test_an_instrument_directory_with_a_bomb_names_the_file(tmp_path: Path) -> None:
    directory = write_dir(tmp_path / "instruments", {"themes.yaml": THEMES, "mini.yaml": MINI,
                                                     "bomb.yaml": BOMB})
    assert [str(p) for p in check_directory(directory)] == [
        "bomb.yaml:1: not valid YAML: an anchor (&a) is not allowed here: write each value out in full"]


def test_a_study_file_with_a_bomb_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text("code: pulse\nname: Pulse\n" + BOMB, encoding="utf-8")
    spec, problems = read_study_file(path)
    assert spec is None
    assert [str(p) for p in problems] == [
        "study.yaml:3: not valid YAML: an anchor (&a) is not allowed here: write each value out in full"]
