"""Benchmark 2 — end to end: events per second from webhook to record created in the sandbox.

Real gateway, api, arq worker processes and the sandbox. Each event is mapped, searched for a duplicate
(update_if_found on Email: one `$filter` GET), created (one POST with a deterministic Id) and written to
history. Throughput = events / (last operation finished_at − first operation created_at); latency =
finished_at − created_at of each operation (webhook stored → record created and history written).

Reference, same run: the sandbox's own rate for the same two calls (filter GET + POST) made directly by the
load generator with as many connections as bpmlink may use (the connection's `max_concurrency`).

Connection limits are set explicitly: `max_concurrency` as printed per phase, `max_requests_per_second` 0
(no rate limit). Worker processes: BENCH_E2E_WORKERS (default 2), each with BPMLINK_WORKER_CONCURRENCY
BENCH_E2E_WORKER_CONCURRENCY (default 400).

    .venv/bin/python -m bench.e2e [--events 2000] [--slow-events 300]

A phase of issue 16's three-step bundle (contact → lead → task: a search and three creates per event) runs
after the instant one, beside it.

Target (issue 7): ≥ 500 events/s with an instant sandbox on this 2-core machine; with 200 ms latency the
rate grows with the configured concurrency.
"""

from __future__ import annotations

import argparse
import os
import time
from contextlib import closing
from typing import Any

import httpx

from bench.stack import Stack, drive_webhooks, http_load, write_result

WORKERS = int(os.environ.get("BENCH_E2E_WORKERS", "2"))
# arq's max_jobs per worker process (BPMLINK_WORKER_CONCURRENCY): the events a worker can batch at once.
WORKER_CONCURRENCY = os.environ.get("BENCH_E2E_WORKER_CONCURRENCY", "400")


def _sandbox_login(base: str) -> str:
    with httpx.Client(base_url=base, timeout=30) as c:
        r = c.post("/ServiceModel/AuthService.svc/Login", json={"UserName": "Supervisor", "UserPassword": "Supervisor"})
        r.raise_for_status()
        cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
        return f"Cookie: {cookie}\r\nBPMCSRF: {c.cookies['BPMCSRF']}\r\nForceUseSession: true\r\n"


def direct_rate(stack: Stack, connections: int, seconds: float, total: int | None = None) -> dict[str, Any]:
    """The sandbox serving the same two calls per event, straight from the load generator."""
    steps = [
        {"method": "GET", "path": "/0/odata/Contact?$filter=tolower(Email)%20eq%20%27direct.{uuid}%40example.com%27"
                                  "&$select=Email,Id,ModifiedOn,Name&$orderby=ModifiedOn%20desc,Id&$top=20"},
        {"method": "POST", "path": "/0/odata/Contact",
         "body": '{"Id": "{uuid}", "Name": "Direct {n}", "Email": "direct.{uuid}@example.com"}'},
    ]
    return http_load("127.0.0.1", stack.ports["sandbox"], steps, connections=connections, seconds=seconds,
                     total=total, headers=_sandbox_login(stack.url("sandbox")))


def pipeline_run(stack: Stack, http: httpx.Client, *, concurrency: int, events: int, senders: int = 16,
                 wait_seconds: float = 180, steps: bool = False) -> dict[str, Any]:
    connection = stack.sandbox_connection(http, max_concurrency=concurrency, max_rps=0)
    bundle = stack.webhook_bundle(http, connection, name=f"Bench c{concurrency} {time.time()}", steps=steps)
    run = drive_webhooks(stack.database_url, stack.ports["gateway"], bundle, events=events, senders=senders,
                         wait_seconds=wait_seconds)
    return {"max_concurrency": concurrency, **run}


