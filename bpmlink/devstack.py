"""Run the whole product locally: what `make up` runs.

With no DATABASE_URL/REDIS_URL it starts an embedded PostgreSQL and Redis under the
data folder (data survives restarts), migrates, seeds the admin and a sandbox
connection, starts the sandbox, api, gateway and a worker, waits for every /readyz,
prints the URLs and where to read the login, restarts a service that dies (see
`Supervisor`), and stops everything cleanly on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bpmlink.kit import embedded

SERVICES = {
    "sandbox": "bpmlink_sandbox",
    "api": "bpmlink_api",
    "gateway": "bpmlink_gateway",
    "worker": "bpmlink_worker",
}


def _persisted_secret(path: Path, nbytes: int = 32) -> str:
    """A random value created once and kept in the data folder (so encrypted data stays readable)."""
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(nbytes)
    path.write_text(value)
    path.chmod(0o600)
    return value


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bpmlink up", description=__doc__)
    parser.add_argument("--data-dir", default=os.environ.get("BPMLINK_DATA_DIR", ".data"))
    parser.add_argument("--host", default=os.environ.get("BPMLINK_HOST", "127.0.0.1"))
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("BPMLINK_API_PORT", 8000)))
    parser.add_argument("--gateway-port", type=int, default=int(os.environ.get("BPMLINK_GATEWAY_PORT", 8001)))
    parser.add_argument("--sandbox-port", type=int, default=int(os.environ.get("BPMLINK_SANDBOX_PORT", 8002)))
    parser.add_argument("--worker-port", type=int, default=int(os.environ.get("BPMLINK_WORKER_PORT", 8003)))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("BPMLINK_WORKERS") or os.cpu_count() or 1),
        help="number of worker processes (BPMLINK_WORKERS; default: one per core)",
    )
    parser.add_argument("--e2e", action="store_true", help="quiet services, for the browser tests")
    parser.add_argument("--ready-timeout", type=float, default=120)
    return parser.parse_args(argv)


def _start_stores(env: dict[str, str], data: Path) -> tuple[Any, Any]:
    """Embedded PostgreSQL and Redis for what `env` does not point to; returns their handles (or None)."""
    pg = None
    if not env.get("DATABASE_URL"):
        print(f"starting embedded PostgreSQL in {data / 'pg'} …", flush=True)  # noqa: T201
        pg, server_url = embedded.start_postgres(data / "pg")
        env["DATABASE_URL"] = embedded.create_database(server_url, "bpmlink")
        env.setdefault("SANDBOX_DATABASE_URL", embedded.create_database(server_url, "sandbox"))
    else:
        env.setdefault("SANDBOX_DATABASE_URL", env["DATABASE_URL"])
    redis_server = None
    if not env.get("REDIS_URL"):
        print(f"starting embedded Redis in {data / 'redis'} …", flush=True)  # noqa: T201
        redis_server, env["REDIS_URL"] = embedded.start_redis(data / "redis")
    return pg, redis_server


def _configure(env: dict[str, str], args: argparse.Namespace, data: Path) -> None:
    """Secrets kept in the data folder, the admin login, ports and the sandbox, for every service."""
    env.setdefault("BPMLINK_SECRET_KEY", _persisted_secret(data / "secret_key"))
    env.setdefault("BPMLINK_ADMIN_EMAIL", "admin@bpmlink.local")
    env.setdefault("BPMLINK_ADMIN_PASSWORD", _persisted_secret(data / "admin_password", 12))
    env.setdefault("BPMLINK_SANDBOX_URL", f"http://{args.host}:{args.sandbox_port}")
    # The demo talks to the sandbox on loopback: allow exactly that host:port, nothing else private.
    allow = [h for h in env.get("BPMLINK_OUTBOUND_ALLOW_HOSTS", "").split(",") if h]
    env["BPMLINK_OUTBOUND_ALLOW_HOSTS"] = ",".join(allow + [f"{args.host}:{args.sandbox_port}"])
    env.update(
        BPMLINK_HOST=args.host,
        BPMLINK_API_PORT=str(args.api_port),
        BPMLINK_GATEWAY_PORT=str(args.gateway_port),
        BPMLINK_SANDBOX_PORT=str(args.sandbox_port),
        SANDBOX_HOST=args.host,
        SANDBOX_PORT=str(args.sandbox_port),
        BPMLINK_PUBLIC_GATEWAY_URL=env.get("BPMLINK_PUBLIC_GATEWAY_URL") or f"http://{args.host}:{args.gateway_port}",
    )


def _migrate_and_seed(database_url: str) -> None:
    from bpmlink.kit import migrate
    from bpmlink.kit.settings import get_settings

    get_settings.cache_clear()
    migrate.upgrade(database_url)
    from bpmlink.seed import seed_demo  # imported late: reads the settings set above

    asyncio.run(seed_demo())


@dataclass
class Child:
    """One supervised service process: how to start it and how it has been doing."""

    name: str
    argv: list[str]
    env: dict[str, str]
    ready_url: str
    output: int | None
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    quick_crashes: int = 0  # consecutive exits within QUICK_CRASH_SECONDS of a start
    restart_at: float | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=self.output, stderr=self.output)  # noqa: S603
        self.started_at, self.restart_at = time.monotonic(), None


class Supervisor:
    """Keeps every service running until Ctrl-C/SIGTERM.

    A child that exits is started again after a backoff (1 s, doubling to 30 s while it keeps dying
    soon after its start, back to 1 s once it has run a while), and the console says so; the others
    keep running, so the gateway keeps taking webhooks while a worker is down. Only a child that
    crashes MAX_QUICK_CRASHES times in a row within seconds of its start stops everything: it would
    never come up.
    """

    QUICK_CRASH_SECONDS = 10.0
    MAX_QUICK_CRASHES = 5
    FIRST_BACKOFF = 1.0
    MAX_BACKOFF = 30.0

    def __init__(self, children: list[Child]) -> None:
        self.children = children
        self.stopping = False

    def start(self) -> None:
        for child in self.children:
            child.start()

    def check(self) -> None:
        """Restart what exited and is due; SystemExit when a child keeps crashing at start."""
        now = time.monotonic()
        for child in self.children:
            assert child.proc is not None
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.start()
                    _say(f"{child.name} restarted (pid {child.proc.pid})")
                continue
            code = child.proc.poll()
            if code is None or self.stopping:
                continue
            quick = now - child.started_at < self.QUICK_CRASH_SECONDS
            child.quick_crashes = child.quick_crashes + 1 if quick else 0
            if child.quick_crashes >= self.MAX_QUICK_CRASHES:
                raise SystemExit(
                    f"{child.name} exited with code {code} {child.quick_crashes} times in a row right after "
                    "starting; stopping (see its output above)"
                )
            delay = min(self.MAX_BACKOFF, self.FIRST_BACKOFF * 2.0**child.quick_crashes)
            child.restart_at = now + delay
            _say(f"{child.name} exited with code {code}; restarting it in {delay:g} s, the others keep running")

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = {child.name: child.ready_url for child in self.children}
        while pending and not self.stopping:
            self.check()
            for name, url in list(pending.items()):
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                raise SystemExit(f"not ready after {timeout:.0f}s: {', '.join(pending)}")
            time.sleep(0.3)

    def run(self) -> None:
        while not self.stopping:
            self.check()
            time.sleep(0.5)

    def stop(self) -> None:
        self.stopping = True
        running = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        for proc in running:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _say(message: str) -> None:
    print(message, flush=True)  # noqa: T201


def _children(args: argparse.Namespace, env: dict[str, str]) -> list[Child]:
    """Every service, in start order, with its /readyz URL."""
    out = subprocess.DEVNULL if args.e2e else None
    ports = {"sandbox": args.sandbox_port, "api": args.api_port, "gateway": args.gateway_port}
    children: list[Child] = []
    for name, module in SERVICES.items():
        argv = [sys.executable, "-m", module]
        if name != "worker":
            children.append(Child(name, argv, env, f"http://{args.host}:{ports[name]}/readyz", out))
            continue
        for i in range(args.workers):
            key = f"worker{i + 1}" if args.workers > 1 else "worker"
            wenv = dict(env, BPMLINK_WORKER_PORT=str(args.worker_port + i))
            children.append(Child(key, argv, wenv, f"http://{args.host}:{args.worker_port + i}/readyz", out))
    return children


def _stop_stores(redis_server: Any, pg: Any) -> None:
    if redis_server is not None:
        redis_server.shutdown()
    if pg is not None:
        embedded.stop_postgres(pg)


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    data = Path(args.data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # The console is often copied into tickets and CI logs: say where the password is, never the password.
    password_hint = (
        "password from BPMLINK_ADMIN_PASSWORD"
        if env.get("BPMLINK_ADMIN_PASSWORD")
        else f"password in {data / 'admin_password'}"
    )
    pg, redis_server = _start_stores(env, data)
    _configure(env, args, data)
    os.environ.update(env)
    _migrate_and_seed(env["DATABASE_URL"])

    supervisor = Supervisor(_children(args, env))

    def _stop(*_: object) -> None:
        supervisor.stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        supervisor.start()
        supervisor.wait_ready(args.ready_timeout)
        if not supervisor.stopping:
            _say(
                "\nbpmlink is up:\n"
                f"  web app + API   http://{args.host}:{args.api_port}/   (API docs: /api/docs)\n"
                f"  webhook gateway http://{args.host}:{args.gateway_port}/hooks/<token>\n"
                f"  sandbox         http://{args.host}:{args.sandbox_port}/0/odata/  (Supervisor / Supervisor)\n"
                f"  login           {env['BPMLINK_ADMIN_EMAIL']}, {password_hint}\n"
                "Press Ctrl-C to stop."
            )
        supervisor.run()
    finally:
        _say("stopping …")
        supervisor.stop()
        _stop_stores(redis_server, pg)
        _say("stopped")


if __name__ == "__main__":
    main()
