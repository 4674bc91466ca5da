"""How a run ends on an error: a retry with backoff, parked past the fast tries, failed, or failed
and the bundle stopped (every next event would fail the same way)."""

from __future__ import annotations

import random

from bpmlink.bpmonline.errors import AuthError, BpmError, ConfigurationError, TransientError
from bpmlink.db.models import OperationStatus
from bpmlink.kit import metrics
from bpmlink.kit.messages import Message
from bpmlink.mapping.errors import MappingError

from .claims import MAX_TRIES, Claimed

BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0


def backoff_seconds(job_try: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter; never sooner than the server's Retry-After."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (job_try - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


class Failed(Exception):
    """An error of the bundle's set-up or of the event's data, not of bpm'online's answer."""

    def __init__(
        self,
        message: str,
        *,
        stop_bundle: bool = False,
        code: str = "failed",
        remote: str | None = None,
        **params: object,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.remote = remote  # a source's own words, shown apart
        self.stop_bundle = stop_bundle
        self.code = code
        self.params = params


def defect(exc: Exception) -> Failed:
    """A bug of ours met on this event's data: the event's failure, named by the error's type only."""
    name = type(exc).__name__
    return Failed(f"the event could not be mapped ({name})", code="event_not_mapped", error=name)


def fail(claimed: Claimed, exc: Exception) -> None:
    """Set the run's end from the error that ended it: its status, its message (code + params) and
    that message's English as `error`."""
    job_try = claimed.job_try
    why = message_of(exc)
    if isinstance(exc, TransientError):
        if job_try < MAX_TRIES:
            _end(claimed, OperationStatus.retrying, "will_retry", f"{exc} (will retry)", why)
            claimed.retry_in = backoff_seconds(job_try, exc.retry_after)
            metrics.OPERATION_RETRIES.labels(exc.code).inc()  # a stable reason: unavailable, network, …
        else:  # past the fast tries: parked on the workspace's slow schedule (parking.py)
            _end(claimed, OperationStatus.retrying, "retrying_slowly", f"{exc} (retrying on a slow schedule)", why)
            claimed.parked = True
    elif isinstance(exc, AuthError | ConfigurationError):
        _end(claimed, OperationStatus.failed, None, str(exc), why)
        claimed.stop_reason = f"bpm'online refused the connection: {exc}"
    elif isinstance(exc, BpmError):
        _end(claimed, OperationStatus.failed, None, str(exc), why)
    elif isinstance(exc, Failed):
        _end(claimed, OperationStatus.failed, None, exc.message, why)
        claimed.stop_reason = exc.message if exc.stop_bundle else None
    elif isinstance(exc, MappingError):
        _end(claimed, OperationStatus.failed, None, why.text, why)
    else:
        raise exc


def _end(claimed: Claimed, status: OperationStatus, code: str | None, text: str, why: Message) -> None:
    """The run's status and message: `why` itself, or `code` wrapping it (`will_retry`: «…»)."""
    words = why if code is None else Message(code=code, params={"error": why.model_dump(exclude_none=True)}, text=text)
    claimed.status, claimed.error, claimed.message = status, text, words


def message_of(exc: Exception) -> Message:
    """The error as a step result's message; what bpm'online said is kept as its own words."""
    if isinstance(exc, BpmError):
        return Message(code=f"bpm_{exc.code}", params={"status": exc.status}, text=str(exc), remote=exc.message or None)
    if isinstance(exc, Failed):
        return Message(code=exc.code, params=dict(exc.params), text=exc.message, remote=exc.remote)
    if isinstance(exc, MappingError):
        return exc.words()
    return Message(code="failed", params={}, text=str(exc))
