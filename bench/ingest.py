"""Benchmark 1 — ingest: webhooks accepted per second and ack latency at 1, 16 and 64 concurrent senders.

The gateway (uvicorn, uvloop + httptools) commits every event in PostgreSQL before its 202, then enqueues
it in Redis. Reference: a bare uvicorn endpoint that only parses the same JSON and answers 202.
No worker runs, so the gateway has the machine to itself (the queue just grows).

    .venv/bin/python -m bench.ingest [--seconds 6]
    .venv/bin/python -m bench.ingest --ab /tmp/a [--seconds 4 --rounds 3]   # same-run A/B of two gateway versions

Target (issue 7): at least half the bare endpoint's rate; p99 under 25 ms at 16 senders.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

from bench.stack import Stack, bare_server, http_load, write_result

BODY = ('{"first_name": "Ann {n}", "last_name": "Lee", "email": "ann{n}@example.com", "phone": "+7 999 123-45-67", '
        '"utm": {"source": "bench", "campaign": "autumn"}, "consent": true}')
SENDERS = (1, 16, 64)


def run(seconds: float = 6.0) -> dict[str, Any]:
    with Stack("ingest") as stack:
        stack.service("sandbox")  # bundle creation validates the mapping against its $metadata
        stack.service("api")
        stack.service("gateway")
        with closing(stack.api_client()) as http:
            # No worker runs: the sandbox is only asked for $metadata when the bundle is saved.
            connection = stack.sandbox_connection(http, max_concurrency=8, max_rps=0)
            bundle = stack.webhook_bundle(http, connection, dedup="always_create")
        path = "/hooks/" + bundle["webhook_url"].rsplit("/hooks/", 1)[1]
        steps = [{"method": "POST", "path": path, "body": BODY}]
        port = stack.ports["gateway"]
        http_load("127.0.0.1", port, steps, connections=4, seconds=1.0)  # warm-up (pools, caches)
        gateway: dict[int, dict[str, Any]] = {}
        for n in SENDERS:
            cpu0 = cpu_seconds(stack)
            result = http_load("127.0.0.1", port, steps, connections=n, seconds=seconds, offset=n * 1_000_000)
            cpu1 = cpu_seconds(stack)
            accepted_n = max(1, result["iterations"] - result["errors"])
            # CPU per accepted request of the gateway process and of PostgreSQL (all its backends), and the
            # load average: on a shared machine the ratio is only meaningful next to these.
            result["cpu_ms_per_request"] = {
                k: round(1000 * (cpu1.get(k, 0.0) - cpu0.get(k, 0.0)) / accepted_n, 3) for k in ("gateway", "postgres")
            }
            result["load_average_1m"] = round(os.getloadavg()[0], 2)
            gateway[n] = result
        stored = stack_count(stack)
    with bare_server() as bare_port:
        http_load("127.0.0.1", bare_port, steps, connections=4, seconds=1.0)
        bare = {n: http_load("127.0.0.1", bare_port, steps, connections=n, seconds=seconds) for n in SENDERS}

    rows = []
    print(f"{'senders':>7}  {'gateway/s':>10} {'p50':>7} {'p95':>7} {'p99':>7}   {'bare/s':>9} {'p99':>7}  ratio")
    for n in SENDERS:
        g, b = gateway[n], bare[n]
        ratio = round(g["per_second"] / b["per_second"], 2) if b["per_second"] else None
        rows.append({"senders": n, "gateway": g, "bare": b, "ratio": ratio})
        print(f"{n:>7}  {g['per_second']:>10.1f} {g['p50_ms']:>7} {g['p95_ms']:>7} {g['p99_ms']:>7}   "
              f"{b['per_second']:>9.1f} {b['p99_ms']:>7}  {ratio}  errors {g['errors']}  "
              f"cpu ms/req {g['cpu_ms_per_request']}  load {g['load_average_1m']}")
    accepted = sum(gateway[n]["iterations"] - gateway[n]["errors"] for n in SENDERS)
    at16 = gateway[16]
    ratio16 = rows[1]["ratio"]
    targets = {
        "half_of_bare_rate_at_16": isinstance(ratio16, float) and ratio16 >= 0.5,
        "p99_under_25ms_at_16": bool(at16["p99_ms"] is not None and at16["p99_ms"] < 25),
    }
    print(f"accepted {accepted} (+ warm-up), events stored {stored}; targets {targets}")
    report = {"what": "POST /hooks/{token} JSON (~190 bytes), durable 202 vs bare uvicorn parse-and-202",
              "seconds_per_phase": seconds, "rows": rows, "events_stored": stored, "targets": targets}
    write_result("ingest", report)
    return report


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """The gateway's CPU and PostgreSQL's: its postmaster and every backend alive now (the backends' command
    lines do not name the data folder, so `Stack.cpu_seconds` misses them)."""
    import psutil

    out = {"gateway": stack.cpu_seconds().get("gateway", 0.0), "postgres": 0.0}
    for p in psutil.process_iter(["name", "cmdline"]):
        try:
            if p.info["name"] == "postgres" and any(stack.tmp.name in a for a in (p.info["cmdline"] or [])):
                for q in (p, *p.children(recursive=True)):
                    t = q.cpu_times()
                    out["postgres"] += t.user + t.system
        except psutil.Error:
            continue
    return out


def stack_count(stack: Stack) -> int:
    from bench.stack import sql

    return int(sql(stack.database_url, "SELECT count(*) FROM events")[0][0])


def ab(other: str, seconds: float = 4.0, rounds: int = 3) -> dict[str, Any]:
    """Same-run A/B of two gateway versions: A from `other` (a checkout of another commit, e.g.
    `git archive <commit> | tar -x -C /tmp/a`), B from this tree, both on one stack, loaded in turn (the order
    alternates per round) so a shared machine's load falls on both alike. Prints accepted/s, the gateway's
    CPU per request and the p99 of each slice."""
    import psutil

    from bench.stack import ROOT, stop_process, wait_http
    from bpmlink.kit import embedded

    other_root = Path(other).resolve()
    other_path = f"{other_root}:{other_root / 'services' / 'webhook-gateway'}"  # ahead of the editable install
    sources: dict[str, dict[str, Any]] = {"A": {"cwd": other_root, "PYTHONPATH": other_path}, "B": {"cwd": ROOT}}
    with Stack("ingestab") as stack:
        stack.service("sandbox")
        stack.service("api")
        with closing(stack.api_client()) as http:
            connection = stack.sandbox_connection(http, max_concurrency=8, max_rps=0)
            bundle = stack.webhook_bundle(http, connection, dedup="always_create")
        steps = [{"method": "POST", "path": "/hooks/" + bundle["webhook_url"].rsplit("/hooks/", 1)[1], "body": BODY}]
        gateways: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
        try:
            for name, source in sources.items():
                port = embedded.free_port()
                env = {**stack.env, "BPMLINK_GATEWAY_PORT": str(port)}
                if "PYTHONPATH" in source:
                    env["PYTHONPATH"] = str(source["PYTHONPATH"])
                proc = subprocess.Popen([sys.executable, "-m", "bpmlink_gateway"], cwd=source["cwd"], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                gateways[name] = (proc, port)
                wait_http(f"http://127.0.0.1:{port}/readyz", proc)
                http_load("127.0.0.1", port, steps, connections=4, seconds=1.0)  # warm-up
            totals: dict[tuple[str, int], dict[str, Any]] = {
                (g, n): {"ok": 0, "cpu": 0.0, "p99": []} for g in gateways for n in SENDERS
            }
            for r in range(rounds):
                for n in SENDERS:
                    for g in ("A", "B") if r % 2 == 0 else ("B", "A"):
                        proc, port = gateways[g]
                        t0 = psutil.Process(proc.pid).cpu_times()
                        out = http_load("127.0.0.1", port, steps, connections=n, seconds=seconds,
                                        offset=(r * 1000 + n) * 1000 + (500 if g == "B" else 0))
                        t1 = psutil.Process(proc.pid).cpu_times()
                        t = totals[(g, n)]
                        t["ok"] += out["iterations"] - out["errors"]
                        t["cpu"] += (t1.user + t1.system) - (t0.user + t0.system)
                        t["p99"].append(out["p99_ms"])
        finally:
            for proc, _ in gateways.values():
                stop_process(proc)
    rows = []
    for n in SENDERS:
        for g in gateways:
            t = totals[(g, n)]
            row = {"senders": n, "gateway": g, "per_second": round(t["ok"] / (seconds * rounds), 1),
                   "cpu_ms_per_request": round(1000 * t["cpu"] / max(1, t["ok"]), 3), "p99_ms": t["p99"]}
            rows.append(row)
            print(f"{n:>3} senders  {g}: {row['per_second']:>8}/s  gateway CPU {row['cpu_ms_per_request']} ms/request  "
                  f"p99 per slice {row['p99_ms']}")
    print(f"load average {os.getloadavg()}")
    return {"rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--ab", metavar="CHECKOUT", help="A/B the gateway of another checkout against this tree")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if args.ab:
        ab(args.ab, 4.0 if args.seconds == 6.0 else args.seconds, args.rounds)
    else:
        run(args.seconds)


if __name__ == "__main__":
    main()
