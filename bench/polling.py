"""Benchmark 3 — polling scale: 10,000 bundles polling a local JSON source every minute.

One http_polling bundle (interval 1 minute) is made through the api, then cloned in SQL to BENCH_POLL_BUNDLES
(default 10,000: bundles, their versions and poll states). The source is a bare uvicorn endpoint answering an
empty page, so every poll is one real HTTP fetch and no events. Worker processes (BENCH_POLL_WORKERS,
default 2) run the `poll.schedule` cron and the `poll.run` jobs for BENCH_POLL_SECONDS (default 150).

Figures: polls started per minute (bundles whose last poll falls in the last minute), the lag of the
most-late poll (time since its last poll beyond the 1-minute interval), CPU of the worker processes
(scheduler and polls together; the scheduler runs inside them), and the worker CPU per completed poll
(polls counted by a trigger on `poll_states.last_polled_at` into an unlogged table, in PostgreSQL only).

    .venv/bin/python -m bench.polling

Target (issue 7): every bundle polled every minute, lag under 10 s.
"""

from __future__ import annotations

import os
import time
from contextlib import closing
from typing import Any

import psutil

from bench.stack import Stack, bare_server, sql, write_result

BUNDLES = int(os.environ.get("BENCH_POLL_BUNDLES", "10000"))
WORKERS = int(os.environ.get("BENCH_POLL_WORKERS", "2"))
SECONDS = float(os.environ.get("BENCH_POLL_SECONDS", "150"))


