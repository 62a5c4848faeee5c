"""The house's import rules, read from the source: infrastructure does not import services."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "survey"
# Infrastructure: services use it, it never uses them (DESIGN.md, rules of the house).
INFRASTRUCTURE = [ROOT / "messaging", ROOT / "models", ROOT / "db.py", ROOT / "i18n.py",
                  ROOT / "config.py", ROOT / "extensions.py"]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def files(entry: Path) -> list[Path]:
    return sorted(entry.rglob("*.py")) if entry.is_dir() else [entry]


@pytest.mark.parametrize("path", [p for entry in INFRASTRUCTURE for p in files(entry)],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_infrastructure_imports_no_services(path: Path) -> None:
    offending = sorted(name for name in imported_modules(path)
                       if name == "survey.services" or name.startswith("survey.services."))
    assert offending == [], f"{path.relative_to(ROOT)} imports {offending}"


def test_messaging_lives_in_one_package() -> None:
    # The old homes of sending are gone: mail, texts and the channel rule are in survey/messaging.
    for old in ("mail.py", "sms.py", "bounces.py", "services/text_messages.py"):
        assert not (ROOT / old).exists(), old
    for name in ("base", "email", "sms", "channels", "reach", "compose", "bounces"):
        assert (ROOT / "messaging" / f"{name}.py").exists(), name


def test_the_rule_finds_a_services_import(tmp_path: Path) -> None:
    # The check itself can fail: a module importing services, at the top or in a function.
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from survey.services.tokens import survey_url\n")
    assert "survey.services.tokens" in imported_modules(module)
