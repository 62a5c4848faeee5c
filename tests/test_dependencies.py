"""What the code imports is declared, runtime needs are runtime dependencies, and the lock pins
every declared package with hashes (the file `make install` and CI install)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
OWN = {"survey", "instruments", "analysis", "wsgi", "migrations", "tests", "bench"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _project() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _imported_distributions(*roots: str) -> dict[str, str]:
    """Each third-party distribution the given packages import, with one file that imports it."""
    by_module = importlib.metadata.packages_distributions()
    found: dict[str, str] = {}
    for root in roots:
        for path in sorted((ROOT / root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in OWN:
                        continue
                    for dist in by_module.get(top, [top]):
                        found.setdefault(_canonical(dist), str(path.relative_to(ROOT)))
    return found


def test_everything_the_product_imports_is_a_runtime_dependency() -> None:
    declared = {_canonical(Requirement(r).name) for r in _project()["dependencies"]}
    imported = _imported_distributions("survey", "instruments", "analysis")
    missing = {dist: where for dist, where in imported.items() if dist not in declared}
    assert missing == {}, f"imported but not in [project] dependencies: {missing}"


def test_the_lock_pins_every_declared_package_with_hashes() -> None:
    lock = (ROOT / "requirements.lock").read_text()
    pinned = {_canonical(m.group(1)): m.group(2)
              for m in re.finditer(r"^([A-Za-z0-9._-]+)==(\S+)", lock, re.MULTILINE)}
    project = _project()
    wanted = list(project["dependencies"]) + list(project["optional-dependencies"]["test"])
    for text in wanted:
        requirement = Requirement(text)
        name = _canonical(requirement.name)
        assert name in pinned, f"{name} is declared but not in requirements.lock (run make lock)"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"requirements.lock pins {name}=={pinned[name]}, outside {requirement.specifier}")
    # Every pin carries at least one hash, so pip installs it only with --require-hashes.
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.split("\n", 2)[2])
    assert blocks and all("--hash=sha256:" in block for block in blocks if "==" in block)


def test_lint_tools_have_an_upper_bound() -> None:
    test_extra = {_canonical(Requirement(r).name): Requirement(r)
                  for r in _project()["optional-dependencies"]["test"]}
    for tool in ("ruff", "mypy", "bandit"):
        assert any(spec.operator in {"<", "<=", "=="} for spec in test_extra[tool].specifier), tool