async def empty_source(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The polled JSON API: an empty page in the shape the trigger reads (`data.items`)."""
    if scope["type"] != "http":
        return
    body = b'{"data": {"items": []}, "total": 0}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _clone(url: str, source_id: str, copies: int) -> None:
    """copies × (bundle, bundle version, poll state) of `source_id`, each due now."""
    def columns(table: str) -> list[str]:
        return [r[0] for r in sql(url, "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
                                       "ORDER BY ordinal_position", table)]

    sql(url, "DROP TABLE IF EXISTS bench_map")
    sql(url, f"CREATE TABLE bench_map AS SELECT g, gen_random_uuid() AS id FROM generate_series(1, {int(copies)}) g")  # noqa: S608
    plans = {
        "bundles": ("b.id", {"id": "m.id", "name": "b.name || ' #' || m.g", "webhook_token_hash": "NULL",
                    "webhook_token_encrypted": "NULL"}),
        "bundle_versions": ("b.bundle_id", {"bundle_id": "m.id"}),
        "poll_states": ("b.bundle_id", {"bundle_id": "m.id", "next_due_at": "now()", "lease_until": "NULL",
                                        "last_polled_at": "NULL"}),
    }
    for table, (key, overrides) in plans.items():
        cols = columns(table)
        values = ", ".join(overrides.get(c, f'b."{c}"') for c in cols)
        names = ", ".join(f'"{c}"' for c in cols)
        sql(url, f"INSERT INTO {table} ({names}) SELECT {values} FROM {table} b, bench_map m WHERE {key} = $1",  # noqa: S608 - names from the catalog
            source_id)
    sql(url, "DROP TABLE bench_map")
    sql(url, "ANALYZE")


def _count_polls(url: str) -> None:
    """Every completed poll moves `last_polled_at`: log each move (insert-only, no hot row) to count them."""
    sql(url, "CREATE UNLOGGED TABLE IF NOT EXISTS bench_polls (at timestamptz NOT NULL DEFAULT clock_timestamp())")
    sql(url, """CREATE OR REPLACE FUNCTION bench_poll_done() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN INSERT INTO bench_polls DEFAULT VALUES; RETURN NEW; END $$""")
    sql(url, """CREATE TRIGGER bench_poll_done AFTER UPDATE OF last_polled_at ON poll_states FOR EACH ROW
                WHEN (NEW.last_polled_at IS DISTINCT FROM OLD.last_polled_at) EXECUTE FUNCTION bench_poll_done()""")


def run(bundles: int = BUNDLES, seconds: float = SECONDS) -> dict[str, Any]:
    with Stack("polling") as stack, bare_server("bench.polling:empty_source") as source_port:
        stack.service("sandbox")
        stack.service("api")
        with closing(stack.api_client()) as http:
            target = stack.sandbox_connection(http, max_concurrency=8, max_rps=0)
            source = http.post("/api/v1/connections", json={
                "app": "http_polling", "name": "Local JSON",
                "params": {"base_url": f"http://127.0.0.1:{source_port}", "auth_header": "X-Api-Key"},
                "secrets": {"auth_value": "bench-source-key"}})
            source.raise_for_status()
            body = {
                "name": "Poll", "source": {"app": "http_polling", "connection_id": source.json()["id"],
                                           "trigger": "new_items",
                                           "config": {"path": "/items", "items_path": "data.items", "id_field": "id",
                                                      "cursor_field": "updated_at", "cursor_param": "since"}},
                "target": {"connection_id": target, "action": "create_record", "entity": "Contact"},
                "mapping": [{"target": "Name", "source": "name"}, {"target": "Email", "source": "email"}],
                "dedup": {"mode": "always_create"}, "schedule": {"interval_minutes": 1},
            }
            created = http.post("/api/v1/bundles", json=body)
            if created.status_code != 201:
                raise SystemExit(f"bundle refused: {created.text}")
            bundle_id = created.json()["id"]
            http.post(f"/api/v1/bundles/{bundle_id}/start").raise_for_status()
        started = time.perf_counter()
        _clone(stack.database_url, bundle_id, bundles - 1)
        _count_polls(stack.database_url)
        print(f"  {bundles:,} polling bundles in {time.perf_counter() - started:.1f} s", flush=True)
        count = int(sql(stack.database_url, "SELECT count(*) FROM poll_states WHERE next_due_at IS NOT NULL")[0][0])
        workers = [psutil.Process(stack.service("worker").pid) for _ in range(WORKERS)]
        cpu0 = sum(w.cpu_times().user + w.cpu_times().system for w in workers)
        t0 = time.time()
        polls0 = int(sql(stack.database_url, "SELECT count(*) FROM bench_polls")[0][0])
        samples = []
        while time.time() - t0 < seconds:  # bounded run; sampled every 10 s
            time.sleep(10)
            row = sql(stack.database_url, """
                SELECT count(*) FILTER (WHERE last_polled_at > now() - interval '60 seconds') AS last_minute,
                       count(*) FILTER (WHERE last_polled_at IS NOT NULL) AS ever
                FROM poll_states WHERE next_due_at IS NOT NULL""")[0]
            samples.append({"t": round(time.time() - t0), "polled_last_minute": row[0], "polled_ever": row[1]})
            print(f"  t={samples[-1]['t']:>4}s  polled in the last minute {row[0]:>6}  ever {row[1]:>6}",
                  flush=True)
        cpu = sum(w.cpu_times().user + w.cpu_times().system for w in workers) - cpu0
        elapsed = time.time() - t0
        polls = int(sql(stack.database_url, "SELECT count(*) FROM bench_polls")[0][0]) - polls0
        load = os.getloadavg()[0]
        worst = sql(stack.database_url, """
            SELECT max(extract(epoch FROM now() - coalesce(last_polled_at, to_timestamp($1))))
            FROM poll_states WHERE next_due_at IS NOT NULL""", t0)[0][0]
        per_minute = samples[-1]["polled_last_minute"] if samples else 0
    lag = max(0.0, float(worst or 0) - 60.0)
    targets = {"every_bundle_every_minute": per_minute >= count, "lag_under_10s": lag < 10}
    per_poll_ms = 1000 * cpu / polls if polls else None
    print(f"bundles {count:,}; polls started in the last minute {per_minute:,}; most-late poll lag {lag:.1f} s "
          f"beyond the interval; worker CPU {cpu:.1f} s in {elapsed:.0f} s ({100 * cpu / elapsed:.0f}% of one core, "
          f"{WORKERS} processes); {polls:,} polls completed, "
          f"{'-' if per_poll_ms is None else f'{per_poll_ms:.2f}'} ms of worker CPU per poll; "
          f"load average {load:.2f}; targets {targets}")
    report = {"what": "http_polling bundles, interval 1 min, local JSON source answering an empty page",
              "bundles": count, "workers": WORKERS, "seconds": round(elapsed), "samples": samples,
              "polls_started_last_minute": per_minute, "most_late_lag_seconds": round(lag, 1),
              "worker_cpu_seconds": round(cpu, 1), "worker_cpu_percent_of_one_core": round(100 * cpu / elapsed),
              "polls_completed": polls,
              "worker_cpu_ms_per_poll": None if per_poll_ms is None else round(per_poll_ms, 2),
              "targets": targets}
    write_result("polling", report)
    return report


def main() -> None:
    run()


if __name__ == "__main__":
    main()
