"""Benchmark — the speed a user gets without tuning (issue 18): the stack started exactly as `make up`
starts it (`python -m bpmlink.devstack`, no BPMLINK_* setting but the ports, the admin and the store
URLs), a bpm'online connection made with the API's default limits, a webhook bundle with the defaults
(update_if_found on Email).

- pipeline: 3,000 webhooks over 32 keep-alive connections; events/s from the first webhook stored to the
  last record written, and webhook → record p50/p99 (operation created_at → finished_at);
- ingest: 16 senders for 5 s (under the per-token limit of 6,000 a minute) to a stopped bundle's URL
  (events held, so the workers stay idle): accepted per second and p99, beside the same load on a bare
  uvicorn endpoint in the same run.

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
    WEBHOOK_BODY,
    bare_server,
    drive_webhooks,
    http_load,
    stop_process,
    wait_http,
    webhook_bundle,
    write_result,
)
from bpmlink.kit import embedded


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
        self.worker_port = worker_port  # devstack puts worker i on worker_port + i
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

    def batch_sizes(self, workers: int) -> tuple[float, float]:
        """(jobs, batches) the workers have run so far (bpmlink_worker_event_batch_size)."""
        jobs = batches = 0.0
        for i in range(workers):
            text = httpx.get(f"http://127.0.0.1:{self.worker_port + i}/metrics", timeout=10).text
            for line in text.splitlines():
                if line.startswith("bpmlink_worker_event_batch_size_sum "):
                    jobs += float(line.split()[-1])
                elif line.startswith("bpmlink_worker_event_batch_size_count "):
                    batches += float(line.split()[-1])
        return jobs, batches

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
        return webhook_bundle(http, self.connection["id"], name=name, start=start)

    def cpu_seconds(self) -> dict[str, float]:
        """User + system CPU so far of each service make up started (the workers summed)."""
        import psutil

        out: dict[str, float] = {}
        assert self.proc is not None
        for child in psutil.Process(self.proc.pid).children():
            try:
                module = next((m for m in child.cmdline() if m.startswith("bpmlink_")), None)
                t = child.cpu_times()
            except psutil.Error:
                continue
            if module is not None:
                name = module.removeprefix("bpmlink_")
                out[name] = out.get(name, 0.0) + t.user + t.system
        return out


def _pipeline(stack: UpStack, http: httpx.Client, events: int) -> dict[str, Any]:
    bundle = stack.bundle(http, f"Defaults {time.time()}")
    limits = {k: stack.connection["params"].get(k) for k in ("max_concurrency", "max_requests_per_second")}
    run = drive_webhooks(stack.database_url, stack.ports["gateway"], bundle, events=events, senders=32,
                         wait_seconds=300)
    return {**run, "connection_limits": limits}


def _ingest(stack: UpStack, http: httpx.Client, seconds: float) -> dict[str, Any]:
    bundle = stack.bundle(http, f"Held {time.time()}", start=False)  # stored as held: the workers stay idle
    path = "/hooks/" + bundle["webhook_url"].rsplit("/hooks/", 1)[1]
    gateway = http_load("127.0.0.1", stack.ports["gateway"], [{"method": "POST", "path": path, "body": WEBHOOK_BODY}],
                        connections=16, seconds=seconds)
    with bare_server() as bare_port:
        bare = http_load("127.0.0.1", bare_port, [{"method": "POST", "path": "/", "body": WEBHOOK_BODY}],
                         connections=16, seconds=seconds)
    return {"senders": 16, "gateway": gateway, "bare": bare}


def run(events: int = 3000, ingest_seconds: float = 5.0) -> dict[str, Any]:
    with UpStack() as stack, closing(stack.api_client()) as http:
        workers = int(os.environ.get("BPMLINK_WORKERS") or os.cpu_count() or 1)  # what devstack starts
        _pipeline(stack, http, 100)  # warm-up: sessions, metadata caches, pools
        jobs0, batches0 = stack.batch_sizes(workers)
        cpu0 = stack.cpu_seconds()
        pipeline = _pipeline(stack, http, events)
        cpu1 = stack.cpu_seconds()
        jobs1, batches1 = stack.batch_sizes(workers)
        done = max(1, pipeline["finished"])
        pipeline["cpu_ms_per_event"] = {k: round(1000 * (v - cpu0.get(k, 0.0)) / done, 2) for k, v in cpu1.items()}
        batches = batches1 - batches0
        pipeline["mean_batch_size"] = round((jobs1 - jobs0) / batches, 1) if batches else None
        ingest = _ingest(stack, http, ingest_seconds)
    lat = pipeline.get("latency", {})  # none when nothing finished
    g, b = ingest["gateway"], ingest["bare"]
    print(f"defaults ({workers} worker processes, connection {pipeline['connection_limits']}): "
          f"{pipeline.get('events_per_second')} events/s ({pipeline['finished']}/{pipeline['events']} finished, "
          f"{pipeline['statuses']}, {pipeline['refused']} refused), webhook → record p50 {lat.get('p50_ms')} ms "
          f"p99 {lat.get('p99_ms')} ms, mean batch {pipeline['mean_batch_size']} events, "
          f"CPU ms/event {pipeline['cpu_ms_per_event']}")
    print(f"ingest with the defaults, 16 senders: {g['per_second']} accepted/s, p99 {g['p99_ms']} ms "
          f"(errors {g['errors']}) | bare endpoint: {b['per_second']}/s, p99 {b['p99_ms']} ms")
    targets = {"400_events_per_second": (pipeline.get("events_per_second") or 0) >= 400,
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
