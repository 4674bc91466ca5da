"""Invariant 4 (values are data, never syntax), checked on the code itself.

Only `bpmlink/bpmonline/client.py` may name the `$filter` parameter, and nothing may write
a comparison like `f"Name eq '{value}'"` by hand: filters are built with `F` and rendered
by `filters.py`. The sandbox is exempt (it parses filters, it does not build them).
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {ROOT / "bpmlink" / "bpmonline" / "client.py", ROOT / "bpmlink" / "bpmonline" / "filters.py"}
_COMPARISON = re.compile(r"\s(eq|ne|gt|ge|lt|le)\s*'?$")


def _python_files() -> list[Path]:
    files = list((ROOT / "bpmlink").rglob("*.py"))
    for service in (ROOT / "services").iterdir():
        if service.name != "sandbox":
            files += service.rglob("*.py")
    return [f for f in files if f not in ALLOWED]


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in docstrings:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "$filter" in node.value:
            found.append(f"{path}:{node.lineno}: names $filter")
        if isinstance(node, ast.JoinedStr):
            parts = node.values
            for before, after in zip(parts, parts[1:], strict=False):
                if (
                    isinstance(before, ast.Constant)
                    and isinstance(before.value, str)
                    and isinstance(after, ast.FormattedValue)
                    and _COMPARISON.search(before.value)
                ):
                    found.append(f"{path}:{node.lineno}: builds an OData comparison in an f-string")
    return found


def test_no_filter_is_written_by_hand():
    offences = [o for f in _python_files() for o in _offences(f)]
    assert not offences, "build filters with bpmlink.bpmonline.F:\n" + "\n".join(offences)
