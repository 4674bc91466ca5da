"""The import graph, checked by parsing the code: the toolkit knows no domain, and services never import each other."""

from __future__ import annotations

import ast
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
