"""An owner whose user code spent a whole budget runs its next calls in other processes, off this one's GIL."""

import asyncio
import os
import time
import uuid

import pytest

from bpmlink.mapping import quarantine
from bpmlink.mapping.budget import Budget, LimitExceeded, off_loop
from bpmlink.mapping.engine import apply_mapping
from bpmlink.mapping.rules import parse_mapping

# Ten seconds and more of template work, stopped only by the budget.
LOOPS = "{% for i in range(10000) %}{% for j in range(10000) %}{{ '' }}{% endfor %}{% endfor %}"


@quarantine.movable
def _pid() -> int:
    return os.getpid()


@quarantine.movable
def _pid_once_moved(parent: int, *, budget: Budget) -> int:
    """Spins in `parent` (checking its budget, as user code does) for at most a few seconds; elsewhere it
    answers at once: the process it ran to its end in."""
    end = time.monotonic() + 3
    while os.getpid() == parent and time.monotonic() < end:
        budget.check()
    return os.getpid()


async def _pool_up() -> None:
    for _ in range(600):  # at most a minute: the processes start in well under a second on an idle machine
        if quarantine.ready_pool() is not None:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the quarantine pool never started")


async def _quarantined(owner: str) -> None:
    """Spend `owner`'s budget once, then wait for the pool's processes (started by that quarantine)."""
    with pytest.raises(LimitExceeded):
        await apply_mapping(
            parse_mapping([{"target": "Name", "template": LOOPS}]), {}, None, budget=Budget(0.05, owner)
        )
    assert quarantine.is_quarantined(owner)
    await _pool_up()


async def test_a_spent_budget_moves_the_owners_calls_to_another_process_and_only_its():
    owner, neighbour = f"hostile-{uuid.uuid4()}", f"neighbour-{uuid.uuid4()}"
    assert await off_loop(Budget(owner=owner), _pid) == os.getpid()  # a thread, before
    try:
        await _quarantined(owner)
        assert await off_loop(Budget(owner=owner), _pid) != os.getpid()
        assert await off_loop(Budget(owner=neighbour), _pid) == os.getpid()
        assert not quarantine.is_quarantined(neighbour)
    finally:
        quarantine.release(owner)
    assert await off_loop(Budget(owner=owner), _pid) == os.getpid()  # released: back in a thread


async def test_quarantined_code_keeps_its_budget_and_its_field_and_spends_no_cpu_here():
    owner = f"hostile-{uuid.uuid4()}"
    try:
        await _quarantined(owner)
        budget = Budget(seconds=0.5, owner=owner)
        rules = parse_mapping([{"target": "Email", "template": LOOPS}])
        cpu = time.process_time()
        with pytest.raises(LimitExceeded) as info:
            await apply_mapping(rules, {}, None, budget=budget)
        here = time.process_time() - cpu
    finally:
        quarantine.release(owner)
    assert info.value.code == "mapping.budget_exceeded" and info.value.field == "Email"  # pickled back whole
    assert budget.remaining() <= 0  # the child's running time counted in this budget
    # The half second of template work ran in the child: this process only waited. (In a thread of this
    # process it took about half of it, paced; the bound is that generous for a shared machine.)
    assert here < budget.seconds / 4


async def test_a_quarantined_call_still_returns_its_value_and_its_field_errors():
    owner = f"hostile-{uuid.uuid4()}"
    try:
        await _quarantined(owner)
        rules = parse_mapping(
            [{"target": "Name", "template": "{{ a }} {{ b }}"}, {"target": "Note", "template": "{{ a | to_number }}"}]
        )
        record = await apply_mapping(rules, {"a": "Ivan", "b": "Petrov"}, None, budget=Budget(owner=owner))
    finally:
        quarantine.release(owner)
    assert record.values == {"Name": "Ivan Petrov"}
    assert [e.field for e in record.errors] == ["Note"]  # a MappingError of one rule, back across the pickle


async def test_a_slow_call_is_moved_to_a_process_at_its_next_check_and_its_owner_quarantined():
    owner = f"hostile-{uuid.uuid4()}"
    quarantine.start_pool()
    await _pool_up()
    assert not quarantine.is_quarantined(owner)
    try:
        budget = Budget(seconds=5, owner=owner)
        ran_in = await off_loop(budget, _pid_once_moved, os.getpid(), budget=budget)
        assert quarantine.is_quarantined(owner)
    finally:
        quarantine.release(owner)
    assert ran_in != os.getpid()  # stopped in its thread after SLOW_CALL, then run to its end in the pool
