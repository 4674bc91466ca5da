"""Benchmark 7 — a neighbour's latency beside a hostile bundle of another workspace (issue 19 §1).

Real gateway, api, one arq worker and the sandbox. Workspace A has an ordinary bundle (update_if_found on
Email); workspace B has a hostile one: a filter `tags matches (a|aa)+!$` over a list of 30 strings (the
assessment's 908-byte webhook; catastrophic for a backtracking engine) and a mapping template that loops
until it is stopped (it spends the event's whole budget, then fails its operation).

Two phases in one run, each sending A's webhooks at the same pace (BENCH_NEIGHBOUR_RATE per second for
BENCH_NEIGHBOUR_SECONDS): alone, then with B's hostile webhooks beside them (BENCH_HOSTILE_RATE per second).
Printed side by side: A's webhook stored → record created and history written (operation created_at →
finished_at, p50/p99), and the worker's /healthz answer time while the phase ran.

    .venv/bin/python -m bench.neighbour

Goal: A's p99 with the hostile bundle unchanged within noise; /healthz answering throughout.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from contextlib import closing
from typing import Any

import httpx

from bench.stack import ADMIN_EMAIL, ADMIN_PASSWORD, Stack, percentiles, sql, write_result

RATE = float(os.environ.get("BENCH_NEIGHBOUR_RATE", "20"))
SECONDS = float(os.environ.get("BENCH_NEIGHBOUR_SECONDS", "15"))
HOSTILE_RATE = float(os.environ.get("BENCH_HOSTILE_RATE", "3"))
LOOPS = "{% for i in range(10000) %}{% for j in range(10000) %}{{ '' }}{% endfor %}{% endfor %}"
HOSTILE_FILTER = {"join": "and", "conditions": [{"field": "tags", "op": "matches", "value": "(a|aa)+!$"}]}


def _other_workspace(stack: Stack, name: str) -> httpx.Client:
    """An API-key client of a new workspace of the admin (creating it moves the session there)."""
    http = httpx.Client(base_url=stack.url("api"), timeout=60)
    http.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).raise_for_status()
    csrf = {"X-CSRF-Token": http.cookies["bpmlink_csrf"]}
    http.post("/api/v1/workspaces", json={"name": name}, headers=csrf).raise_for_status()
    key = http.post("/api/v1/api-keys", json={"name": "bench"}, headers=csrf)
    key.raise_for_status()
    http.cookies.clear()
    http.headers["Authorization"] = f"Bearer {key.json()['key']}"
    return http


def _hostile_bundle(stack: Stack, http: httpx.Client) -> str:
    connection = stack.sandbox_connection(http, max_concurrency=8, max_rps=0)
    body = {
        "name": "Hostile",
        "source": {"app": "webhook", "trigger": "incoming_request"},
        "target": {"connection_id": connection, "action": "create_record", "entity": "Contact"},
        "filter": HOSTILE_FILTER,
        "mapping": [{"target": "Name", "template": LOOPS}, {"target": "Email", "source": "email"}],
        "dedup": {"mode": "always_create"},
    }
    r = http.post("/api/v1/bundles", json=body)
    r.raise_for_status()
    http.post(f"/api/v1/bundles/{r.json()['id']}/start").raise_for_status()
    return _hook_path(http.get(f"/api/v1/bundles/{r.json()['id']}").json())


def _hook_path(bundle: dict[str, Any]) -> str:
    return "/hooks/" + bundle["webhook_url"].rsplit("/hooks/", 1)[1]


def _send(gateway: str, path: str, rate: float, seconds: float, body: Any, stop: threading.Event) -> None:
    """POST `body()` to `path` at `rate` per second (paced, one connection) until `seconds` or `stop`."""
    with httpx.Client(base_url=gateway, timeout=30) as c:
        started = time.monotonic()
        n = 0
        while not stop.is_set() and time.monotonic() - started < seconds:
            c.post(path, json=body()).raise_for_status()
            n += 1
            time.sleep(max(0.0, started + n / rate - time.monotonic()))


def _watch_health(url: str, stop: threading.Event, answers: list[float]) -> None:
    with httpx.Client(timeout=60) as c:
        while not stop.is_set():
            t = time.perf_counter()
            c.get(url)
            answers.append(time.perf_counter() - t)
            time.sleep(0.1)


def _phase(stack: Stack, neighbour: dict[str, Any], hostile_path: str | None) -> dict[str, Any]:
    bundle_id, gateway = neighbour["id"], stack.url("gateway")
    since = sql(stack.database_url, "SELECT now()")[0][0]
    stop = threading.Event()
    health: list[float] = []
    tags = ["a" * 28 + "!"] * 30

    def ordinary() -> dict[str, str]:
        return {"first_name": "Ann", "last_name": "Lee", "email": f"ann.{uuid.uuid4().hex}@example.com"}

    def hostile() -> dict[str, Any]:
        return {"tags": tags, "email": f"x.{uuid.uuid4().hex}@hostile.example"}

    threads = [
        threading.Thread(target=_send, args=(gateway, _hook_path(neighbour), RATE, SECONDS, ordinary, stop)),
        threading.Thread(
            target=_watch_health, args=(f"http://127.0.0.1:{stack.worker_ports[0]}/healthz", stop, health)
        ),
    ]
    if hostile_path:
        threads.append(
            threading.Thread(target=_send, args=(gateway, hostile_path, HOSTILE_RATE, SECONDS, hostile, stop))
        )
    for t in threads:
        t.start()
    threads[0].join()
    if hostile_path:
        threads[2].join()
    sent = int(
        sql(
            stack.database_url,
            "SELECT count(*) FROM operations WHERE bundle_id = $1 AND created_at >= $2",
            bundle_id,
            since,
        )[0][0]
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = int(
            sql(
                stack.database_url,
                "SELECT count(*) FROM operations WHERE bundle_id = $1 AND created_at >= $2 AND finished_at IS NOT NULL",
                bundle_id,
                since,
            )[0][0]
        )
        if done >= sent:
            break
        time.sleep(0.5)
    stop.set()
    threads[1].join()
    rows = sql(
        stack.database_url,
        "SELECT status, created_at, finished_at FROM operations WHERE bundle_id = $1 AND created_at >= $2",
        bundle_id,
        since,
    )
    finished = [r for r in rows if r["finished_at"] is not None]
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    latency = percentiles([(r["finished_at"] - r["created_at"]).total_seconds() for r in finished])
    return {
        "neighbour_events": len(rows),
        "finished": len(finished),
        "statuses": statuses,
        "latency": {k: v for k, v in latency.items() if k != "p95_ms"},
        "worker_healthz": {k: v for k, v in percentiles(health).items() if k != "p95_ms"},
        "worker_healthz_max_ms": round(max(health) * 1000, 1) if health else None,
    }


def _hostile_outcome(stack: Stack) -> dict[str, int]:
    rows = sql(
        stack.database_url,
        "SELECT o.status, count(*) AS n FROM operations o JOIN bundles b "
        "ON b.id = o.bundle_id WHERE b.name = 'Hostile' GROUP BY o.status",
    )
    return {r["status"]: int(r["n"]) for r in rows}


def run() -> dict[str, Any]:
    with Stack("neighbour") as stack:
        stack.service("sandbox")
        stack.service("api")
        stack.service("gateway")
        stack.service("worker")
        with closing(stack.api_client()) as http, closing(_other_workspace(stack, "Hostile tenant")) as other:
            connection = stack.sandbox_connection(http, max_concurrency=8, max_rps=0)
            neighbour = stack.webhook_bundle(http, connection, name="Neighbour")
            hostile_path = _hostile_bundle(stack, other)
            _phase(stack, neighbour, None)  # warm-up: sessions, metadata caches, pools
            alone = _phase(stack, neighbour, None)
            beside = _phase(stack, neighbour, hostile_path)
            hostile = _hostile_outcome(stack)
    report = {
        "what": "workspace A's webhook → record latency, alone and beside workspace B's hostile bundle",
        "neighbour_rate_per_second": RATE,
        "hostile_rate_per_second": HOSTILE_RATE,
        "seconds": SECONDS,
        "alone": alone,
        "with_hostile": beside,
        "hostile_operations": hostile,
    }
    print(f"{'':24}{'alone':>14}{'with hostile':>16}")
    for label, key in (
        ("neighbour p50 ms", ("latency", "p50_ms")),
        ("neighbour p99 ms", ("latency", "p99_ms")),
        ("worker /healthz p99 ms", ("worker_healthz", "p99_ms")),
    ):
        print(f"{label:<24}{alone[key[0]][key[1]]!s:>14}{beside[key[0]][key[1]]!s:>16}")
    print(
        f"{'worker /healthz max ms':<24}{alone['worker_healthz_max_ms']!s:>14}{beside['worker_healthz_max_ms']!s:>16}"
    )
    print(f"{'neighbour statuses':<24}{alone['statuses']!s:>14}  {beside['statuses']!s}")
    print(f"hostile operations: {hostile}")
    write_result("neighbour", report)
    return report


if __name__ == "__main__":
    run()
