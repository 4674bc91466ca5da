"""A bundle's webhook request limit in the api: set on save, read with its refusals (bpmlink.hook_limits).

The default is the setting `BPMLINK_HOOK_RATE_PER_MINUTE` for every workspace: a workspace-wide value
would be one more knob between the operator's and the bundle's with no case that needs it (a bundle
over the default sets its own; an installation that wants another default sets the variable).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from redis.exceptions import RedisError

from bpmlink.catalog import Trigger
from bpmlink.db.models import Bundle
from bpmlink.hook_limits import refusals_last_day
from bpmlink.kit.web import InvalidInput
from bpmlink_api.deps import RequestContext

from .schemas import BundleIn

log = logging.getLogger("bpmlink.api")

FIELD = "webhook_rate_per_minute"


def apply_rate_limit(bundle: Bundle, trigger: Trigger, body: BundleIn) -> bool:
    """Set the bundle's own limit when the body gives the field (null: back to the default); whether it
    changed. Only a webhook has one."""
    if FIELD not in body.model_fields_set:
        return False
    value = body.webhook_rate_per_minute
    if value is not None and trigger.kind != "webhook":
        message = "only a bundle with a webhook URL has a request limit"
        raise InvalidInput(
            f"{FIELD}: {message}",
            details=[{"field": FIELD, "message": message, "code": "hook_rate_not_webhook", "params": {}}],
        )
    if bundle.webhook_rate_per_minute == value:
        return False
    bundle.webhook_rate_per_minute = value
    return True


async def refusals(ctx: RequestContext, bundle_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Requests refused as over the limit in the last 24 hours, per bundle; none known when Redis is down
    (the bundle still reads)."""
    try:
        return await refusals_last_day(ctx.redis, bundle_ids)
    except (RedisError, OSError) as exc:
        log.warning("webhook refusals not read, shown as none: %s", exc)
        return {}
