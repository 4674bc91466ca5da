"""Markdown summary of bench/results/*.json, for the README: `python -m bench.report`."""

from __future__ import annotations

import json
from typing import Any

from bench.stack import RESULTS


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _stamp(d: dict[str, Any]) -> str:
    load = d.get("machine", {}).get("load_average_1m")
    return f"{d.get('date', '?')}, commit {d.get('commit', '?')}, load average {load}"


def render() -> str:
    out: list[str] = []
    if d := _load("ingest"):
        out += [f"**1. Ingest** ({_stamp(d)}) — `POST /hooks/{{token}}`, committed before 202, vs a bare uvicorn "
                "endpoint that parses the same JSON:", "",
                "| senders | gateway accepted/s | p50 ms | p95 ms | p99 ms | bare endpoint/s | bare p99 ms | ratio |",
                "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in d["rows"]:
            g, b = r["gateway"], r["bare"]
            out.append(f"| {r['senders']} | {g['per_second']} | {g['p50_ms']} | {g['p95_ms']} | {g['p99_ms']} | "
                       f"{b['per_second']} | {b['p99_ms']} | {r['ratio']} |")
        out.append("")
    if d := _load("e2e"):
        out += [f"**2. End to end** ({_stamp(d)}) — webhook → record created in the sandbox (update_if_found: one "
                f"`$filter` search + one create), {d['workers']} worker processes, `max_requests_per_second` 0:", "",
                "| sandbox latency | connection max_concurrency | events | bpmlink events/s | webhook→record p50 ms "
                "| p99 ms | sandbox direct, same two calls/s |",
                "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for p in d["phases"]:
            b = p["bpmlink"]
            lat = b.get("latency", {})
            out.append(f"| {p['sandbox_latency_ms']} ms | {b.get('max_concurrency')} | {b.get('finished')}/"
                       f"{b.get('events')} | {b.get('events_per_second')} | {lat.get('p50_ms')} | {lat.get('p99_ms')} "
                       f"| {p['direct']['per_second']} |")
        out += ["", "(The latency includes the time an event waits in the queue behind the whole burst.)", ""]
    if d := _load("polling"):
        out += [f"**3. Polling scale** ({_stamp(d)}) — {d['bundles']:,} http_polling bundles, interval 1 min, "
                f"{d['workers']} worker processes, {d['seconds']} s: polls started in the last minute "
                f"**{d['polls_started_last_minute']:,}**, most-late poll **{d['most_late_lag_seconds']} s** beyond its "
                f"interval, worker CPU {d['worker_cpu_seconds']} s ({d['worker_cpu_percent_of_one_core']}% of one "
                "core; the scheduler runs inside the workers).", ""]
    if d := _load("history"):
        t = d["timings"]
        out += [f"**4. History at size** ({_stamp(d)}) — {d['operations']:,} operations in {d['bundles']} bundles "
                f"(loaded in {d['load']['insert_seconds']} s, indexes in {d['load']['index_seconds']} s); "
                "api over HTTP with an API key, median (max) of repeated calls:", "",
                "| call | median ms | max ms |", "| --- | ---: | ---: |"]
        for name, row in t.items():
            out.append(f"| {name.replace('_', ' ')} | {row['median_ms']} | {row['max_ms']} |")
        r = d["retention"]
        out += ["", f"Retention sweep (`prune_history`, {r['retention_days']} days): {r['rows_deleted']:,} rows in "
                f"{r['seconds']} s ({r['rows_per_second']:,} rows/s).", ""]
    if d := _load("sandbox_capacity"):
        base = d.get("bare_uvicorn_baseline", {})
        out += [f"**5. Sandbox capacity** ({d.get('date', '')}) — keyed GET {d['keyed_get']['rps']} req/s "
                f"(p99 {d['keyed_get']['p99_ms']} ms), POST {d['post']['rps']} req/s (p99 {d['post']['p99_ms']} ms); "
                f"bare uvicorn with the same client {base.get('rps')} req/s.", ""]
    return "\n".join(out)


def main() -> None:
    print(render())


if __name__ == "__main__":
    main()
