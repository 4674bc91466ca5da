"""Benchmark 6 — the mapping guards on the wall clock: how long a runaway template or regex really runs.

The tests prove the guards' logic with a fake clock (the render stops at the first check past the deadline,
amplification is refused before the value is built); this measures what that costs on this machine:

- a template looping 10⁸ times, with the default 1 s limit: seconds until TemplateTimeout;
- an exponentially recursing macro: seconds until the depth limit refuses it;
- the slowest of the amplification attempts (`'a' * 10**9`, `'x'.rjust(10**9)`, …): seconds until refused;
- a catastrophic regex (`^(a+)+$` over 50,000 `a`s and a `!`) in a filter: seconds until its answer (RE2: linear).

    .venv/bin/python -m bench.guards

Target: each within 0.2 s of its limit (the template 1.0 s), refusals and the regex under 0.1 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.stack import write_result
from bpmlink.mapping.filters import Condition, FilterGroup, evaluate
from bpmlink.mapping.templates import TemplateError, render_template

NESTED_LOOPS = (
    "{% for i in range(10000) %}{% for j in range(10000) %}{% if i < 0 %}x{% endif %}{% endfor %}{% endfor %}"
)
RECURSION = "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}"
AMPLIFICATIONS = [
    "{{ 'a' * 10**9 }}",
    "{{ '%999999999d' % 1 }}",
    "{{ 'x'.rjust(10**9) }}",
    "{{ 2 ** 100000000 }}",
    "{{ {}|tojson(10**9) }}",
]


def _seconds_until(error: type[Exception], action: Callable[..., Any], *args: Any) -> float:
    started = time.perf_counter()
    try:
        action(*args)
    except error:
        return round(time.perf_counter() - started, 3)
    raise SystemExit(f"expected {error.__name__}")


def _seconds_of(action: Callable[..., Any], *args: Any) -> float:
    started = time.perf_counter()
    action(*args)
    return round(time.perf_counter() - started, 3)


def run() -> dict[str, Any]:
    regex_filter = FilterGroup(conditions=[Condition(field="text", op="matches", value=r"^(a+)+$")])
    report = {
        "template_timeout_s": _seconds_until(TemplateError, render_template, NESTED_LOOPS, {}),
        "macro_recursion_s": _seconds_until(TemplateError, render_template, RECURSION, {}),
        "amplification_slowest_s": max(_seconds_until(TemplateError, render_template, s, {}) for s in AMPLIFICATIONS),
        "regex_answer_s": _seconds_of(evaluate, regex_filter, {"text": "a" * 50_000 + "!"}),
    }
    for name, value in report.items():
        print(f"  {name:<24} {value}", flush=True)
    write_result("guards", report)
    return report


if __name__ == "__main__":
    run()
