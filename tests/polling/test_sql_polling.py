"""sql_polling against a real PostgreSQL table: cursor with ties, changes, read-only, quoting, guard."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from bpmlink_worker.polling import run_poll

from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.sources import FetchEnv, PermanentSourceError, SourceConnection
from bpmlink.sources.sql_polling import SqlPollingSource
from tests.fixtures.app import make_settings
from tests.polling.conftest import events_of, make_connection, make_polling_bundle, poll_state

pytestmark = pytest.mark.usefixtures("_clean_tables")


@pytest.fixture(scope="session")
def source_db_url(make_database) -> str:
    return make_database("polling_source")


@pytest.fixture
async def source_db(source_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    db = await asyncpg.connect(source_db_url)
    await db.execute(
        """
        DROP VIEW IF EXISTS leads_with_side_effect; DROP TABLE IF EXISTS leads, audit; DROP FUNCTION IF EXISTS bump();
        CREATE TABLE leads (id int PRIMARY KEY, first_name text, email text, updated_at timestamptz, amount numeric);
        CREATE TABLE audit (n int);
        CREATE FUNCTION bump() RETURNS int LANGUAGE sql AS 'INSERT INTO audit VALUES (1) RETURNING n';
        CREATE VIEW leads_with_side_effect AS SELECT l.*, bump() AS b FROM leads l;
        """
    )
    # Five rows share one timestamp: the (cursor, id) pair still pages through them exactly once.
    await db.executemany(
        "INSERT INTO leads VALUES ($1, $2, $3, $4::text::timestamptz, 12.50)",
        [(i, f"Lead{i}", f"lead{i}@sql.example", "2026-11-27T09:00:00Z") for i in range(1, 6)]
        + [(6, "Lead6", "lead6@sql.example", "2026-11-27T09:00:01Z")],
    )
    yield db
    await db.close()


async def test_rows_are_polled_once_through_ties_and_a_changed_row_is_a_new_event(
    client, deps, sessionmaker, connection_id, source_db, source_db_url
):
    sql_id = await make_connection(client, "sql_polling", {}, {"dsn": source_db_url})
    source = {
        "app": "sql_polling",
        "connection_id": sql_id,
        "trigger": "new_rows",
        "config": {"table": "public.leads", "id_column": "id", "cursor_column": "updated_at"},
    }
    bundle_id = await make_polling_bundle(client, connection_id, source)
    result = await run_poll(deps, uuid.UUID(bundle_id), page_size=2)
    assert (result.status, result.pages, result.stored) == ("caught_up", 4, 6)  # the last page is empty
    events = await events_of(sessionmaker, bundle_id)
    assert sorted(e.item["id"] for e in events) == [1, 2, 3, 4, 5, 6]
    assert events[0].item["amount"] == "12.50" and events[0].item["updated_at"].startswith("2026-11-27T09:00:00")
    state = await poll_state(sessionmaker, bundle_id)
    assert state.cursor == {"value": "2026-11-27T09:00:01+00:00", "id": 6}

    assert (await run_poll(deps, uuid.UUID(bundle_id))).stored == 0
    await source_db.execute(
        "UPDATE leads SET email = 'new@sql.example', updated_at = '2026-11-27T09:05:00Z' WHERE id = 3"
    )
    changed = await run_poll(deps, uuid.UUID(bundle_id))
    assert changed.stored == 1
    events = await events_of(sessionmaker, bundle_id)
    assert len(events) == 7 and events[-1].item["email"] == "new@sql.example"
    assert events[-1].source_item_key == "3@2026-11-27T09:05:00+00:00"


async def _fetch(settings, dsn: str, table: str, cursor=None):
    conn = SourceConnection(id="c", app="sql_polling", params={}, secrets={"dsn": dsn})
    config = {"table": table, "id_column": "id", "cursor_column": "updated_at"}
    recorder = StepRecorder(system="sql_polling")
    return await SqlPollingSource().fetch(conn, config, cursor, 10, recorder, FetchEnv(settings=settings)), recorder


async def test_the_source_runs_only_its_select_in_a_read_only_transaction(settings, source_db, source_db_url):
    page, recorder = await _fetch(settings, source_db_url, "leads", {"value": "2026-11-27T09:00:00Z", "id": 2})
    assert [key for key, _ in page.items] == [
        "3@2026-11-27T09:00:00+00:00",
        "4@2026-11-27T09:00:00+00:00",
        "5@2026-11-27T09:00:00+00:00",
        "6@2026-11-27T09:00:01+00:00",
    ]
    step = recorder.steps[0]
    assert step.method == "SELECT" and "$1" in step.request_body and "[redacted]" in step.url
    assert "2026-11-27" not in step.request_body.split("-- parameters")[0]  # values are bound, never spliced in

    # A table name is an identifier, never SQL.
    hostile = "leads; DROP TABLE leads; --"
    with pytest.raises(PermanentSourceError) as caught:
        await _fetch(settings, source_db_url, hostile)
    assert caught.value.code == "bad_table"
    assert await source_db.fetchval("SELECT count(*) FROM leads") == 6

    # Even a view that writes cannot: the transaction is READ ONLY.
    with pytest.raises(PermanentSourceError) as caught:
        await _fetch(settings, source_db_url, "leads_with_side_effect")
    assert "read-only transaction" in caught.value.message
    assert await source_db.fetchval("SELECT count(*) FROM audit") == 0


async def test_a_dsn_to_a_private_host_is_refused_unless_allowed(settings, source_db_url):
    strict = make_settings(settings.database_url, settings.redis_url, BPMLINK_OUTBOUND_ALLOW_HOSTS="")
    with pytest.raises(PermanentSourceError) as caught:
        await _fetch(strict, source_db_url, "leads")
    assert caught.value.code == "blocked_address"
    with pytest.raises(PermanentSourceError) as caught:
        await _fetch(strict, "postgresql://u@/db?host=/var/run/postgresql", "leads")
    assert caught.value.code == "blocked_address"  # a unix socket is a local address too
    with pytest.raises(PermanentSourceError) as caught:
        await _fetch(settings, "oracle://u@db.example/db", "leads")
    assert caught.value.code == "bad_dsn"
