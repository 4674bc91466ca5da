"""The access parameters of one bpm'online connection, as the client needs them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

AuthKind = Literal["forms", "oauth"]


def normalize_domain(domain: str) -> str:
    """`x.creatio.com/0/` → `https://x.creatio.com` (scheme added, `/0` and slashes dropped)."""
    d = domain.strip()
    if "://" not in d:
        d = "https://" + d
    d = d.rstrip("/")
    # Users paste the app URL; the prefix is a separate setting.
    if d.endswith("/0"):
        d = d[:-2].rstrip("/")
    return d


@dataclass(frozen=True)
class BpmConnection:
    """Connection params (see DESIGN "POST /api/v1/connections"); secrets are not in repr."""

    id: str
    domain: str
    auth: AuthKind = "forms"
    username: str = ""
    password: str = field(default="", repr=False)
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    token_url: str | None = None
    odata_version: int = 4
    path_prefix: str = "/0"
    max_concurrency: int = 8  # requests in flight per process
    max_requests_per_second: int = 25  # across all processes; 0 = no limit

    def __post_init__(self) -> None:
        object.__setattr__(self, "domain", normalize_domain(self.domain))
        prefix = self.path_prefix.strip().rstrip("/")
        if prefix and not prefix.startswith("/"):
            prefix = "/" + prefix
        object.__setattr__(self, "path_prefix", prefix)
        if self.auth not in ("forms", "oauth"):
            raise ValueError(f"auth must be 'forms' or 'oauth', not {self.auth!r}")
        if self.odata_version not in (3, 4):
            raise ValueError("odata_version must be 3 or 4")

    @classmethod
    def from_params(cls, connection_id: str, params: Mapping[str, Any], secrets: Mapping[str, Any]) -> BpmConnection:
        """Build from a stored connection's `params` and decrypted `secrets`."""
        version = params.get("odata_version") or 4
        prefix = params.get("path_prefix")
        return cls(
            id=str(connection_id),
            domain=str(params.get("domain", "")),
            auth=params.get("auth") or "forms",
            username=str(params.get("username") or ""),
            password=str(secrets.get("password") or ""),
            client_id=str(params.get("client_id") or ""),
            client_secret=str(secrets.get("client_secret") or ""),
            token_url=(str(params["token_url"]) if params.get("token_url") else None),
            odata_version=int(version),
            path_prefix="/0" if prefix is None else str(prefix),
            max_concurrency=int(params.get("max_concurrency") or 8),
            max_requests_per_second=int(params.get("max_requests_per_second") or 0)
            if "max_requests_per_second" in params
            else 25,
        )

    @property
    def login_url(self) -> str:
        # Documented at the site root, without /0, on both hosting flavours (§2.1).
        return f"{self.domain}/ServiceModel/AuthService.svc/Login"

    @property
    def oauth_token_url(self) -> str:
        """`token_url` if set; for a cloud tenant `https://<name>.creatio.com` its Identity
        Service `https://<name>-is.creatio.com/connect/token` (§2.5, [H]); else the app's own
        `{domain}{prefix}/connect/token` (8.3+ and the sandbox)."""
        if self.token_url:
            return self.token_url
        scheme, _, host = self.domain.partition("://")
        if host.endswith(".creatio.com") and "/" not in host and ":" not in host:
            name = host[: -len(".creatio.com")]
            if name and not name.endswith("-is"):
                return f"{scheme}://{name}-is.creatio.com/connect/token"
        return f"{self.domain}{self.path_prefix}/connect/token"

    def fingerprint(self) -> str:
        """Identifies the session-relevant, non-secret params: a change means a new session."""
        parts = [self.domain, self.auth, self.username, self.client_id, self.oauth_token_url, self.path_prefix]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]
