"""`make up` (bpmlink.devstack) as a real process: a dead service is restarted, the others keep running.

- The worker is SIGKILLed: the console says it exited and is being restarted, it comes back (a new
  pid, its /readyz answers again), and the gateway answers all along, so intake never stops.
- The console says where the admin password is, never the password itself.
- A service that keeps crashing right after its start stops the stack instead of looping for ever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import yaml

from bpmlink.devstack import Child, Supervisor
from bpmlink.kit.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]


class Stack:
    def __init__(self, process: subprocess.Popen[bytes], log: Path, ports: dict[str, int]) -> None:
        self.process, self.log, self.ports = process, log, ports

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert self.process.poll() is None, f"devstack exited:\n{self.output()[-6000:]}"
            assert time.monotonic() < deadline, f"no {text!r} in:\n{self.output()[-6000:]}"
            time.sleep(0.2)

    def child(self, module: str) -> psutil.Process:
        [proc] = [p for p in psutil.Process(self.process.pid).children() if module in " ".join(p.cmdline())]
        return proc


@pytest.fixture
def stack(tmp_path: Path, make_database: Callable[[str], str], redis_url: str) -> Iterator[Stack]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BPMLINK_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        DATABASE_URL=make_database("devstack"),
        SANDBOX_DATABASE_URL=make_database("devstack_sandbox"),
        REDIS_URL=redis_url,
        BPMLINK_WORKERS="1",  # one worker to kill (the default is one per core)
    )
    ports = {name: free_port() for name in ("api", "gateway", "sandbox", "worker")}
    log = tmp_path / "devstack.log"
    argv = [sys.executable, "-m", "bpmlink.devstack", "--e2e", "--data-dir", str(tmp_path / "data")]
    for name, port in ports.items():
        argv += [f"--{name}-port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    yield Stack(process, log, ports)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            process.kill()


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_killed_worker_is_restarted_and_the_gateway_keeps_answering(stack: Stack, tmp_path: Path) -> None:
    stack.wait_for("bpmlink is up", timeout=240)
    password = (tmp_path / "data" / "admin_password").read_text().strip()
    assert password not in stack.output()
    assert str(tmp_path / "data" / "admin_password") in stack.output()

    worker = stack.child("bpmlink_worker")
    worker.send_signal(signal.SIGKILL)
    deadline = time.monotonic() + 120
    while "worker restarted" not in stack.output():
        assert _ready(stack.ports["gateway"]), "the gateway stopped answering while the worker was down"
        assert time.monotonic() < deadline, stack.output()[-4000:]
        time.sleep(0.2)
    assert "worker exited with code -9; restarting it in" in stack.output()
    assert stack.child("bpmlink_worker").pid != worker.pid
    while not _ready(stack.ports["worker"]):
        assert time.monotonic() < deadline, stack.output()[-4000:]
        time.sleep(0.3)
    assert _ready(stack.ports["gateway"]) and _ready(stack.ports["api"])
    assert stack.process.poll() is None

    stack.process.send_signal(signal.SIGTERM)
    assert stack.process.wait(60) == 0
    assert "stopped" in stack.output()


def _supervise(supervisor: Supervisor, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        supervisor.check()
        time.sleep(0.01)


def test_a_service_that_keeps_crashing_at_start_stops_the_stack(capsys: pytest.CaptureFixture[str]) -> None:
    crashing = Child("broken", [sys.executable, "-c", "raise SystemExit(3)"], dict(os.environ), "", None)
    supervisor = Supervisor([crashing])
    supervisor.FIRST_BACKOFF = 0.01
    supervisor.start()
    try:
        with pytest.raises(SystemExit, match="broken exited with code 3 5 times in a row"):
            _supervise(supervisor, seconds=60)
    finally:
        supervisor.stop()
    assert capsys.readouterr().out.count("broken restarted") == 4


def test_compose_restarts_every_long_running_service() -> None:
    """The production counterpart: Docker restarts a dead container (the one-shot migration excepted)."""
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    restart = {name: service.get("restart") for name, service in compose["services"].items()}
    assert restart.pop("migrate") == "no"
    assert set(restart.values()) <= {"unless-stopped", "always"}, restart


def test_make_up_starts_one_worker_per_core_unless_told(monkeypatch) -> None:
    from bpmlink import devstack

    monkeypatch.delenv("BPMLINK_WORKERS", raising=False)
    assert devstack._parse_args([]).workers == (os.cpu_count() or 1)
    monkeypatch.setenv("BPMLINK_WORKERS", "3")
    assert devstack._parse_args([]).workers == 3
    assert devstack._parse_args(["--workers", "1"]).workers == 1
