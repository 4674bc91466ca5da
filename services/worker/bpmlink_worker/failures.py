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

    def __init__(self, message: str, *, stop_bundle: bool = False, code: str = "failed", **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.stop_bundle = stop_bundle
        self.code = code
        self.params = params


def fail(claimed: Claimed, exc: Exception) -> None:
    """Set the run's end from the error that ended it."""
    job_try = claimed.job_try
    if isinstance(exc, TransientError):
        if job_try < MAX_TRIES:
            claimed.status, claimed.error = OperationStatus.retrying, f"{exc} (will retry)"
            claimed.retry_in = backoff_seconds(job_try, exc.retry_after)
            metrics.OPERATION_RETRIES.labels(exc.code).inc()  # a stable reason: unavailable, network, …
        else:  # past the fast tries: parked on the workspace's slow schedule (parking.py)
            claimed.status, claimed.error = OperationStatus.retrying, f"{exc} (retrying on a slow schedule)"
            claimed.parked = True
    elif isinstance(exc, AuthError | ConfigurationError):
        claimed.status, claimed.error = OperationStatus.failed, str(exc)
        claimed.stop_reason = f"bpm'online refused the connection: {exc}"
    elif isinstance(exc, BpmError):
        claimed.status, claimed.error = OperationStatus.failed, str(exc)
    elif isinstance(exc, Failed):
        claimed.status, claimed.error = OperationStatus.failed, exc.message
        claimed.stop_reason = exc.message if exc.stop_bundle else None
    elif isinstance(exc, MappingError):
        claimed.status = OperationStatus.failed
        claimed.error = f"{exc.field}: {exc.message}" if exc.field else exc.message
    else:
        raise exc


def message_of(exc: Exception) -> Message:
    """The error as a step result's message; what bpm'online said is kept as its own words."""
    if isinstance(exc, BpmError):
        return Message(code=f"bpm_{exc.code}", params={"status": exc.status}, text=str(exc), remote=exc.message or None)
    if isinstance(exc, Failed):
        return Message(code=exc.code, params=dict(exc.params), text=exc.message)
    if isinstance(exc, MappingError):
        text = f"{exc.field}: {exc.message}" if exc.field else exc.message
        return Message(code="mapping_failed", params={"field": exc.field, "error": exc.message}, text=text)
    return Message(code="failed", params={}, text=str(exc))
