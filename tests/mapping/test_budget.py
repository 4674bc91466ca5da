"""One event's user code under one budget: shared time, size caps, and off the event loop."""

import asyncio
import threading
import time

import pytest

from bpmlink.mapping import budget as budget_module
from bpmlink.mapping.budget import MAX_RULES, Budget, Busy, LimitExceeded, off_loop
from bpmlink.mapping.engine import apply_mapping
from bpmlink.mapping.rules import parse_mapping

# Ten seconds and more of template work, stopped only by a time limit.
LOOPS = "{% for i in range(10000) %}{% for j in range(10000) %}{{ '' }}{% endfor %}{% endfor %}"


async def test_the_rules_share_one_budget_and_the_template_at_work_is_named():
    # Each template used to get its own second; under one budget the first one spends it all and
    # the operation fails naming that field, the second never starts.
    rules = parse_mapping([{"target": "Name", "template": LOOPS}, {"target": "Email", "template": LOOPS}])
    with pytest.raises(LimitExceeded) as info:
        await apply_mapping(rules, {}, None, budget=Budget(seconds=0.2))
    assert info.value.code == "mapping.budget_exceeded"
    assert info.value.field == "Name"
    assert info.value.params == {"seconds": 0.2, "field": "Name"}


async def test_a_mapping_over_the_rule_cap_is_refused_at_run():
    rules = parse_mapping([{"target": f"F{i}", "constant": "x"} for i in range(MAX_RULES + 1)])
    with pytest.raises(LimitExceeded) as info:
        await apply_mapping(rules, {}, None, budget=Budget())
    assert info.value.code == "mapping.too_many_rules"


async def test_a_mapping_within_the_budget_is_unchanged():
    rules = parse_mapping([{"target": "Name", "template": "{{ a }} {{ b }}"}])
    record = await apply_mapping(rules, {"a": "Ivan", "b": "Petrov"}, None, budget=Budget())
    assert record.values == {"Name": "Ivan Petrov"}


async def _ticks_while(work: asyncio.Future[object] | asyncio.Task[object]) -> int:
    """How many times another coroutine of this loop ran while `work` was under way."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        await asyncio.wait([work])
    finally:
        task.cancel()
    return ticks


async def test_the_loop_keeps_running_while_a_hostile_template_is_evaluated():
    rules = parse_mapping([{"target": "Name", "template": LOOPS}])
    work = asyncio.ensure_future(apply_mapping(rules, {}, None, budget=Budget(seconds=0.5)))
    ticks = await _ticks_while(work)
    assert isinstance(work.exception(), LimitExceeded)
    assert ticks >= 10  # on the loop the render would have held it for its whole half second: 0 ticks


async def test_an_abandoned_thread_is_not_waited_for():
    stuck = asyncio.Event()

    def forever() -> None:  # user code that ignores the budget: the caller still gets its answer
        while not stuck.is_set():
            pass

    try:
        with pytest.raises(LimitExceeded) as info:
            await off_loop(Budget(seconds=0.05), forever)
        assert info.value.code == "mapping.budget_exceeded"
    finally:
        stuck.set()


async def test_one_owners_long_code_holds_one_lane_not_the_pool():
    release = threading.Event()

    def stuck() -> None:
        release.wait(10)

    hostile = [asyncio.ensure_future(off_loop(Budget(seconds=30, owner="hostile"), stuck)) for _ in range(6)]
    try:
        neighbour = Budget(owner="neighbour")
        assert await asyncio.wait_for(off_loop(neighbour, lambda: "mapped"), 5) == "mapped"
        assert not any(task.done() for task in hostile)
    finally:
        release.set()
        await asyncio.gather(*hostile)


def test_time_waiting_is_not_spent():
    budget = Budget(seconds=0.05)
    with budget.running():
        pass
    time.sleep(0.1)  # queued for a thread, or for the loop: not the event's time
    budget.check()
    assert 0.0 < budget.remaining() <= 0.05


async def test_a_call_that_waited_its_lanes_budget_is_refused(monkeypatch):
    monkeypatch.setattr(budget_module, "LANE_WAIT", 0.05)
    release = threading.Event()
    holder = asyncio.ensure_future(off_loop(Budget(seconds=30, owner="slow"), release.wait, 10))
    await asyncio.sleep(0)  # the holder has the lane
    queued = asyncio.ensure_future(off_loop(Budget(owner="slow"), lambda: "mapped"))
    await asyncio.sleep(0.1)  # longer than LANE_WAIT behind the holder
    release.set()
    await holder
    with pytest.raises(Busy) as info:
        await queued
    assert info.value.code == "mapping.busy"
    assert await off_loop(Budget(owner="slow"), lambda: "mapped") == "mapped"  # a free lane: no wait
