import os
import subprocess
import sys

from tests.fixtures.app import TEST_SECRET_KEY


def _cli(db_url: str, redis_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ, DATABASE_URL=db_url, REDIS_URL=redis_url, BPMLINK_SECRET_KEY=TEST_SECRET_KEY)
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bpmlink.cli", *args], env=environment, capture_output=True, text=True, timeout=60
    )


async def test_cli_seeds_the_admin_and_adds_a_user_who_can_log_in(db_url, redis_url, client):
    seeded = _cli(
        db_url, redis_url, "seed-admin", BPMLINK_ADMIN_EMAIL="boss@example.com", BPMLINK_ADMIN_PASSWORD="first-pass"
    )
    assert seeded.returncode == 0, seeded.stderr
    added = _cli(
        db_url, redis_url, "add-user", "--email", "ann@example.com", "--password", "ann-password", "--role", "viewer"
    )
    assert added.returncode == 0, added.stderr
    assert "viewer" in added.stdout
    response = await client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": "ann-password"})
    assert response.status_code == 200 and response.json()["role"] == "viewer"
    short = _cli(db_url, redis_url, "add-user", "--email", "x@example.com", "--password", "short")
    assert short.returncode != 0 and "8 characters" in short.stderr


def test_a_bad_setting_stops_with_a_message_naming_it(db_url, redis_url):
    result = _cli(db_url, redis_url, "migrate", DATABASE_URL="mysql://nope")
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr and "Traceback" not in result.stderr
