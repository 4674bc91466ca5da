"""Benchmark — the speed a user gets without tuning (issue 18): the stack started exactly as `make up`
starts it (`python -m bpmlink.devstack`, no BPMLINK_* setting but the ports, the admin and the store
URLs), a bpm'online connection made with the API's default limits, a webhook bundle with the defaults
(update_if_found on Email).

- pipeline: 3,000 webhooks over 32 keep-alive connections; events/s from the first webhook stored to the
  last record written, and webhook → record p50/p99 (operation created_at → finished_at);
- ingest: 16 senders for 10 s to a stopped bundle's URL (events held, so the workers stay idle): accepted
  per second and p99, beside the same load on a bare uvicorn endpoint in the same run.

The tuned figures (`bench.e2e`: two workers of 400 jobs, no request limit) are the reference, in the same
`make bench` run.

    .venv/bin/python -m bench.defaults [--events 3000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx

from bench.stack import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ROOT,
    bare_server,
    http_load,
    percentiles,
    sql,
    stop_process,
    wait_http,
    write_result,
)
from bpmlink.kit import embedded

BODY = '{"first_name": "Ann", "last_name": "Lee {n}", "email": "ann.{uuid}@example.com"}'


class UpStack:
    """`make up`'s stack in a temporary data folder, on free ports, its stores given by URL."""

    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-defaults-")
        self.ports = {name: embedded.free_port() for name in ("api", "gateway", "sandbox")}
        self.pg: Any = None
        self.redis: Any = None
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> UpStack:
        tmp = Path(self.tmp.name)
        server_url = os.environ.get("BENCH_DATABASE_URL")
        if not server_url:
            self.pg, server_url = embedded.start_postgres(tmp / "pg")
        self.database_url = embedded.create_database(server_url, "bench_defaults", drop_first=True)
        sandbox_db = embedded.create_database(server_url, "bench_defaults_sandbox", drop_first=True)
        self.redis, redis_url = embedded.start_redis(tmp / "redis")
        base = {k: v for k, v in os.environ.items() if not k.startswith(("BPMLINK_", "SANDBOX_"))}
        env = {
            **base,
            "DATABASE_URL": self.database_url,
            "SANDBOX_DATABASE_URL": sandbox_db,
            "REDIS_URL": redis_url,
            "BPMLINK_ADMIN_EMAIL": ADMIN_EMAIL,
            "BPMLINK_ADMIN_PASSWORD": ADMIN_PASSWORD,
        }
        ports = [f"--{name}-port={port}" for name, port in self.ports.items()]
        worker_port = embedded.free_port()
        argv = [sys.executable, "-m", "bpmlink.devstack", f"--data-dir={tmp / 'data'}", *ports,
                f"--worker-port={worker_port}", "--e2e"]
        self.log = open(tmp / "up.log", "wb")
        self.proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_http(f"{self.url('api')}/readyz", self.proc, 180)
            wait_http(f"http://127.0.0.1:{worker_port}/readyz", self.proc, 120)
        except SystemExit:
            self.log.flush()
            sys.stderr.write((tmp / "up.log").read_text(errors="replace")[-3000:])
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            stop_process(self.proc)
        self.log.close()
        if self.redis is not None:
            self.redis.shutdown()
        if self.pg is not None:
            embedded.stop_postgres(self.pg)
        self.tmp.cleanup()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def api_client(self) -> httpx.Client:
        http = httpx.Client(base_url=self.url("api"), timeout=60)
        r = http.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        r.raise_for_status()
        http.headers["X-CSRF-Token"] = http.cookies["bpmlink_csrf"]
        return http

    def bundle(self, http: httpx.Client, name: str, *, start: bool = True) -> dict[str, Any]:
        """A sandbox connection with the API's default limits and a webhook bundle on it."""
        connection = http.post("/api/v1/connections", json={
            "app": "bpmonline", "name": f"Sandbox {name}",
            "params": {"domain": self.url("sandbox"), "auth": "forms", "username": "Supervisor"},
            "secrets": {"password": "Supervisor"}})
        connection.raise_for_status()
        self.connection = dict(connection.json())
        r = http.post("/api/v1/bundles", json={
            "name": name,
            "source": {"app": "webhook", "trigger": "incoming_request"},
            "target": {"connection_id": connection.json()["id"], "action": "create_record", "entity": "Contact"},
            "mapping": [{"target": "Name", "template": "{{ first_name }} {{ last_name }}"},
                        {"target": "Email", "source": "email", "convert": ["trim", "lower"]}],
            "dedup": {"mode": "update_if_found", "match_fields": ["Email"]}})
        r.raise_for_status()
        bundle = dict(r.json())
        if start:
            started = http.post(f"/api/v1/bundles/{bundle['id']}/start")
            started.raise_for_status()
            bundle = dict(started.json())
        return bundle


