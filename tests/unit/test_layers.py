"""The import-linter contracts of ``pyproject.toml`` catch a wrong import.

A throwaway tree of the five root packages, each a few tiny modules importing only in the allowed
directions (the composition root ``market/app.py`` importing everything, controllers importing
``market.web``), is linted with the very contracts of the repository: it passes; a domain
package importing a package above it breaks the layers contract; a domain module importing the
web layer breaks the web contract. And the repository itself keeps both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
ROOTS = ("market", "listings", "bidding", "invoices", "oversight")

# module → what it imports: each package only from the packages below it; only controllers (api,
# pages), the web layer itself and the composition root import market.web
TREE: dict[str, list[str]] = {
    "market/money.py": [],
    "market/schemas.py": ["market.money"],
    "market/web/forms.py": ["market.schemas"],
    "market/web/pages.py": ["market.web.forms"],
    "market/web/schemas.py": [],
    "market/identity/guards.py": ["market.schemas"],
    "market/identity/api.py": ["market.identity.guards", "market.web.forms"],
    "listings/catalog.py": ["market.schemas", "market.money"],
    "listings/api.py": ["listings.catalog", "market.web.forms"],
    "listings/pages.py": ["listings.catalog", "market.web.pages"],
    "bidding/services.py": ["listings.catalog", "market.money"],
    "bidding/pages.py": ["bidding.services", "market.web.pages"],
    "invoices/contracts.py": ["bidding.services", "listings.catalog"],
    "invoices/api.py": ["invoices.contracts", "market.web.forms"],
    "oversight/facts.py": ["invoices.contracts", "bidding.services", "listings.catalog", "market.money"],
    "oversight/pages.py": ["oversight.facts", "market.web.pages"],
    "market/cli.py": ["oversight.facts", "invoices.contracts"],
    "market/migrations/env.py": ["listings.catalog", "bidding.services"],
}
TREE["market/app.py"] = sorted(
    path.removesuffix(".py").replace("/", ".") for path in TREE if not path.startswith("market/app")
)


def _contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    assert tuple(config["root_packages"]) == ROOTS
    contracts: list[dict[str, Any]] = config["contracts"]
    return contracts


def _id(index: int) -> str:
    return f"contract-{index}"


def _layers() -> str:
    """The id this test gives the repository's layers contract."""
    (found,) = [_id(i) for i, c in enumerate(_contracts()) if c["type"] == "layers"]
    return found


def _web() -> str:
    """… and its contract that keeps the domain away from the web layer."""
    (found,) = [
        _id(i)
        for i, c in enumerate(_contracts())
        if c["type"] == "forbidden" and "market.web" in c["forbidden_modules"]
    ]
    return found


def _toml(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # strings, lists of strings and booleans: valid TOML


def _write_config(folder: Path) -> None:
    lines = ["[tool.importlinter]", f"root_packages = {_toml(list(ROOTS))}", ""]
    for i, contract in enumerate(_contracts()):
        lines.append("[[tool.importlinter.contracts]]")
        lines.append(f"id = {_toml(_id(i))}")
        lines += [f"{key} = {_toml(value)}" for key, value in contract.items()]
        lines.append("")
    (folder / "pyproject.toml").write_text("\n".join(lines), encoding="utf-8")


def _write(folder: Path, path: str, imports: list[str]) -> None:
    target = folder / path
    target.parent.mkdir(parents=True, exist_ok=True)
    for package in [*target.relative_to(folder).parents][:-1]:
        (folder / package / "__init__.py").touch()
    target.write_text("".join(f"import {name}\n" for name in imports), encoding="utf-8")


def _lint(folder: Path, contract: str | None = None) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` in ``folder`` with ``folder`` first on the path (before the installed
    packages of the same names)."""
    args = [str(LINT_IMPORTS), "--no-cache", "--no-logo"]
    if contract:
        args += ["--contract", contract]
    env = {**os.environ, "PYTHONPATH": str(folder)}
    return subprocess.run(args, cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603 - the linter, with fixed arguments


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for path, imports in TREE.items():
        _write(tmp_path, path, imports)
    _write_config(tmp_path)
    return tmp_path


def _kept_all(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode == 0 and f"Contracts: {len(_contracts())} kept, 0 broken." in result.stdout


def test_the_layers_are_those_of_the_spec():
    (layers,) = [c for c in _contracts() if c["type"] == "layers"]
    assert layers["layers"] == ["oversight", "invoices", "bidding", "listings", "market"]
    assert _layers() != _web()


def test_a_tree_that_imports_only_downwards_keeps_both_contracts(tree):
    result = _lint(tree)
    assert _kept_all(result), result.stdout + result.stderr


def test_a_domain_package_importing_one_above_it_breaks_the_layers(tree):
    _write(tree, "listings/x.py", ["bidding.services"])
    layers = _lint(tree, _layers())
    assert layers.returncode == 1, layers.stdout + layers.stderr
    assert "BROKEN" in layers.stdout and "listings.x -> bidding.services" in layers.stdout, layers.stdout
    assert _lint(tree, _web()).returncode == 0


def test_a_domain_module_importing_the_web_layer_breaks_the_web_contract(tree):
    _write(tree, "listings/catalog.py", ["market.schemas", "market.web.schemas"])
    web = _lint(tree, _web())
    assert web.returncode == 1, web.stdout + web.stderr
    assert "BROKEN" in web.stdout and "listings.catalog -> market.web.schemas" in web.stdout, web.stdout
    assert _lint(tree, _layers()).returncode == 0


def test_the_repository_keeps_its_contracts():
    result = subprocess.run(  # noqa: S603 - the linter, with fixed arguments
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert _kept_all(result), result.stdout + result.stderr
