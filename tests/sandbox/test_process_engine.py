"""ProcessEngineService.svc: the XML-wrapped result, the empty answer, auth, unknown/failing processes,
bad parameter values, the fault switches, path flavours and the admin list of runs."""

import json
from urllib.parse import quote

import pytest
from defusedxml.ElementTree import fromstring

from .conftest import SUPERVISOR

SVC = "/0/ServiceModel/ProcessEngineService.svc"
NS = "http://schemas.microsoft.com/2003/10/Serialization/"


def _result(r) -> str:
    """The text inside <string xmlns=…>…</string>, the way a client reads it."""
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    root = fromstring(r.content)
    assert root.tag == f"{{{NS}}}string"
    return root.text or ""


def test_call_back_creates_a_task_for_the_contact_and_returns_its_id_json_encoded(api, sandbox):
    r = api.get(
        f"{SVC}/UsrBpmlinkCallBack/Execute",
        params={"ResultParameterName": "TaskId", "ContactId": SUPERVISOR, "Comment": "Перезвонить после 15:00"},
    )
    task_id = json.loads(_result(r))  # the value is serialised as JSON: a quoted string
    task = api.get(f"/0/odata/Activity({task_id})").json()
    assert task["ContactId"] == SUPERVISOR and task["Notes"] == "Перезвонить после 15:00"
    assert task["OwnerId"] == SUPERVISOR and task["Title"] == "Call back"
    runs = api.get(f"{sandbox.base_url}/_sandbox/process-runs").json()
    assert len(runs) == 1
    run = runs[0]
    assert run["schema"] == "UsrBpmlinkCallBack" and run["result"] == task_id and run["status"] == "completed"
    assert run["parameters"] == {"ContactId": SUPERVISOR, "Comment": "Перезвонить после 15:00"}
    assert run["result_parameter"] == "TaskId" and run["at"].endswith("Z")


def test_without_result_parameter_the_answer_is_empty_but_the_process_runs(api, sandbox):
    r = api.post(f"{SVC}/UsrBpmlinkCallBack/Execute?ContactId={SUPERVISOR}")
    assert r.status_code == 200 and r.content == b""
    assert [run["result"] for run in sandbox.process_runs()] == [None]
    assert api.get("/0/odata/Activity/$count?$filter=Title eq 'Call back'").text == "1"


def test_echo_keeps_values_with_ampersands_equals_cyrillic_and_spaces(api):
    hostile = {"A": "x&y=z", "Имя": "Анна Мария", "Plus": "1+1", "Xml": "<b>&amp;</b>"}
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in hostile.items())
    r = api.get(f"{SVC}/UsrBpmlinkEcho/Execute?ResultParameterName=Result&{query}")
    assert "<b>" not in r.text  # XML-escaped inside the wrapper
    assert json.loads(json.loads(_result(r))) == hostile


def test_a_result_parameter_the_process_lacks_reads_null(api):
    assert _result(api.get(f"{SVC}/UsrBpmlinkEcho/Execute?ResultParameterName=Nope&A=1")) == "null"


def test_no_session_is_401_and_no_csrf_is_403_and_nothing_runs(anon, sandbox):
    r = anon.get(f"{SVC}/UsrBpmlinkEcho/Execute?ResultParameterName=Result")
    assert r.status_code == 401 and r.json()["Message"] == "Authentication failed."
    logged = sandbox.login()
    del logged.headers["BPMCSRF"]
    assert logged.get(f"{SVC}/UsrBpmlinkEcho/Execute").status_code == 403
    logged.close()
    assert sandbox.process_runs() == []


def test_an_unknown_process_is_a_500_wcf_fault_or_the_html_page(api, sandbox):
    r = api.get(f"{SVC}/UsrNoSuchProcess/Execute?ResultParameterName=Result")
    assert r.status_code == 500
    assert r.json() == {
        "Message": 'Item process schema "UsrNoSuchProcess" not found',
        "StackTrace": None,
        "ExceptionType": "Terrasoft.Common.ItemNotFoundException",
    }
    sandbox.set_faults(process_error_body="html")
    page = api.get(f"{SVC}/UsrNoSuchProcess/Execute")
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "<title>Item process schema &quot;UsrNoSuchProcess&quot; not found</title>" in page.text
    assert sandbox.process_runs() == []


def test_a_throwing_process_answers_200_with_the_value_it_had_set_unless_switched(api, sandbox):
    r = api.get(f"{SVC}/UsrBpmlinkFailing/Execute?ResultParameterName=Stage")
    assert json.loads(_result(r)) == "started"  # measured on a real stand: the failure is not in the answer
    sandbox.set_faults(process_failure_mode="500")
    fault = api.get(f"{SVC}/UsrBpmlinkFailing/Execute?ResultParameterName=Stage")
    assert fault.status_code == 500 and "threw on purpose" in fault.json()["Message"]
    runs = sandbox.process_runs()
    assert [run["status"] for run in runs] == ["failed", "failed"] and "threw on purpose" in runs[0]["error"]


def test_a_missing_contact_fails_the_call_back_with_the_database_words(api, sandbox):
    sandbox.set_faults(process_failure_mode="500")
    r = api.get(f"{SVC}/UsrBpmlinkCallBack/Execute?ContactId=11111111-1111-1111-1111-111111111111")
    assert r.status_code == 500 and "violates foreign key constraint" in r.json()["Message"]


def test_an_unconvertible_guid_is_a_format_fault_before_anything_runs_or_is_dropped(api, sandbox):
    r = api.get(f"{SVC}/UsrBpmlinkCallBack/Execute?ResultParameterName=TaskId&ContactId=not-a-guid")
    assert r.status_code == 500 and r.json()["ExceptionType"] == "System.FormatException"
    assert sandbox.process_runs() == []
    sandbox.set_faults(process_bad_parameter="ignore")
    dropped = api.get(f"{SVC}/UsrBpmlinkCallBack/Execute?ResultParameterName=TaskId&ContactId=not-a-guid")
    task = api.get(f"/0/odata/Activity({json.loads(_result(dropped))})").json()
    assert task["ContactId"] == "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize("fault", ["503", "500"])
def test_injected_failures_hit_process_runs_too(api, sandbox, fault):
    sandbox.set_faults(fail_next=1, fail_next_kind=fault, fault_scope="data")
    assert api.get(f"{SVC}/UsrBpmlinkEcho/Execute").status_code == int(fault)
    assert api.get(f"{SVC}/UsrBpmlinkEcho/Execute").status_code == 200
    assert len(sandbox.process_runs()) == 1
    assert sandbox.counts()["requests"]["GET process"] == 2


def test_path_flavours_follow_the_host(api, sandbox):
    assert api.get("/ServiceModel/ProcessEngineService.svc/UsrBpmlinkEcho/Execute").status_code == 404
    sandbox.set_faults(host_flavour="netcore")
    assert api.get("/ServiceModel/ProcessEngineService.svc/UsrBpmlinkEcho/Execute").status_code == 200
    assert api.get(f"{SVC}/UsrBpmlinkEcho/Execute").status_code == 200
    assert api.get(f"{SVC}/UsrBpmlinkEcho/Start").status_code == 404
    assert api.put(f"{SVC}/UsrBpmlinkEcho/Execute").status_code == 405


def test_reset_clears_the_runs(api, sandbox):
    api.get(f"{SVC}/UsrBpmlinkEcho/Execute")
    assert len(sandbox.process_runs()) == 1
    sandbox.reset()
    assert sandbox.process_runs() == []
