"""Read YAML files into plain data that remembers the line of every mapping and key.

The files are data typed by people, so the reader refuses what a questionnaire or study never
needs and an attacker could use: anchors and aliases (`&a`, `*a`, and so `<<` merges; a 1 KB
"alias bomb" expands to gigabytes), nesting deeper than MAX_DEPTH (the composer recurses), and
files larger than MAX_BYTES. Each refusal is a Problem naming the file and line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError

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


# Far above what any shipped file uses (the largest is about 20 KB and 8 levels deep).
MAX_BYTES = 1_000_000
MAX_DEPTH = 50


class _LineLoader(yaml.SafeLoader):
    """A safe loader that builds SourceMaps (lines, duplicate keys) and refuses aliases and depth."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:  # type: ignore[override, unused-ignore]
        """Compose one node; refuse an alias, an anchor, or one nesting level too many."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise ComposerError(None, None, f"an alias (*{event.anchor}) is not allowed here: "
                                "write the value out in full", event.start_mark)  # type: ignore[arg-type, unused-ignore]
        if getattr(event, "anchor", None):
            raise ComposerError(None, None, f"an anchor (&{event.anchor}) is not allowed here: "
                                "write each value out in full", event.start_mark)  # type: ignore[arg-type, unused-ignore]
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep",
                                    event.start_mark)  # type: ignore[arg-type, unused-ignore]
            return super().compose_node(parent, index)  # type: ignore[no-any-return, unused-ignore]
        finally:
            self._depth -= 1


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
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, [Problem(display, None, None, None, f"file is {size:,} bytes; the most "
                                  f"accepted is {MAX_BYTES:,}")]
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
