"""Password hashing, random tokens and encryption of connection secrets."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bpmlink.kit.logs import remember_secrets
from bpmlink.kit.settings import Settings

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A valid hash to verify against when the user does not exist, so timing does not reveal it.
DUMMY_PASSWORD_HASH = _hasher.hash(secrets.token_urlsafe(16))


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """SHA-256 of a high-entropy token (session cookie, API key): safe without a slow KDF."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class SecretBox:
    """Authenticated encryption (Fernet) of a JSON object, keyed from BPMLINK_SECRET_KEY.

    A MultiFernet: it encrypts with the current key and decrypts with it or any of
    BPMLINK_SECRET_KEY_PREVIOUS, so a new key can be rolled out before `bpmlink rotate-secrets`.
    """

    def __init__(self, settings: Settings) -> None:
        keys = settings.fernet_keys()
        self._current = Fernet(keys[0])
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def encrypt(self, data: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(data, separators=(",", ":")).encode())

    def decrypt(self, token: bytes | None) -> dict[str, Any]:
        if not token:
            return {}
        try:
            value = json.loads(self._fernet.decrypt(token))
        except InvalidToken as exc:
            raise ValueError("secrets cannot be decrypted: BPMLINK_SECRET_KEY changed?") from exc
        if not isinstance(value, dict):
            raise ValueError("secrets are not a JSON object")
        remember_secrets(value.values())  # a value this process holds must never reach its logs
        return value

    def is_current(self, token: bytes) -> bool:
        """Whether the current key alone decrypts the token (nothing to rotate)."""
        try:
            self._current.decrypt(token)
        except InvalidToken:
            return False
        return True

    def rotate(self, token: bytes) -> bytes:
        """The same plaintext under the current key; ValueError if no configured key reads it."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken as exc:
            raise ValueError("secrets cannot be decrypted with BPMLINK_SECRET_KEY or _PREVIOUS") from exc
