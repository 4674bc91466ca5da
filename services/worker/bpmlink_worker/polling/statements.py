"""The polls' SQL, run on the context's raw asyncpg pool: read, store a page and move the cursor, release."""

from __future__ import annotations

from bpmlink.events import polled_statement

# What a poll reads: its bundle, state and source connection, for all of a job's polls in one
# statement (as `bundle_id, known version` pairs). The trigger's
# configuration only when the version cached here is not the current one (a saved version never
# changes); JSON comes back as text, so an unchanged connection costs no parsing (see `source.connection_of`).
LOAD = """
    SELECT p.bundle_id, b.status, b.deleted_at IS NOT NULL AS deleted, b.workspace_id, b.config_version,
           b.source_app, b.source_connection_id,
           CASE WHEN b.config_version = k.known THEN NULL
                ELSE coalesce((b.config -> 'source')::text, '{}') END AS source,
           p.cursor::text AS cursor,
           c.id AS connection_id, c.app AS connection_app, c.params::text AS params, c.secrets_encrypted
    FROM unnest($1::uuid[], $2::int[]) AS k(bundle_id, known)
    JOIN poll_states p ON p.bundle_id = k.bundle_id
    JOIN bundles b ON b.id = p.bundle_id
    LEFT JOIN connections c ON c.id = b.source_connection_id AND c.workspace_id = b.workspace_id
"""


# The cursor moves only if it is still the one the page was fetched after (a concurrent poll or a
# retried job cannot move it twice; an UPDATE re-checks its condition on a row changed meanwhile).
# A stored cursor may be SQL NULL or JSON null: both are "from the beginning".
def _moved(before: str, after: str, more: str) -> str:
    return f"""
    UPDATE poll_states p
    SET cursor = {after}::jsonb, last_polled_at = now(), last_error = NULL, failures = 0,
        lease_until = CASE WHEN {more}::boolean THEN p.lease_until END
    FROM bundles b
    WHERE p.bundle_id = $1 AND b.id = p.bundle_id
      AND coalesce(p.cursor, 'null'::jsonb) = coalesce({before}::jsonb, 'null'::jsonb)
    RETURNING b.status, b.workspace_id, b.config_version"""  # noqa: S608 - placeholders only


# A page without items: the cursor and the poll's bookkeeping, one autocommitted statement.
ADVANCE = _moved("$2", "$3", "$4")


# A poll's page with items: its cursor moves and the items are stored together.
STORE_POLLED = polled_statement(_moved("$19", "$20", "$21"))
# A backfill's page: its progress is written in the same transaction, under a lock on its row.
STORE_BACKFILLED = polled_statement("SELECT status, workspace_id, config_version FROM bundles WHERE id = $1")
LOCK_BACKFILL = "SELECT backfill::text FROM poll_states WHERE bundle_id = $1 FOR UPDATE"
SAVE_BACKFILL = "UPDATE poll_states SET backfill = $2::jsonb WHERE bundle_id = $1"
# The end of a run that did not catch up (or found its bundle gone): the lease ends; a run stopped at
# MAX_PAGES makes the bundle due now, so the next tick continues (unless it was stopped meanwhile).
RELEASE = """
    UPDATE poll_states SET lease_until = NULL,
        next_due_at = CASE WHEN $2::boolean AND next_due_at IS NOT NULL THEN now() ELSE next_due_at END
    WHERE bundle_id = $1
"""
