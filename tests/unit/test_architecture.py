"""The design card's rules, checked on the code itself."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
ALLOWED = {
    "domain": ("attrs", "botgpt.domain", "botgpt.ports"),
    "ports": ("attrs", "botgpt.domain", "botgpt.ports"),
}


def imported_modules(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_inner_layers_import_only_what_the_card_allows(layer: str) -> None:
    offending = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for name in imported_modules(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not any(name == allowed or name.startswith(allowed + ".") for allowed in ALLOWED[layer])
    ]
    assert not offending, offending


def test_every_subpackage_is_in_the_wheel() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    folders = {package: Path(folder) for package, folder in setuptools["package-dir"].items()}
    assert listed == set(folders)
    for package, folder in folders.items():
        assert (ROOT / folder / "__init__.py").exists(), package
        assert (ROOT / folder / "py.typed").exists(), package
        for child in (ROOT / folder).iterdir():
            if (child / "__init__.py").exists():
                assert f"{package}.{child.name}" in listed, f"{child} is not packaged"
