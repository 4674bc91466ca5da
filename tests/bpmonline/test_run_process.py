"""`BpmClient.run_process` against the real sandbox: the decoded result, escaping, recorded steps,
the error codes, relogin, and a 503 that stays transient."""

import json
import uuid

import httpx
import pytest

from bpmlink.bpmonline import PermanentError, RateLimitedError, ServerError, StepRecorder, ValidationError
from bpmlink.bpmonline.processes import classify, decode_result

SUPERVISOR = "410006e1-ca4e-4502-a9ec-e54d922d2c00"
HOSTILE = {
    "A": "x&y=z",
    "Comment": "Перезвонить завтра в 10:00",
    "Plus": "1+1 %20",
    "Xml": "<b>&amp;</b>",
    "Q": "a?b#c",
}


async def test_the_result_is_decoded_and_the_process_did_its_work(make_client, sbx):
    bpm = make_client()
    rec = StepRecorder()
    task_id = await bpm.run_process(
        "UsrBpmlinkCallBack",
        {"ContactId": SUPERVISOR, "Comment": "Перезвонить"},
        result_parameter="TaskId",
        recorder=rec,
    )
    assert task_id is not None and uuid.UUID(task_id)  # the JSON quotes are gone
    task = await bpm.get("Activity", task_id, select=["ContactId", "Notes"])
    assert task == {"ContactId": SUPERVISOR, "Notes": "Перезвонить"}
    runs = await sbx.admin("GET", "/process-runs")
    assert [(r["schema"], r["result"]) for r in runs] == [("UsrBpmlinkCallBack", task_id)]
    process_steps = [s for s in rec.steps if "ProcessEngineService" in s.url]
    assert len(process_steps) == 1  # the login is recorded before it
    step = process_steps[0]
    assert step.method == "GET" and step.status == 200
    assert step.url.startswith(f"{sbx.base_url}/0/ServiceModel/ProcessEngineService.svc/UsrBpmlinkCallBack/Execute?")
    assert "<string" in (step.response_body or "") and step.request_headers.get("bpmcsrf") == "[redacted]"


async def test_values_with_ampersands_equals_cyrillic_and_spaces_arrive_unchanged(make_client, sbx):
    echoed = await make_client().run_process("UsrBpmlinkEcho", HOSTILE, result_parameter="Result")
    assert echoed is not None and json.loads(echoed) == HOSTILE
    assert (await sbx.admin("GET", "/process-runs"))[0]["parameters"] == HOSTILE


async def test_without_a_result_parameter_the_answer_is_none_and_the_process_ran(make_client, sbx):
    assert await make_client().run_process("UsrBpmlinkEcho", {"A": "1"}) is None
    assert len(await sbx.admin("GET", "/process-runs")) == 1


async def test_a_result_parameter_the_process_lacks_is_none(make_client):
    assert await make_client().run_process("UsrBpmlinkEcho", {}, result_parameter="Missing") is None


async def test_an_unknown_process_is_process_unknown_with_the_remote_words(make_client, sbx):
    with pytest.raises(PermanentError) as info:
        await make_client().run_process("UsrNoSuchProcess", {}, result_parameter="Result")
    err = info.value
    assert err.code == "process_unknown" and err.status == 500 and not err.transient
    assert err.message == 'Item process schema "UsrNoSuchProcess" not found'
    assert err.steps and err.steps[-1].status == 500
    await sbx.set_faults(process_error_body="html")  # the same verdict on the ASP.NET error page
    with pytest.raises(PermanentError) as page:
        await make_client().run_process("UsrNoSuchProcess", {})
    assert page.value.code == "process_unknown" and "not found" in page.value.message


async def test_a_failing_process_is_process_failed_when_the_server_says_so(make_client, sbx):
    bpm = make_client()
    # By default (as measured on a real stand) the failure is not in the answer: the value as it stood.
    assert await bpm.run_process("UsrBpmlinkFailing", {}, result_parameter="Stage") == "started"
    await sbx.set_faults(process_failure_mode="500")
    with pytest.raises(PermanentError) as info:
        await bpm.run_process("UsrBpmlinkFailing", {}, result_parameter="Stage")
    assert info.value.code == "process_failed" and "threw on purpose" in info.value.message
    with pytest.raises(PermanentError) as fk:  # a database verdict inside the process is its failure too
        await bpm.run_process("UsrBpmlinkCallBack", {"ContactId": str(uuid.uuid4())})
    assert fk.value.code == "process_failed" and "foreign key" in fk.value.message


