"""Capacity of the sandbox: keyed GET and POST requests per second, p50/p99 latency.

Starts PostgreSQL (embedded via pgserver unless --database-url is given) and the sandbox as a real
process (`python -m bpmlink_sandbox`: uvicorn with uvloop/httptools), logs in, then drives load from
a separate process with a minimal keep-alive HTTP/1.1 client (httpx would be the bottleneck here).

    .venv/bin/python bench/sandbox_capacity.py [--seconds 5] [--connections 32]

Writes bench/results/sandbox_capacity.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bpmlink.kit import embedded  # noqa: E402


async def hello_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Baseline: bare uvicorn answering 2 bytes, to show what the machine allows right now."""
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


# --- load generator (runs in its own process) ------------------------------------------------------
async def _worker(host: str, port: int, make_request: Any, deadline: float, lat: list[float],
                  errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    n = 0
    try:
        while time.perf_counter() < deadline:
            raw = make_request(n)
            n += 1
            start = time.perf_counter()
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            lat.append(time.perf_counter() - start)
            if status >= 400:
                errors.append(status)
    finally:
        writer.close()


def _load(kind: str, host: str, port: int, headers: str, ids: list[str], connections: int, seconds: float,
          out: Any) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    def make_get(n: int) -> bytes:
        return (f"GET /0/odata/Contact({ids[n % len(ids)]}) HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Accept: application/json\r\n{headers}\r\n").encode()

    def make_post(n: int) -> bytes:
        body = json.dumps({"Id": str(uuid.uuid4()), "Name": f"Bench Person {n}",
                           "Email": f"bench{n}@example.com"}).encode()
        return (f"POST /0/odata/Contact HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n"
                f"Content-Type: application/json; charset=utf-8\r\nContent-Length: {len(body)}\r\n{headers}\r\n"
                ).encode() + body

    async def main() -> dict[str, Any]:
        lat: list[float] = []
        errors: list[int] = []
        start = time.perf_counter()
        deadline = start + seconds
        make = make_get if kind == "get" else make_post
        # Each worker offsets its counter so POST bodies differ across connections.
        await asyncio.gather(*(_worker(host, port, (lambda n, i=i: make(n * connections + i)), deadline, lat,
                                       errors) for i in range(connections)))
        elapsed = time.perf_counter() - start
        lat.sort()
        return {"requests": len(lat), "seconds": round(elapsed, 3), "rps": round(len(lat) / elapsed, 1),
                "p50_ms": round(lat[len(lat) // 2] * 1000, 2) if lat else None,
                "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2) if lat else None,
                "mean_ms": round(statistics.fmean(lat) * 1000, 2) if lat else None,
                "errors": len(errors)}

    out.put(asyncio.run(main()))


def run_load(kind: str, **kw: Any) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_load, args=(kind,), kwargs={**kw, "out": q})
    p.start()
    result = q.get(timeout=kw["seconds"] + 60)
    p.join(10)
    return result


# --- CPU accounting (the machine is shared, so rates alone mislead) -------------------------------------
def proc_cpu(pid: int) -> float:
    """utime + stime of one process, in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> float:
    """CPU of a process and its direct children (PostgreSQL's postmaster and its backends)."""
    total = proc_cpu(root)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == root:
                total += proc_cpu(int(entry.name))
    return total


def postmaster_pid(server_url: str, data_dir: Path | None) -> int | None:
    if data_dir is None:
        return None
    pidfile = data_dir / "postmaster.pid"
    return int(pidfile.read_text().split()[0]) if pidfile.exists() else None


def measured(kind: str, sandbox_pid: int, pg_pid: int | None, **kw: Any) -> dict[str, Any]:
    s0, p0 = proc_cpu(sandbox_pid), tree_cpu(pg_pid) if pg_pid else 0.0
    res = run_load(kind, **kw)
    s1, p1 = proc_cpu(sandbox_pid), tree_cpu(pg_pid) if pg_pid else 0.0
    n = max(res["requests"], 1)
    res["sandbox_cpu_us_per_request"] = round((s1 - s0) / n * 1e6, 1)
    res["sandbox_cpu_share_of_one_core"] = round((s1 - s0) / res["seconds"], 2)
    if pg_pid:
        res["postgres_cpu_us_per_request"] = round((p1 - p0) / n * 1e6, 1)
    # The sandbox is one process (one core); PostgreSQL can use the other.
    limits = [res["sandbox_cpu_us_per_request"]] + ([res["postgres_cpu_us_per_request"]] if pg_pid else [])
    res["cpu_bound_estimate_rps"] = round(1e6 / max(max(limits), 1.0))
    return res


# --- orchestration -------------------------------------------------------------------------------------
def wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("sandbox exited during start")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("sandbox did not become ready")


def measure_sandbox(db_url: str, connections: int, seconds: float,
                    pg_pid: int | None) -> tuple[dict[str, Any], Any, dict[str, Any]]:
    port = embedded.free_port()
    env = {**os.environ, "SANDBOX_DATABASE_URL": db_url, "SANDBOX_PORT": str(port), "SANDBOX_HOST": "127.0.0.1"}
    proc = subprocess.Popen([sys.executable, "-m", "bpmlink_sandbox"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        with httpx.Client(base_url=base, timeout=30) as c:
            r = c.post("/ServiceModel/AuthService.svc/Login",
                       json={"UserName": "Supervisor", "UserPassword": "Supervisor"})
            assert r.json()["Code"] == 0, r.text
            cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
            headers = f"Cookie: {cookie}\r\nBPMCSRF: {c.cookies['BPMCSRF']}\r\nForceUseSession: true\r\n"
            c.headers["BPMCSRF"] = c.cookies["BPMCSRF"]
            ids = [row["Id"] for row in c.get("/0/odata/Contact?$select=Id").json()["value"]]
        common = {"host": "127.0.0.1", "port": port, "headers": headers, "ids": ids,
                  "connections": connections, "seconds": seconds}
        run_load("get", **{**common, "seconds": 1.0})  # warm-up
        results = {"get": measured("get", proc.pid, pg_pid, **common),
                   "post": measured("post", proc.pid, pg_pid, **common)}
        with httpx.Client(base_url=base, timeout=30) as c:
            counts = c.get("/_sandbox/counts").json()
    finally:
        proc.terminate()
        proc.wait(15)
    return results, counts, common


def measure_baseline(common: dict[str, Any]) -> dict[str, Any]:
    """Same load generator against a bare uvicorn app: the ceiling on this machine at this moment."""
    port = embedded.free_port()
    hello = subprocess.Popen([sys.executable, "-m", "uvicorn", "sandbox_capacity:hello_app", "--app-dir",
                              str(ROOT / "bench"), "--port", str(port), "--log-level", "warning", "--no-access-log"])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        return run_load("get", **{**common, "port": port, "headers": ""})
    finally:
        hello.terminate()
        hello.wait(15)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="duration of each phase")
    ap.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections")
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                    help="a PostgreSQL server URL (default: start an embedded one)")
    ap.add_argument("--output", default=str(ROOT / "bench" / "results" / "sandbox_capacity.json"))
    run(ap.parse_args())


def run(args: argparse.Namespace | None = None) -> dict[str, Any]:
    """Also called by `python -m bench` (with the defaults)."""
    if args is None:
        args = argparse.Namespace(seconds=5.0, connections=32, database_url=os.environ.get("BENCH_DATABASE_URL"),
                                  output=str(ROOT / "bench" / "results" / "sandbox_capacity.json"))
    tmp = tempfile.TemporaryDirectory(prefix="sandbox-bench-")
    pg = None
    server_url = args.database_url
    try:
        if not server_url:
            pg, server_url = embedded.start_postgres(Path(tmp.name) / "pg")
        db_url = embedded.create_database(server_url, "sandbox_bench", drop_first=True)
        load_before = os.getloadavg()
        pg_pid = postmaster_pid(server_url, Path(tmp.name) / "pg" if pg is not None else None)
        results, counts, common = measure_sandbox(db_url, args.connections, args.seconds, pg_pid)
        baseline = measure_baseline(common)
        load_after = os.getloadavg()
    finally:
        if pg is not None:
            embedded.stop_postgres(pg)
        tmp.cleanup()

    report = {"what": "sandbox keyed GET /0/odata/Contact(<id>) and POST /0/odata/Contact (cookie auth + CSRF)",
              "connections": args.connections, "seconds_per_phase": args.seconds,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
              "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
              "keyed_get": results["get"], "post": results["post"], "bare_uvicorn_baseline": baseline,
              "server_counts": counts["by_kind"], "group_commit": counts.get("writer")}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    for name, res in (("keyed GET", results["get"]), ("POST", results["post"])):
        print(f"{name:10s} {res['rps']:>9.1f} req/s  p50 {res['p50_ms']} ms  p99 {res['p99_ms']} ms  "
              f"errors {res['errors']}  ({res['requests']} requests in {res['seconds']} s)")
        print(f"{'':10s} sandbox CPU {res['sandbox_cpu_us_per_request']} µs/req "
              f"(used {res['sandbox_cpu_share_of_one_core']} of a core), PostgreSQL CPU "
              f"{res.get('postgres_cpu_us_per_request', '?')} µs/req → CPU-bound estimate "
              f"{res['cpu_bound_estimate_rps']} req/s")
    print(f"bare uvicorn baseline (same client, same machine): {baseline['rps']:.1f} req/s; "
          f"1-min load average {report['load_average_before_after']}")
    print(f"written {args.output}")
    return report


if __name__ == "__main__":
    main()
