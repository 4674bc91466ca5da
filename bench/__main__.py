"""`make bench`: the eight benchmarks in sequence (each also runs alone: `python -m bench.<name>`).

Sizes are trimmed so the whole run stays within 15 minutes on a 2-core machine: the history table gets
BENCH_HISTORY_ROWS operations (default here 500,000; `python -m bench.history` alone uses 5,000,000).
"""

from __future__ import annotations

import os
import sys
import time
import traceback

os.environ.setdefault("BENCH_HISTORY_ROWS", "500000")

import importlib
from collections.abc import Callable
from typing import Any


def _call(module: str, **kw: Any) -> Callable[[], object]:
    return lambda: importlib.import_module(f"bench.{module}").run(**kw)


BENCHMARKS = [
    ("ingest", _call("ingest", seconds=5.0)),
    ("e2e", _call("e2e", events=2000, slow_events=500)),
    ("defaults", _call("defaults", events=3000)),
    ("polling", _call("polling")),
    ("history", _call("history", rows=int(os.environ["BENCH_HISTORY_ROWS"]))),
    ("sandbox_capacity", _call("sandbox_capacity")),
    ("guards", _call("guards")),
    ("neighbour", _call("neighbour")),
]


def main() -> None:
    only = set(sys.argv[1:])
    started = time.monotonic()
    failed = []
    for name, bench in BENCHMARKS:
        if only and name not in only:
            continue
        print(f"\n=== {name} ===", flush=True)
        t = time.monotonic()
        try:
            bench()
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"=== {name}: {time.monotonic() - t:.0f} s ===", flush=True)
    print(f"\nall benchmarks: {time.monotonic() - started:.0f} s; failed: {failed or 'none'}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
