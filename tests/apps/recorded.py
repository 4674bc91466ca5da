"""Recorded requests of the source apps (`payloads/<app>/<name>.json`) and how a test sends them.

Each file is one request as the vendor documents it: method, headers, query, content type, the
body as sent (JSON, form or multipart text), a note saying where in the vendor's docs it comes
from, and for a signed request how the vendor signs it (`signature`: scheme, header, prefix). The
file holds no signature value: `signed` computes it from the vendor's published scheme, neither
from the catalog's declaration nor with the gateway's code, so a misreading on either side fails
the end-to-end run. A body that carries its secret (VK) writes `@SECRET@` where the secret goes.

Schemes: `secret_header` (the secret itself in `header`), `hmac_sha256_base64` (base64 HMAC-SHA256
of the raw body, after `prefix`), `timestamped_hmac_sha256_hex` (`t=<unix>,v1=<hex HMAC-SHA256 of
"<t>.<body>">`), `body_secret` (the secret inside the body).
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

PAYLOADS = Path(__file__).parent / "payloads"
SECRET_MARK = "@SECRET@"


@dataclass(frozen=True)
class Recorded:
    app: str
    name: str
    method: str
    content_type: str | None  # None: a request without a body (Facebook's subscription check)
    body: str
    note: str
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] | str = field(default_factory=dict)  # as sent, when the order or spelling matters
    signature: dict[str, str] = field(default_factory=dict)  # how the vendor signs: scheme, header, prefix
    client: str | None = None  # the sender's address, where the app is verified by it (YooKassa)

    def json(self) -> Any:
        return json.loads(self.body)

    def with_body(self, body: str) -> Recorded:
        return replace(self, body=body)

    def with_headers(self, **headers: str) -> Recorded:
        return replace(self, headers={**self.headers, **headers})

    def signed(self, secret: str, now: float | None = None) -> Recorded:
        """The request as its sender signs it with `secret`, by the vendor's scheme in the file."""
        body = self.body.replace(SECRET_MARK, secret)
        scheme, header = self.signature.get("scheme"), self.signature.get("header", "")
        raw = body.encode()
        if scheme == "secret_header":
            value = secret
        elif scheme == "hmac_sha256_base64":
            digest = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
            value = self.signature.get("prefix", "") + base64.b64encode(digest).decode()
        elif scheme == "hmac_sha256_hex":
            value = self.signature.get("prefix", "") + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        elif scheme == "timestamped_hmac_sha256_hex":
            t = int(time.time() if now is None else now)
            value = f"t={t},v1=" + hmac.new(secret.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
        else:  # "body_secret" (the mark replaced above) or unsigned
            return replace(self, body=body)
        return replace(self, body=body, headers={**self.headers, header: value})

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `httpx.AsyncClient.request(url=…, **kwargs)`."""
        headers = dict(self.headers)
        if self.content_type and not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = self.content_type
        return {"method": self.method, "params": self.query, "headers": headers, "content": self.body.encode()}


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
        signature=data.get("signature") or {},
        client=data.get("client"),
    )


def recorded_apps() -> set[str]:
    return {d.name for d in PAYLOADS.iterdir() if d.is_dir() and any(d.glob("*.json"))}


def names(app: str) -> list[str]:
    return sorted(p.stem for p in (PAYLOADS / app).glob("*.json"))
