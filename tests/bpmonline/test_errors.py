import ssl
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from bpmlink.bpmonline import (
    AuthError,
    BpmTimeoutError,
    ConfigurationError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    ServerError,
    TransientError,
    ValidationError,
)
from bpmlink.bpmonline._http import classify_exception
from bpmlink.bpmonline.errors import error_for_status, extract_message, parse_retry_after, summarize_html
from bpmlink.kit.net import BlockedAddressError, DNSResolutionError

FK_BODY = {
    "error": {
        "code": "",
        "message": "An error has occurred.",
        "innererror": {
            "message": 'The INSERT statement conflicted with the FOREIGN KEY constraint "FKContactAccount".',
            "type": "System.Data.SqlClient.SqlException",
            "stacktrace": "",
        },
    }
}
RAM_BODY = {
    "error": {
        "code": "",
        "message": "An error has occurred.",
        "innererror": {
            "message": "An error has occurred.",
            "internalexception": {
                "message": "Request processing terminated because it reached the RAM consumption limit of 2000 MB"
            },
        },
    }
}


def test_message_prefers_the_innermost_inner_error():
    assert "FOREIGN KEY" in extract_message(FK_BODY)
    assert extract_message(RAM_BODY).startswith("Request processing terminated")


def test_message_of_other_shapes():
    assert extract_message({"error": {"code": "", "message": "Bad"}}) == "Bad"
    assert extract_message({"error": {"message": {"lang": "en", "value": "v3 text"}}}) == "v3 text"
    assert extract_message({"Message": "No HTTP resource.", "MessageDetail": "No type X."}) == (
        "No HTTP resource. No type X."
    )
    assert extract_message({"error": "invalid_client"}) == "invalid_client"
    assert extract_message({"Code": 1, "Message": "", "Exception": {"Message": "Locked"}}) == "Locked"
    assert extract_message("text") is None


def test_html_summary_uses_the_title():
    html = "<html><head><title>Runtime Error</title></head><body><h2>Server Error in '/' Application.</h2>"
    assert summarize_html(html) == "HTML page: Runtime Error"


@pytest.mark.parametrize(
    ("status", "message", "cls"),
    [
        (400, "Could not find a property named 'Foo'", ValidationError),
        (401, "Authentication failed.", AuthError),
        (403, "", ForbiddenError),
        (404, "", NotFoundError),
        (405, "", PermanentError),
        (429, "", RateLimitedError),
        (503, "", RateLimitedError),
        (502, "", ServerError),
        (500, "An error has occurred.", ServerError),
        (500, 'conflicted with the FOREIGN KEY constraint "FKContactAccount"', ValidationError),
        (500, '23503: insert or update on table "Contact" violates foreign key constraint', ValidationError),
        (500, "Violation of PRIMARY KEY constraint 'PKContact'. Cannot insert duplicate key", ValidationError),
        (500, "Column by path AccountId not found in schema Contact.", ValidationError),
        (500, "Request processing terminated because it reached the RAM consumption limit", ServerError),
    ],
)
def test_classification(status, message, cls):
    err = error_for_status(status, message)
    assert type(err) is cls
    assert err.status == status


def test_html_500_is_transient_even_with_scary_words():
    err = error_for_status(500, "HTML page: FOREIGN KEY", is_html=True)
    assert isinstance(err, TransientError)


def test_ram_limit_has_its_code():
    assert error_for_status(500, "reached the RAM consumption limit").code == "ram_limit"


def test_retry_after_seconds_and_dates():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= parse_retry_after(when) <= 31
    err = error_for_status(429, "slow down", retry_after=3)
    assert isinstance(err, TransientError) and err.retry_after == 3


def _chained(outer, inner):
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except BaseException as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "cls", "code"),
    [
        (_chained(httpx.ConnectError("boom"), ssl.SSLCertVerificationError("CERTIFICATE_VERIFY_FAILED")),
         ConfigurationError, "tls"),
        (_chained(httpx.ConnectError("boom"), ConnectionRefusedError(111, "Connection refused")),
         NetworkError, "connection_refused"),
        (_chained(httpx.ConnectError("boom"), DNSResolutionError("no such host")), NetworkError, "dns"),
        (httpx.ConnectTimeout("slow"), BpmTimeoutError, "connect_timeout"),
        (httpx.ReadTimeout("slow"), BpmTimeoutError, "read_timeout"),
        (httpx.RemoteProtocolError("peer closed"), NetworkError, "network"),
        (BlockedAddressError("10.0.0.1 is private"), ConfigurationError, "blocked_address"),
    ],
)
def test_failures_without_an_answer_are_classified(exc, cls, code):
    err = classify_exception(exc)
    assert type(err) is cls and err.code == code and err.status is None
