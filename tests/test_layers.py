"""The import graph, checked by parsing the code: the toolkit knows no domain, and services never import each other;
and no import cycle, checked by importing."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {
    "bpmlink_api": ROOT / "services/api/bpmlink_api",
    "bpmlink_gateway": ROOT / "services/webhook-gateway/bpmlink_gateway",
    "bpmlink_worker": ROOT / "services/worker/bpmlink_worker",
    "bpmlink_sandbox": ROOT / "services/sandbox/bpmlink_sandbox",
}


def imported_modules(path: Path) -> list[str]:
    """Every absolute module a file imports (`from bpmlink import kit` counts as `bpmlink.kit`)."""
    modules: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules += [f"{node.module}.{alias.name}" for alias in node.names]
    return modules


def test_the_toolkit_imports_nothing_of_the_domain() -> None:
    offences = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / "bpmlink/kit").rglob("*.py"))
        for module in imported_modules(path)
        if module.startswith("bpmlink.") and not module.startswith("bpmlink.kit")
    ]
    assert offences == []


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_service_imports_no_other_service(service: str) -> None:
    others = tuple(name for name in SERVICES if name != service)
    offences = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted(SERVICES[service].rglob("*.py"))
        for module in imported_modules(path)
        if module.split(".")[0] in others
    ]
    assert offences == []


def test_the_sandbox_shares_no_code_with_the_product() -> None:
    """DESIGN.md: a misreading of Creatio written once and used on both sides would pass every test."""
    offences = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted(SERVICES["bpmlink_sandbox"].rglob("*.py"))
        for module in imported_modules(path)
        if module == "bpmlink" or module.startswith("bpmlink.")
    ]
    assert offences == []


def test_entry_points_and_domain_modules_import_first_in_a_fresh_interpreter() -> None:
    """An import cycle shows only when its modules are imported in a certain order (a service's main
    module in its own process found bpmlink.imports → bpmlink.sources → sheet_url → bpmlink.imports):
    so each entry point and each top-level domain module is imported first, in a process of its own."""
    entry_points = ["bpmlink_api.app", "bpmlink_gateway.app", "bpmlink_worker.main", "bpmlink_sandbox.app"]
    domain = [f"bpmlink.{p.stem}" for p in sorted((ROOT / "bpmlink").glob("*.py")) if p.stem != "__init__"]
    packages = [f"bpmlink.{p.parent.name}" for p in sorted((ROOT / "bpmlink").glob("*/__init__.py"))]
    children = {
        name: subprocess.Popen(
            [sys.executable, "-c", f"import {name}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for name in entry_points + domain + packages
    }
    failed = {name: child.communicate(timeout=300)[1].strip().splitlines()[-1:] for name, child in children.items()}
    assert {name: err for name, err in failed.items() if children[name].returncode} == {}