def _pipeline(stack: UpStack, http: httpx.Client, events: int) -> dict[str, Any]:
    bundle = stack.bundle(http, f"Defaults {time.time()}")
    limits = {k: stack.connection["params"].get(k) for k in ("max_concurrency", "max_requests_per_second")}
    path = "/hooks/" + bundle["webhook_url"].rsplit("/hooks/", 1)[1]
    port = stack.ports["gateway"]
    sent = http_load("127.0.0.1", port, [{"method": "POST", "path": path, "body": BODY}], connections=32,
                     seconds=180, total=events)
    accepted = sent["iterations"] - sent["errors"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        done = sql(stack.database_url, "SELECT count(*) FROM operations WHERE bundle_id = $1 "
                   "AND finished_at IS NOT NULL", bundle["id"])[0][0]
        if int(done) >= accepted:
            break
        time.sleep(0.5)
    rows = sql(stack.database_url, "SELECT status, created_at, finished_at FROM operations WHERE bundle_id = $1",
               bundle["id"])
    finished = [r for r in rows if r["finished_at"] is not None]
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    span = (max(r["finished_at"] for r in finished) - min(r["created_at"] for r in rows)).total_seconds()
    lat = [(r["finished_at"] - r["created_at"]).total_seconds() for r in finished]
    return {"events": accepted, "refused": sent["errors"], "finished": len(finished), "statuses": statuses,
            "connection_limits": limits, "seconds": round(span, 2),
            "events_per_second": round(len(finished) / span, 1) if span else None,
            "latency": {k: v for k, v in percentiles(lat).items() if k != "p95_ms"}}


def _ingest(stack: UpStack, http: httpx.Client, seconds: float) -> dict[str, Any]:
    bundle = stack.bundle(http, f"Held {time.time()}", start=False)  # stored as held: the workers stay idle
    path = "/hooks/" + bundle["webhook_url"].rsplit("/hooks/", 1)[1]
    gateway = http_load("127.0.0.1", stack.ports["gateway"], [{"method": "POST", "path": path, "body": BODY}],
                        connections=16, seconds=seconds)
    with bare_server() as bare_port:
        bare = http_load("127.0.0.1", bare_port, [{"method": "POST", "path": "/", "body": BODY}],
                         connections=16, seconds=seconds)
    return {"senders": 16, "gateway": gateway, "bare": bare}


def run(events: int = 3000, ingest_seconds: float = 10.0) -> dict[str, Any]:
    with UpStack() as stack, closing(stack.api_client()) as http:
        workers = int(os.environ.get("BPMLINK_WORKERS") or os.cpu_count() or 1)  # what devstack starts
        _pipeline(stack, http, 100)  # warm-up: sessions, metadata caches, pools
        pipeline = _pipeline(stack, http, events)
        ingest = _ingest(stack, http, ingest_seconds)
    lat = pipeline["latency"]
    g, b = ingest["gateway"], ingest["bare"]
    print(f"defaults ({workers} worker processes, connection {pipeline['connection_limits']}): "
          f"{pipeline['events_per_second']} events/s ({pipeline['finished']}/{pipeline['events']} finished, "
          f"{pipeline['statuses']}, {pipeline['refused']} refused), webhook → record p50 {lat.get('p50_ms')} ms "
          f"p99 {lat.get('p99_ms')} ms")
    print(f"ingest with the defaults, 16 senders: {g['per_second']} accepted/s, p99 {g['p99_ms']} ms "
          f"(errors {g['errors']}) | bare endpoint: {b['per_second']}/s, p99 {b['p99_ms']} ms")
    targets = {"400_events_per_second": (pipeline["events_per_second"] or 0) >= 400,
               "p99_under_2_s": (lat.get("p99_ms") or 1e9) < 2000, "ingest_p99_under_25_ms": g["p99_ms"] < 25}
    print(f"targets {targets}")
    report = {"what": "make up's stack and defaults: webhook → record, and ingest", "workers": workers,
              "pipeline": pipeline, "ingest": ingest, "targets": targets}
    write_result("defaults", report)
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=3000)
    args = ap.parse_args()
    run(args.events)


if __name__ == "__main__":
    main()
