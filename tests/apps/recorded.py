"""Recorded requests of the source apps (`payloads/<app>/<name>.json`) and how a test sends them.

Each file is one request as the vendor documents it: method, headers, query, content type, the
body as sent (JSON, form or multipart text) and a note saying where in the vendor's docs it comes
from. A file holds no signature: `signed` adds the one the app's verification asks for, computed
here from the vendor's published scheme (not with the gateway's code, so a misreading on one side
shows). A body that carries its secret (VK) writes `@SECRET@` where the secret goes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bpmlink.catalog.model import Verification

PAYLOADS = Path(__file__).parent / "payloads"
SECRET_MARK = "@SECRET@"


@dataclass(frozen=True)
class Recorded:
    app: str
    name: str
    method: str
    content_type: str
    body: str
    note: str
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)

    def with_body(self, body: str) -> Recorded:
        return replace(self, body=body)

    def with_headers(self, **headers: str) -> Recorded:
        return replace(self, headers={**self.headers, **headers})

    def signed(
        self, verification: Verification, secret: str, now: float | None = None, header: str | None = None
    ) -> Recorded:
        """The request as its sender signs it with `secret` under the app's verification (`header`:
        the header's name when the user names it, as Tilda's API key)."""
        body = self.body.replace(SECRET_MARK, secret)
        raw = body.encode()
        header = header or verification.header or ""
        if verification.mode == "header_secret":
            return replace(self, body=body, headers={**self.headers, header: secret})
        if verification.mode == "hmac_sha256":
            digest = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
            value = base64.b64encode(digest).decode() if verification.encoding == "base64" else digest.hex()
            return replace(self, body=body, headers={**self.headers, header: verification.prefix + value})
        if verification.mode == "timestamped_hmac":
            t = int(time.time() if now is None else now)
            v1 = hmac.new(secret.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
            return replace(self, body=body, headers={**self.headers, header: f"t={t},v1={v1}"})
        return replace(self, body=body)

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `httpx.AsyncClient.request(url=…, **kwargs)`."""
        return {
            "method": self.method,
            "params": self.query,
            "headers": {**self.headers, "Content-Type": self.content_type},
            "content": self.body.encode(),
        }


def load(app: str, name: str) -> Recorded:
    data = json.loads((PAYLOADS / app / f"{name}.json").read_text())
    return Recorded(
        app=app,
        name=name,
        method=data["method"],
        content_type=data["content_type"],
        body=data["body"],
        note=data["note"],
        headers=data.get("headers", {}),
        query=data.get("query", {}),
    )


def recorded_apps() -> set[str]:
    return {d.name for d in PAYLOADS.iterdir() if d.is_dir() and any(d.glob("*.json"))}


def names(app: str) -> list[str]:
    return sorted(p.stem for p in (PAYLOADS / app).glob("*.json"))