def run(events: int = 2000, slow_events: int = 300) -> dict[str, Any]:
    phases: list[dict[str, Any]] = []
    with Stack("e2e") as stack:
        stack.service("sandbox")
        stack.service("api")
        stack.service("gateway")
        for _ in range(WORKERS):
            stack.service("worker", BPMLINK_WORKER_CONCURRENCY=WORKER_CONCURRENCY)
        with closing(stack.api_client()) as http, httpx.Client(base_url=stack.url("sandbox"), timeout=30) as admin:
            pipeline_run(stack, http, concurrency=8, events=50)  # warm-up: sessions, metadata caches, pools
            cpu0 = stack.cpu_seconds()
            batches0 = _batches(stack)
            instant = pipeline_run(stack, http, concurrency=64, events=events)
            cpu1 = stack.cpu_seconds()
            jobs, batches = (after - before for after, before in zip(_batches(stack), batches0, strict=True))
            instant["mean_batch_size"] = round(jobs / batches, 1) if batches else None
            print(f"event.process jobs per worker batch: {instant['mean_batch_size']}")
            # Where the CPU goes, per event: gateway, workers, sandbox, PostgreSQL (2 cores = 2000 ms/s).
            done = max(1, instant["finished"])
            instant["cpu_ms_per_event"] = {k: round(1000 * (v - cpu0.get(k, 0.0)) / done, 1) for k, v in cpu1.items()}
            print(f"CPU per event (ms): {instant['cpu_ms_per_event']}")
            ref = direct_rate(stack, 64, 8.0)
            phases.append({"sandbox_latency_ms": 0, "bpmlink": instant, "direct": ref})
            _print(phases[-1])
            # Issue 16: contact → lead → task, each event three records (the reference: the one-step phase).
            three = pipeline_run(stack, http, concurrency=64, events=events, steps=True)
            print(f"three steps (contact → lead → task): {three.get('events_per_second')} events/s "
                  f"({three.get('finished')}/{three.get('events')} finished, {three.get('statuses')}), latency p50 "
                  f"{three.get('latency', {}).get('p50_ms')} ms p99 {three.get('latency', {}).get('p99_ms')} ms "
                  f"| one step: {instant.get('events_per_second')} events/s")
            admin.put("/_sandbox/faults", json={"latency_ms": 200}).raise_for_status()
            for concurrency in (8, 32):
                slow = pipeline_run(stack, http, concurrency=concurrency, events=slow_events)
                ref = direct_rate(stack, concurrency, 6.0)
                phases.append({"sandbox_latency_ms": 200, "bpmlink": slow, "direct": ref})
                _print(phases[-1])
            admin.delete("/_sandbox/faults")
    eps = [p["bpmlink"].get("events_per_second") or 0 for p in phases]
    targets = {"500_events_per_second_instant": eps[0] >= 500,
               "grows_with_concurrency_at_200ms": eps[2] > eps[1] * 1.5}
    print(f"targets {targets}")
    report = {"what": "webhook → gateway → worker (map, $filter search, POST create, history) → sandbox record",
              "workers": WORKERS, "worker_concurrency": int(WORKER_CONCURRENCY), "max_requests_per_second": 0,
              "phases": phases, "three_steps": three,
              "targets": targets}
    write_result("e2e", report)
    return report


def _batches(stack: Stack) -> tuple[float, float]:
    """(jobs, batches) the workers have run so far."""
    size = "bpmlink_worker_event_batch_size"
    return stack.worker_metric(f"{size}_sum"), stack.worker_metric(f"{size}_count")


def _print(phase: dict[str, Any]) -> None:
    b, d = phase["bpmlink"], phase["direct"]
    print(f"sandbox +{phase['sandbox_latency_ms']} ms, max_concurrency {b.get('max_concurrency')}: "
          f"{b.get('events_per_second')} events/s ({b.get('finished')}/{b.get('events')} finished, "
          f"{b.get('statuses')}), latency p50 {b.get('latency', {}).get('p50_ms')} ms "
          f"p99 {b.get('latency', {}).get('p99_ms')} ms | direct search+create: {d['per_second']}/s "
          f"(errors {d['errors']})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--slow-events", type=int, default=300)
    args = ap.parse_args()
    run(args.events, args.slow_events)


if __name__ == "__main__":
    main()
