"""The bpm'online (Creatio) OData client.

    from bpmlink.bpmonline import BpmClient, BpmConnection, F

    conn = BpmConnection(id="c1", domain="https://x.creatio.com", username="u", password="p")
    async with BpmClient(conn, settings=settings, redis=redis) as bpm:
        rows = await bpm.query("Contact", filter=F.eq("Email", email), select=["Id"], top=1)
"""

from bpmlink.bpmonline.batch import BatchOp, BatchResult
from bpmlink.bpmonline.client import BpmClient, BpmClientPool, ConnectionTestResult, CreateResult
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
