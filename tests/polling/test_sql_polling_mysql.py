"""sql_polling against this machine's MariaDB/MySQL (127.0.0.1:3306, root, database `test`)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator

import pytest
from bpmlink_worker.polling import run_poll

from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.sources import FetchEnv, PermanentSourceError, SourceConnection, TransientSourceError, sql_polling
from bpmlink.sources.sql_polling import SqlPollingSource
from tests.fixtures.app import make_settings
from tests.polling.conftest import events_of, make_connection, make_polling_bundle, poll_state

pytestmark = pytest.mark.usefixtures("_clean_tables")

HOST, PORT = "127.0.0.1", 3306
DSN = f"mysql://root@{HOST}:{PORT}/test"


def _listening() -> bool:
    try:
        with socket.create_connection((HOST, PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
async def mysql_db() -> AsyncIterator[object]:
    if not _listening():
        if os.environ.get("CI"):  # .ci/run installs and starts MariaDB: its absence there is a broken CI
            pytest.fail(f"CI is set but no MySQL/MariaDB listens on {HOST}:{PORT} (.ci/run should have started it)")
        pytest.skip(f"no MySQL/MariaDB listens on {HOST}:{PORT} (CI has one; install MariaDB to run these)")
    import aiomysql

    db = await aiomysql.connect(host=HOST, port=PORT, user="root", password="", db="test", autocommit=True)
    statements = [
        "DROP VIEW IF EXISTS bl_leads_side_effect",
        "DROP VIEW IF EXISTS bl_leads_slow",
        "DROP TABLE IF EXISTS bl_leads",
        "DROP TABLE IF EXISTS bl_audit",
        "DROP FUNCTION IF EXISTS bl_bump",
        "CREATE TABLE bl_leads (id INT PRIMARY KEY, first_name VARCHAR(50), email VARCHAR(100),"
        " updated_at DATETIME(3), amount DECIMAL(10,2)) CHARACTER SET utf8mb4",
        "CREATE TABLE bl_audit (n INT)",
        "CREATE FUNCTION bl_bump() RETURNS INT MODIFIES SQL DATA BEGIN INSERT INTO bl_audit VALUES (1); RETURN 1; END",
        "CREATE VIEW bl_leads_side_effect AS SELECT l.*, bl_bump() AS b FROM bl_leads l",
        "CREATE VIEW bl_leads_slow AS SELECT l.*, SLEEP(1) AS s FROM bl_leads l",
    ]
    async with db.cursor() as cur:
        for statement in statements:
            await cur.execute(statement)
        # Five rows share one timestamp: the (cursor, id) pair still pages through them exactly once.
        await cur.executemany(
            "INSERT INTO bl_leads VALUES (%s, %s, %s, %s, 12.50)",
            [(i, f"Лид{i}", f"lead{i}@mysql.example", "2026-11-27 09:00:00") for i in range(1, 6)]
            + [(6, "Lead6", "lead6@mysql.example", "2026-11-27 09:00:01.250")],
        )
    yield db
    db.close()


async def _scalar(db, sql: str) -> object:
    async with db.cursor() as cur:
        await cur.execute(sql)
        return (await cur.fetchone())[0]


async def _fetch(settings, dsn: str, table: str, cursor=None):
    conn = SourceConnection(id="c", app="sql_polling", params={}, secrets={"dsn": dsn})
    config = {"table": table, "id_column": "id", "cursor_column": "updated_at"}
    recorder = StepRecorder(system="sql_polling")
    return await SqlPollingSource().fetch(conn, config, cursor, 10, recorder, FetchEnv(settings=settings)), recorder


async def test_mysql_rows_are_polled_once_through_ties_and_a_changed_row_is_a_new_event(
    client, deps, sessionmaker, connection_id, mysql_db
):
    sql_id = await make_connection(client, "sql_polling", {}, {"dsn": DSN})
    source = {
        "app": "sql_polling",
        "connection_id": sql_id,
        "trigger": "new_rows",
        "config": {"table": "test.bl_leads", "id_column": "id", "cursor_column": "updated_at"},
    }
    bundle_id = await make_polling_bundle(client, connection_id, source)
    result = await run_poll(deps, uuid.UUID(bundle_id), page_size=2)
    assert (result.status, result.pages, result.stored) == ("caught_up", 4, 6)  # the last page is empty
    events = await events_of(sessionmaker, bundle_id)
    assert sorted(e.item["id"] for e in events) == [1, 2, 3, 4, 5, 6]
    first = next(e for e in events if e.item["id"] == 1)
    assert first.item == {
        "id": 1,
        "first_name": "Лид1",
        "email": "lead1@mysql.example",
        "updated_at": "2026-11-27T09:00:00",
        "amount": "12.50",
    }
    state = await poll_state(sessionmaker, bundle_id)
    assert state.cursor == {"value": "2026-11-27T09:00:01.250000", "id": 6}

    assert (await run_poll(deps, uuid.UUID(bundle_id))).stored == 0
    async with mysql_db.cursor() as cur:
        await cur.execute(
            "UPDATE bl_leads SET email = 'new@mysql.example', updated_at = '2026-11-27 09:05:00' WHERE id = 3"
        )
    changed = await run_poll(deps, uuid.UUID(bundle_id))
    assert changed.stored == 1
    events = await events_of(sessionmaker, bundle_id)
    assert len(events) == 7 and events[-1].item["email"] == "new@mysql.example"
    assert events[-1].source_item_key == "3@2026-11-27T09:05:00"


async def test_mysql_runs_only_its_select_read_only_with_values_bound(settings, mysql_db):
    page, recorder = await _fetch(
        settings,
        DSN.replace("mysql://", "mariadb://"),
        "bl_leads",
        {
            "value": "2026-11-27T09:00:00",
            "id": 2,
        },
    )
    assert [key for key, _ in page.items] == [
        "3@2026-11-27T09:00:00",
        "4@2026-11-27T09:00:00",
        "5@2026-11-27T09:00:00",
        "6@2026-11-27T09:00:01.250000",
    ]
    step = recorder.steps[0]
    assert step.method == "SELECT" and "`bl_leads`" in step.request_body and "%s" in step.request_body
    assert "2026-11-27" not in step.request_body.split("-- parameters")[0]  # values are bound, never spliced in

    # A table name is an identifier, never SQL (a backtick, a %s placeholder, a statement).
    for hostile in ("bl_leads; DROP TABLE bl_leads; --", "bl_leads` WHERE 1=1; --", "bl_leads%s"):
        with pytest.raises(PermanentSourceError) as caught:
            await _fetch(settings, DSN, hostile)
        assert caught.value.code == "bad_table", hostile
    assert await _scalar(mysql_db, "SELECT count(*) FROM bl_leads") == 6
    with pytest.raises(PermanentSourceError) as caught:
        await _fetch(settings, DSN, "bad\x00name")
    assert caught.value.code == "bad_identifier"

    # Even a view whose function writes cannot: START TRANSACTION READ ONLY.
    with pytest.raises(PermanentSourceError) as caught:
        await _fetch(settings, DSN, "bl_leads_side_effect")
    assert "READ ONLY" in caught.value.message
    assert await _scalar(mysql_db, "SELECT count(*) FROM bl_audit") == 0


async def test_mysql_statement_timeout_and_address_guard(settings, mysql_db, monkeypatch):
    monkeypatch.setattr(sql_polling, "STATEMENT_TIMEOUT_MS", 300)
    with pytest.raises(TransientSourceError) as timed_out:
        await _fetch(settings, DSN, "bl_leads_slow")  # SLEEP(1) a row: stopped by max_statement_time
    assert timed_out.value.code == "timeout"

    strict = make_settings(settings.database_url, settings.redis_url, BPMLINK_OUTBOUND_ALLOW_HOSTS="")
    with pytest.raises(PermanentSourceError) as caught:
        await _fetch(strict, DSN, "bl_leads")
    assert caught.value.code == "blocked_address"
    with pytest.raises(PermanentSourceError) as caught:
        await _fetch(strict, "mysql://root@localhost/test?unix_socket=/run/mysqld/mysqld.sock", "bl_leads")
    assert caught.value.code == "blocked_address"  # a unix socket is a local address too
    with pytest.raises(PermanentSourceError) as caught:
        await _fetch(settings, "mysql://nobody:wrong@127.0.0.1:3306/test", "bl_leads")
    assert caught.value.code == "db_refused"
