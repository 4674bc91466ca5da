"""Invariant 6 (tenants are walled), checked on the code itself.

In the api, a query is limited to a workspace only in a domain's `repository.py`, through
`bpmlink.db.scoping` (`scoped`, `in_workspace`). Anywhere else, a comparison on a model's
`workspace_id` column (`Bundle.workspace_id == ws`, `Membership.workspace_id.in_(…)`,
`filter_by(workspace_id=…)`) is a hand-written filter that a reader cannot check in one place.
A column is told from an attribute of a row by its owner: a model class is capitalised.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "services" / "api"
_COLUMN_METHODS = {"in_", "not_in", "is_", "is_not", "__eq__"}


def _is_column(node: ast.AST) -> bool:
    """`Model.workspace_id`, where Model is a (capitalised) class name."""
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "workspace_id"
        and isinstance(node.value, ast.Name)
        and node.value.id[:1].isupper()
    )


def offences(source: str, filename: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Compare) and any(_is_column(n) for n in [node.left, *node.comparators]):
            found.append(f"{filename}:{node.lineno}: compares a workspace_id column")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in _COLUMN_METHODS and _is_column(node.func.value):
                found.append(f"{filename}:{node.lineno}: filters a workspace_id column with {node.func.attr}()")
            elif node.func.attr == "filter_by" and any(k.arg == "workspace_id" for k in node.keywords):
                found.append(f"{filename}:{node.lineno}: filter_by(workspace_id=…)")
    return found


def _checked_files() -> list[Path]:
    return [f for f in sorted(API.rglob("*.py")) if f.name != "repository.py"]


def test_no_workspace_filter_is_written_outside_repositories() -> None:
    found = [o for f in _checked_files() for o in offences(f.read_text(encoding="utf-8"), str(f.relative_to(ROOT)))]
    assert not found, "scope queries in the domain's repository.py with bpmlink.db.scoping:\n" + "\n".join(found)


def test_the_check_sees_each_way_of_writing_the_filter() -> None:
    source = """
select(Bundle).where(Bundle.workspace_id == workspace_id)
select(Bundle).where(workspace_id == Bundle.workspace_id)
select(Operation).where(Operation.workspace_id.in_(ids))
select(Membership).filter_by(workspace_id=ws)
select(Workspace).join(Membership, Membership.workspace_id == Workspace.id)
"""
    assert len(offences(source, "example.py")) == 5


def test_the_check_leaves_rows_and_the_helper_alone() -> None:
    source = """
select(Bundle).where(in_workspace(Bundle, workspace_id))
scoped(Bundle, workspace_id, Bundle.id == bundle_id)
same = row.workspace_id == actor.workspace_id
Bundle(workspace_id=actor.workspace_id)
"""
    assert offences(source, "example.py") == []
