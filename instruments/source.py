"""Read YAML files into plain data that remembers the line of every mapping and key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from .model import Problem


class SourceMap(dict[Any, Any]):
    """A YAML mapping as a dict, with the line it starts on and the line of each key."""

    line: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines: dict[str, int] = {}
        self.duplicate_keys: list[tuple[str, int, int]] = []

    def line_of(self, key: str) -> int | None:
        """Line of `key` if present, else the line the mapping starts on."""
        return self.key_lines.get(key, self.line)


class _LineLoader(yaml.SafeLoader):
    """A safe loader that builds SourceMaps, which record lines and duplicate keys."""


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[SourceMap]:
    data = SourceMap()
    data.line = node.start_mark.line + 1
    yield data
    data.update(loader.construct_mapping(node, deep=True))
    first_seen: dict[Any, int] = {}
    for key_node, _value in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        key = loader.construct_object(key_node)
        line = key_node.start_mark.line + 1
        if key in first_seen:
            data.duplicate_keys.append((str(key), line, first_seen[key]))
        else:
            first_seen[key] = line
            data.key_lines[str(key)] = line


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def read_yaml(path: Path, display: str) -> tuple[Any, list[Problem]]:
    """Parse `path`; return the data (None if unreadable) and problems named as `display`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(display, None, None, None, f"cannot read file: {exc}")]
    loader = _LineLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = f"not valid YAML: {exc.problem or exc.context}"
        return None, [Problem(display, line, None, None, message)]
    except yaml.YAMLError as exc:
        return None, [Problem(display, None, None, None, f"not valid YAML: {exc}")]
    finally:
        loader.dispose()
    if data is None:
        return None, [Problem(display, None, None, None, "file is empty")]
    return data, []
