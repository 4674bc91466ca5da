"""Fixed-window counters in Redis for the public auth endpoints (password checks, mail-sending POSTs).

An attempt is counted before it is made, in one Lua script that refuses it when any of its counters
is full and otherwise increments them all: concurrent attempts cannot all read "under the limit"
and then each run the password hash. A password check that succeeds gives its count back.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from bpmlink.kit.settings import Settings
from bpmlink.kit.web import TooManyRequests


@dataclass(frozen=True)
class Limit:
    key: str
    max_hits: int
    window_seconds: int


# KEYS: the counters; ARGV: their maxima, then their windows. Returns 0 when counted, else the
# seconds until the longest-waiting full counter frees (at least 1).
_TAKE = """
local n = #KEYS
local wait = 0
for i = 1, n do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i]) then
    wait = math.max(wait, redis.call('TTL', KEYS[i]), 1)
  end
end
if wait > 0 then return wait end
for i = 1, n do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], ARGV[n + i]) end
end
return 0
"""

# KEYS[1]: the account-and-address counter, cleared; the others lose one count if they still exist.
_GIVE_BACK = """
redis.call('DEL', KEYS[1])
for i = 2, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 0
"""


def login_limits(settings: Settings, email: str, client_ip: str) -> list[Limit]:
    """Password checks (login, password change, invitation accept for an existing account).

    The tight limit is per account *and* address, so guesses from elsewhere never lock the real user
    out; per account alone and per address alone the limits are looser (distributed guessing, spraying).
    The first limit is the one a successful check clears.
    """
    window = settings.login_window_seconds
    return [
        Limit(f"bpmlink:login-fail:email-ip:{email}:{client_ip}", settings.login_max_attempts, window),
        Limit(f"bpmlink:login-fail:email:{email}", settings.login_max_attempts_per_account, window),
        Limit(f"bpmlink:login-fail:ip:{client_ip}", settings.login_max_attempts_per_address, window),
    ]


def account_limit(settings: Settings, email: str) -> Limit:
    """The per-account counter of `login_limits`, cleared when the password is reset."""
    return login_limits(settings, email, "")[1]


def mail_limits(settings: Settings, kind: str, email: str, client_ip: str) -> list[Limit]:
    """Requests that may send an e-mail (sign-up, forgotten password), per address and per IP."""
    window = settings.mail_window_seconds
    return [
        Limit(f"bpmlink:mail:{kind}:email:{email}", settings.mail_max_per_address, window),
        Limit(f"bpmlink:mail:ip:{client_ip}", settings.mail_max_per_ip, window),
    ]


async def take(redis: aioredis.Redis, limits: list[Limit], message: str) -> None:
    """Count one attempt against every limit, atomically; 429 with Retry-After (and nothing counted)
    when any of them is full."""
    args = [str(limit.max_hits) for limit in limits] + [str(limit.window_seconds) for limit in limits]
    wait = int(await redis.eval(_TAKE, len(limits), *[limit.key for limit in limits], *args))  # type: ignore[misc]
    if wait:
        raise TooManyRequests(message, headers={"Retry-After": str(wait)})


async def give_back(redis: aioredis.Redis, limits: list[Limit]) -> None:
    """The attempt succeeded: it does not count, and the first limit's failures are forgiven."""
    await redis.eval(_GIVE_BACK, len(limits), *[limit.key for limit in limits])  # type: ignore[misc]


async def reset(redis: aioredis.Redis, limit: Limit) -> None:
    await redis.delete(limit.key)
