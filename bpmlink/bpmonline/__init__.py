"""The bpm'online (Creatio) OData client.

    from bpmlink.bpmonline import BpmClient, BpmConnection, F, StepRecorder

    conn = BpmConnection.from_params(connection_id, params, secrets)
    async with BpmClient(conn, settings=settings, redis=redis) as bpm:
        steps = StepRecorder()
        rows = await bpm.query("Contact", filter=F.eq("Email", email), select=["Id"], top=1, recorder=steps)

How the pipeline uses it:

* Keep one client per connection per process (`BpmClientPool` in the worker context).
* Pass a `StepRecorder` per event; store `recorder.steps` (already redacted) as the
  operation's steps. A raised `BpmError` carries the same list in `.steps`.
* Retry `TransientError` with backoff, no sooner than `.retry_after` when set; fail the
  operation at once on `PermanentError` with `.message` (bpm'online's own words).
* Create with a deterministic id (e.g. `uuid5(namespace, event_id)`) through
  `create_idempotent(..., check_first=attempt > 1)`: a retry never makes a second record.
* Call `await bpm.metadata()` once to type filter values by `$metadata` and to turn flat
  lookup columns (`AccountId`) into navigation paths (`Account/Id`) in filters.
* Run a business process with `await bpm.run_process("UsrX", {"ContactId": id}, result_parameter="Out")`
  (`processes`: the result decoded, codes `process_unknown`/`process_failed`).
"""

from bpmlink.bpmonline.batch import BatchOp, BatchResult
from bpmlink.bpmonline.client import BpmClient, CreateResult
from bpmlink.bpmonline.connection import BpmConnection
from bpmlink.bpmonline.dialects import Dialect, ODataV3, ODataV4, dialect_for
from bpmlink.bpmonline.errors import (
    AuthError,
    BpmError,
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
from bpmlink.bpmonline.filters import Expr, F, FilterError
from bpmlink.bpmonline.metadata import EntityInfo, FieldInfo, Metadata, parse_metadata
from bpmlink.bpmonline.pool import BpmClientPool
from bpmlink.bpmonline.probe import ConnectionTestResult
from bpmlink.bpmonline.steps import Step, StepRecorder

__all__ = [
    "AuthError",
    "BatchOp",
    "BatchResult",
    "BpmClient",
    "BpmClientPool",
    "BpmConnection",
    "BpmError",
    "BpmTimeoutError",
    "ConfigurationError",
    "ConnectionTestResult",
    "CreateResult",
    "Dialect",
    "EntityInfo",
    "Expr",
    "F",
    "FieldInfo",
    "FilterError",
    "ForbiddenError",
    "Metadata",
    "NetworkError",
    "NotFoundError",
    "ODataV3",
    "ODataV4",
    "PermanentError",
    "RateLimitedError",
    "ServerError",
    "Step",
    "StepRecorder",
    "TransientError",
    "ValidationError",
    "dialect_for",
    "parse_metadata",
]
