"""Run the whole product locally: what `make up` runs.

With no DATABASE_URL/REDIS_URL it starts an embedded PostgreSQL and Redis under the
data folder (data survives restarts), migrates, seeds the admin and a sandbox
connection, starts the sandbox, api, gateway and a worker, waits for every /readyz,
prints the URLs and the login, and stops everything cleanly on Ctrl-C.
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


def _wait_ready(urls: dict[str, str], procs: dict[str, subprocess.Popen[bytes]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = dict(urls)
    while pending:
        for name, url in list(pending.items()):
            if procs[name].poll() is not None:
                raise SystemExit(f"{name} exited with code {procs[name].returncode}; see the output above")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    del pending[name]
            except httpx.HTTPError:
                pass
        if time.monotonic() > deadline:
            raise SystemExit(f"not ready after {timeout:.0f}s: {', '.join(pending)}")
        time.sleep(0.3)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bpmlink up", description=__doc__)
    parser.add_argument("--data-dir", default=os.environ.get("BPMLINK_DATA_DIR", ".data"))
    parser.add_argument("--host", default=os.environ.get("BPMLINK_HOST", "127.0.0.1"))
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("BPMLINK_API_PORT", 8000)))
    parser.add_argument("--gateway-port", type=int, default=int(os.environ.get("BPMLINK_GATEWAY_PORT", 8001)))
    parser.add_argument("--sandbox-port", type=int, default=int(os.environ.get("BPMLINK_SANDBOX_PORT", 8002)))
    parser.add_argument("--worker-port", type=int, default=int(os.environ.get("BPMLINK_WORKER_PORT", 8003)))
    parser.add_argument("--workers", type=int, default=1, help="number of worker processes")
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


def _start_services(
    args: argparse.Namespace, env: dict[str, str], procs: dict[str, subprocess.Popen[bytes]]
) -> dict[str, str]:
    """Start every service into `procs` (so the caller stops what started); returns their /readyz URLs."""
    ready: dict[str, str] = {}
    out = subprocess.DEVNULL if args.e2e else None
    ports = {"sandbox": args.sandbox_port, "api": args.api_port, "gateway": args.gateway_port}
    for name, module in SERVICES.items():
        if name == "worker":
            for i in range(args.workers):
                key = f"worker{i + 1}" if args.workers > 1 else "worker"
                wenv = dict(env, BPMLINK_WORKER_PORT=str(args.worker_port + i))
                procs[key] = subprocess.Popen([sys.executable, "-m", module], env=wenv, stdout=out, stderr=out)  # noqa: S603
                ready[key] = f"http://{args.host}:{args.worker_port + i}/readyz"
            continue
        procs[name] = subprocess.Popen([sys.executable, "-m", module], env=env, stdout=out, stderr=out)  # noqa: S603
        ready[name] = f"http://{args.host}:{ports[name]}/readyz"
    return ready


def _run_until_stopped(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    """Until Ctrl-C, SIGTERM or a service exiting."""
    stop = {"flag": False}

    def _stop(*_: object) -> None:
        stop["flag"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stop["flag"]:
        for name, proc in procs.items():
            if proc.poll() is not None:
                print(f"{name} exited with code {proc.returncode}; stopping", flush=True)  # noqa: T201
                stop["flag"] = True
        time.sleep(0.5)


def _stop_all(procs: dict[str, subprocess.Popen[bytes]], redis_server: Any, pg: Any) -> None:
    print("stopping …", flush=True)  # noqa: T201
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    if redis_server is not None:
        redis_server.shutdown()
    if pg is not None:
        embedded.stop_postgres(pg)
    print("stopped", flush=True)  # noqa: T201


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

    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        _wait_ready(_start_services(args, env, procs), procs, args.ready_timeout)
        print(  # noqa: T201
            "\nbpmlink is up:\n"
            f"  web app + API   http://{args.host}:{args.api_port}/   (API docs: /api/docs)\n"
            f"  webhook gateway http://{args.host}:{args.gateway_port}/hooks/<token>\n"
            f"  sandbox         http://{args.host}:{args.sandbox_port}/0/odata/  (Supervisor / Supervisor)\n"
            f"  login           {env['BPMLINK_ADMIN_EMAIL']}, {password_hint}\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        _run_until_stopped(procs)
    finally:
        _stop_all(procs, redis_server, pg)


if __name__ == "__main__":
    main()
