"""Runtime knobs (fault injection and behaviour modes) and request counters.

Every fault is off by default; `Faults.update` validates and merges the admin API's JSON.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, fields
from typing import Any

from .settings import SandboxSettings

_CHOICES: dict[str, tuple[str, ...]] = {
    "expiry_mode": ("401", "302"),
    "login_failure_mode": ("200", "401"),
    "host_flavour": ("netframework", "netcore"),
    "patch_missing": ("404", "204"),
    "fail_next_kind": ("500", "html", "503", "429"),
    "fault_scope": ("all", "data"),
    "process_error_body": ("json", "html"),
    "process_failure_mode": ("200", "500"),
    "process_bad_parameter": ("fault", "ignore"),
    "culture": ("en-US", "ru-RU"),
    "dataservice_bearer": ("allow", "403"),
    "captions_failure": ("none", "500"),
}


@dataclass
class Faults:
    latency_ms: int = 0
    error_rate: float = 0.0  # share of requests answered 500 "An error has occurred."
    error_html: bool = False  # ... as an ASP.NET HTML error page instead of OData JSON
    unavailable_rate: float = 0.0  # share answered 503
    unavailable_retry_after: int | None = None  # Retry-After on those 503s (None = header absent)
    throttle_rate: float = 0.0  # share answered 429
    throttle_retry_after: int = 1
    fail_next: int = 0  # the next N requests fail deterministically ...
    fail_next_kind: str = "500"  # ... with this: 500 | html | 503 | 429
    fault_scope: str = "all"  # all emulated endpoints, or only data calls: OData and process runs ("data")
    outage_until: float = 0.0  # monotonic deadline of a full outage (set via outage_seconds)
    write_then_fail: bool = False  # writes persist, then the answer is a 500
    write_then_fail_next: int = 0  # ... only for the next N writes
    background_touch_ms: int = 0  # >0: ModifiedOn moves this long after a create (§8.5)
    odata_rebuild_seconds: float = 0.0  # new custom entities answer a routing 404 this long (§8.8)
    ram_limit: bool = False  # GET collections answer the RAM-consumption 500
    session_timeout_seconds: float = 3600.0  # fractions allowed so tests can wait briefly
    token_lifetime_seconds: int = 3600
    expiry_mode: str = "401"  # dead session: 401 WCF fault, or 302 to the login page
    login_failure_mode: str = "200"  # bad login: 200 Code=1, or 401 WCF fault
    host_flavour: str = "netframework"
    newer_cookies: bool = False
    lockout_attempts: int = 5
    lockout_seconds: int = 900
    patch_missing: str = "404"  # PATCH of a missing key: 404, or 204 like the docs' batch example
    search_number: bool = True  # False: ContactCommunication/AccountCommunication lack SearchNumber
    max_rows: int = 20_000  # rows per response (Creatio's cap); lowered only to test the cap cheaply
    # ProcessEngineService (docs/creatio-process-engine.md): where the real answer is not known for sure.
    process_error_body: str = "json"  # an unknown process / bad value: WCF JSON fault, or the ASP.NET HTML page
    process_failure_mode: str = "200"  # a process that throws: 200 with the result as it stood, or a 500 fault
    process_bad_parameter: str = "fault"  # a value that does not convert: a 500 fault, or dropped silently
    # DataService schema requests (docs/creatio-captions.md): the user's culture the captions come in,
    # whether an OAuth token reaches the service [L], and a failing service.
    culture: str = "en-US"
    dataservice_bearer: str = "allow"
    captions_failure: str = "none"
    max_file_size: int = 10 * 1024 * 1024  # the MaxFileSize system setting ("Attachment max size"), bytes

    @classmethod
    def from_settings(cls, s: SandboxSettings) -> Faults:
        return cls(
            session_timeout_seconds=float(s.session_timeout_seconds), token_lifetime_seconds=s.token_lifetime_seconds,
            host_flavour=s.host_flavour, newer_cookies=s.newer_cookies,
            lockout_attempts=s.lockout_attempts, lockout_seconds=s.lockout_seconds,
        )

    def update(self, changes: dict[str, Any]) -> None:
        """Merge admin JSON; raise ValueError naming the first bad key or value."""
        known = {f.name: f for f in fields(self)}
        staged: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "outage_seconds":
                staged["outage_until"] = time.monotonic() + float(value) if value else 0.0
                continue
            if key not in known or key == "outage_until":
                raise ValueError(f"unknown fault setting {key!r}")
            current = getattr(self, key)
            if key in _CHOICES:
                value = str(value)
                if value not in _CHOICES[key]:
                    raise ValueError(f"{key} must be one of {', '.join(_CHOICES[key])}")
            elif key == "unavailable_retry_after":
                value = None if value is None else int(value)
            elif isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} must be a boolean")
            elif key in ("session_timeout_seconds", "odata_rebuild_seconds"):
                value = float(value)
                if value < 0:
                    raise ValueError(f"{key} must not be negative")
            elif isinstance(current, float):
                value = float(value)
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"{key} must be between 0 and 1")
            elif isinstance(current, int):
                value = int(value)
                if value < 0:
                    raise ValueError(f"{key} must not be negative")
            staged[key] = value
        for key, value in staged.items():
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["outage_seconds_left"] = max(0.0, round(self.outage_until - time.monotonic(), 3))
        del d["outage_until"]
        return d

    def fail_this_write(self) -> bool:
        """Whether the write just persisted must be answered with a 500 (consumes write_then_fail_next)."""
        if self.write_then_fail:
            return True
        if self.write_then_fail_next > 0:
            self.write_then_fail_next -= 1
            return True
        return False

    def in_outage(self) -> bool:
        return self.outage_until > 0 and time.monotonic() < self.outage_until

    def pick_failure(self, is_data: bool) -> str | None:
        """Which injected failure (if any) this request gets: "500", "html", "503" or "429"."""
        if self.fault_scope == "data" and not is_data:
            return None
        if self.fail_next > 0:
            self.fail_next -= 1
            return self.fail_next_kind
        if self.error_rate and random.random() < self.error_rate:
            return "html" if self.error_html else "500"
        if self.unavailable_rate and random.random() < self.unavailable_rate:
            return "503"
        if self.throttle_rate and random.random() < self.throttle_rate:
            return "429"
        return None


class Counts:
    """Requests per `METHOD kind` (e.g. `GET odata4.entity`), for tests and benchmarks."""

    def __init__(self) -> None:
        self.by_key: Counter[str] = Counter()

    def add(self, method: str, kind: str) -> None:
        self.by_key[f"{method} {kind}"] += 1

    def snapshot(self) -> dict[str, Any]:
        by_kind: Counter[str] = Counter()
        by_method: Counter[str] = Counter()
        for key, n in self.by_key.items():
            method, kind = key.split(" ", 1)
            by_kind[kind] += n
            by_method[method] += n
        return {"total": sum(self.by_key.values()), "requests": dict(self.by_key),
                "by_kind": dict(by_kind), "by_method": dict(by_method)}

    def reset(self) -> None:
        self.by_key.clear()
