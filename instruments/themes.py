"""Parse and check themes.yaml: the study's themes, findings, outcomes and principles."""

from __future__ import annotations

from typing import Any

from .fields import FieldReader
from .model import Problem, Theme

THEME_KINDS = ("theme", "finding", "outcome", "principle")
THEMES_FILE = "themes.yaml"
_THEME_FIELDS = ("id", "kind", "label", "description", "parent")


def parse_themes(data: Any, file: str) -> tuple[dict[str, Theme], list[Problem]]:
    """Build the themes by id from parsed YAML; problems name the file, line and theme."""
    reader = FieldReader(file)
    root = reader.mapping(data, None, None, "the themes file")
    if root is None:
        return {}, reader.problems
    reader.check_keys(root, ("themes",), None)
    themes: dict[str, Theme] = {}
    lines: dict[str, int | None] = {}
    for entry in reader.sequence(root, "themes", None):
        raw = reader.mapping(entry, root.line_of("themes"), None, "each theme")
        if raw is None:
            continue
        theme_id = reader.identifier(raw, "id", None)
        reader.check_keys(raw, _THEME_FIELDS, theme_id)
        kind = reader.text(raw, "kind", theme_id)
        label = reader.text(raw, "label", theme_id)
        description = reader.text(raw, "description", theme_id)
        parent = reader.text(raw, "parent", theme_id, required=False)
        if kind is not None and kind not in THEME_KINDS:
            reader.add(raw.line_of("kind"), theme_id, "kind",
                       f"unknown kind {kind!r}; use one of {', '.join(THEME_KINDS)}")
        if theme_id is None or kind is None or label is None or description is None:
            continue
        if theme_id in themes:
            reader.add(raw.line_of("id"), theme_id, "id",
                       f"duplicate theme id (first on line {lines[theme_id]})")
            continue
        themes[theme_id] = Theme(theme_id, kind, label, description, parent)
        lines[theme_id] = raw.line_of("parent")
    for theme in themes.values():
        if theme.parent is None:
            continue
        parent_theme = themes.get(theme.parent)
        if parent_theme is None:
            reader.add(lines[theme.id], theme.id, "parent", f"unknown theme {theme.parent!r}")
        elif parent_theme.kind != "theme":
            reader.add(lines[theme.id], theme.id, "parent",
                       f"parent {theme.parent!r} is a {parent_theme.kind}; "
                       "a parent must be a theme")
    return themes, reader.problems