async def test_an_unconvertible_value_is_process_failed(make_client):
    with pytest.raises(PermanentError) as info:
        await make_client().run_process("UsrBpmlinkCallBack", {"ContactId": "not-a-guid"}, result_parameter="TaskId")
    assert info.value.code == "process_failed" and info.value.message.startswith("Guid should contain 32 digits")


async def test_a_503_is_transient_and_a_bare_html_500_stays_a_server_error(make_client, sbx):
    bpm = make_client()
    await bpm.run_process("UsrBpmlinkEcho", {})  # logged in
    await sbx.set_faults(fail_next=1, fail_next_kind="503", unavailable_retry_after=7)
    with pytest.raises(RateLimitedError) as unavailable:
        await bpm.run_process("UsrBpmlinkEcho", {})
    assert unavailable.value.transient and unavailable.value.code == "unavailable"
    assert unavailable.value.retry_after == 7
    await sbx.set_faults(fail_next=1, fail_next_kind="html")
    with pytest.raises(ServerError) as page:
        await bpm.run_process("UsrBpmlinkEcho", {})
    assert page.value.transient
    assert len(await sbx.admin("GET", "/process-runs")) == 1  # neither failed call ran the process


async def test_a_dead_session_logs_in_once_and_repeats_the_run(make_client, sbx):
    bpm = make_client()
    await bpm.run_process("UsrBpmlinkEcho", {})
    logins = await sbx.logins()
    await sbx.expire_sessions()
    assert await bpm.run_process("UsrBpmlinkEcho", {"A": "b"}, result_parameter="Result") == '{"A":"b"}'
    assert await sbx.logins() == logins + 1


async def test_the_netcore_flavour_has_no_0_prefix(make_client, sbx):
    await sbx.set_faults(host_flavour="netcore")
    rec = StepRecorder()
    result = await make_client(path_prefix="").run_process(
        "UsrBpmlinkEcho", {"A": "1"}, result_parameter="Result", recorder=rec
    )
    assert result == '{"A":"1"}'
    assert rec.steps[-1].url.startswith(f"{sbx.base_url}/ServiceModel/ProcessEngineService.svc/")


@pytest.mark.parametrize(
    ("schema", "params", "result"),
    [
        ("Usr X", {}, None),
        ("UsrEcho", {"A&B": "1"}, None),
        ("UsrEcho", {}, "R=1"),
        ("UsrEcho", {"resultparametername": "x"}, None),
    ],
)
async def test_names_that_are_not_codes_are_refused_before_sending(make_client, sbx, schema, params, result):
    with pytest.raises(ValidationError) as info:
        await make_client().run_process(schema, params, result_parameter=result)
    assert info.value.code == "process_code" and not info.value.transient
    assert (await sbx.counts()).get("requests", {}).get("GET process") is None


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (
            b'<string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">"a &amp; b"</string>',
            "application/xml",
            "a & b",
        ),
        (b'<string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">42</string>', "application/xml", "42"),
        (
            b'<string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">plain text</string>',
            "application/xml",
            "plain text",
        ),
        (b'<string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">""</string>', "application/xml", None),
        (b'<string xmlns="http://schemas.microsoft.com/2003/10/Serialization/"/>', "application/xml", None),
        (
            b'<string i:nil="true" xmlns="http://schemas.microsoft.com/2003/10/Serialization/" '
            b'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"/>',
            "application/xml",
            None,
        ),
        (b'"\\"x\\""', "application/json; charset=utf-8", "x"),
        (b"", "", None),
    ],
)
def test_decode_result_reads_every_shape_of_the_answer(body, content_type, expected):
    response = httpx.Response(200, content=body, headers={"content-type": content_type} if content_type else {})
    assert decode_result(response, StepRecorder()) == expected


def test_decode_result_refuses_entities_and_broken_xml():
    bomb = b'<!DOCTYPE s [<!ENTITY a "aaaa">]><string>&a;</string>'
    for body in (bomb, b"<string>unclosed"):
        with pytest.raises(PermanentError) as info:
            decode_result(httpx.Response(200, content=body), StepRecorder())
        assert info.value.code == "process_answer_unreadable"


def test_a_gateway_or_unavailable_answer_with_a_json_body_is_left_transient():
    for status in (502, 503, 504):
        exc = RateLimitedError("Service Unavailable", status=status, code="unavailable")
        assert classify(exc) is exc
    assert classify(ServerError("Could not load the process", status=500)).code == "process_failed"
