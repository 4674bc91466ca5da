"""The event store's one held rule, as Python reads it and as the polls' statements spell it in SQL."""

from sqlalchemy import text

from bpmlink.db.models import BundleStatus
from bpmlink.events import held_sql, is_held


async def test_the_held_rule_reads_the_same_in_python_and_in_sql(sessionmaker):
    async with sessionmaker() as session:
        for status in BundleStatus:
            in_sql = await session.scalar(text(f"SELECT {held_sql('CAST(:status AS text)')}"), {"status": status})
            assert in_sql is is_held(status), status
    assert [s for s in BundleStatus if not is_held(s)] == [BundleStatus.running, BundleStatus.waiting]
