"""One Settings object, read from the environment and validated at start."""

from __future__ import annotations

import base64
import functools
import ipaddress
from typing import Annotated

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Values that look like secrets but are placeholders: refuse them outside dev.
_PLACEHOLDERS = {"changeme", "change-me", "secret", "dev", "test", ""}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: str = Field("development", alias="BPMLINK_ENV", pattern="^(development|test|production)$")
    database_url: str = Field("", alias="DATABASE_URL")
    redis_url: str = Field("", alias="REDIS_URL")
    secret_key: str = Field("", alias="BPMLINK_SECRET_KEY")
    # Old keys (comma-separated) kept only to decrypt what they encrypted, until `bpmlink rotate-secrets` ran.
    secret_key_previous: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="BPMLINK_SECRET_KEY_PREVIOUS", repr=False
    )
    data_dir: str = Field(".data", alias="BPMLINK_DATA_DIR")

    host: str = Field("127.0.0.1", alias="BPMLINK_HOST")
    api_port: int = Field(8000, alias="BPMLINK_API_PORT", ge=1, le=65535)
    gateway_port: int = Field(8001, alias="BPMLINK_GATEWAY_PORT", ge=1, le=65535)
    sandbox_port: int = Field(8002, alias="BPMLINK_SANDBOX_PORT", ge=1, le=65535)
    worker_port: int = Field(8003, alias="BPMLINK_WORKER_PORT", ge=1, le=65535)
    # Jobs held at once; event jobs mostly wait in a batch, so many cost little (bench.e2e: 100 → 400 per
    # process raised 200 ms-latency throughput 130 → 324 events/s).
    worker_concurrency: int = Field(400, alias="BPMLINK_WORKER_CONCURRENCY", ge=1, le=1000)
    # arq's job_timeout: a job running longer is cut (and retried).
    job_timeout_seconds: int = Field(300, alias="BPMLINK_JOB_TIMEOUT_SECONDS", ge=1, le=86400)
    # A running job's lease, renewed by its worker: the jobs of a worker that died are taken over after it.
    job_lease_seconds: float = Field(20.0, alias="BPMLINK_JOB_LEASE_SECONDS", ge=1, le=300)
    public_gateway_url: str = Field("", alias="BPMLINK_PUBLIC_GATEWAY_URL")
    # Where a Telegram bundle registers its URL (`setWebhook`) when it starts; tests point it at a stand-in.
    telegram_api_url: str = Field("https://api.telegram.org", alias="BPMLINK_TELEGRAM_API_URL")

    admin_email: str = Field("admin@bpmlink.local", alias="BPMLINK_ADMIN_EMAIL")
    admin_password: str = Field("", alias="BPMLINK_ADMIN_PASSWORD")

    session_ttl_hours: int = Field(12, alias="BPMLINK_SESSION_TTL_HOURS", ge=1, le=24 * 30)
    cookie_secure: bool = Field(False, alias="BPMLINK_COOKIE_SECURE")
    # Failed password checks in the window: per account from one client address (the tight limit, so an
    # attacker elsewhere never locks the real user out), per account from all addresses together (a looser
    # cap on a distributed guess), and per client address over all accounts (password spraying).
    login_max_attempts: int = Field(10, alias="BPMLINK_LOGIN_MAX_ATTEMPTS", ge=1)
    login_max_attempts_per_account: int = Field(100, alias="BPMLINK_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT", ge=1)
    login_max_attempts_per_address: int = Field(100, alias="BPMLINK_LOGIN_MAX_ATTEMPTS_PER_ADDRESS", ge=1)
    login_window_seconds: int = Field(300, alias="BPMLINK_LOGIN_WINDOW_SECONDS", ge=1)
    # Networks of the reverse proxies in front of the api and the gateway (comma-separated CIDRs). Only a
    # peer in them is believed about the client's address (X-Forwarded-For); empty: no one is.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="BPMLINK_TRUSTED_PROXIES")

    max_request_bytes: int = Field(1_048_576, alias="BPMLINK_MAX_REQUEST_BYTES", ge=1024)
    # CSV/XLSX uploads (POST /api/v1/bundles/{id}/import) may be this large; the file is kept in PostgreSQL.
    max_import_bytes: int = Field(50 * 1_048_576, alias="BPMLINK_MAX_IMPORT_BYTES", ge=1024)
    # Requests per minute accepted per webhook token (the gateway answers 429 above it); 0 turns the limit off.
    hook_rate_per_minute: int = Field(6000, alias="BPMLINK_HOOK_RATE_PER_MINUTE", ge=0)
    # The gateway answers 408 to a body not received in this many seconds, 429 to an address's request over
    # this many open at once (bpmlink_gateway/limits.py): slow senders cannot hold its connections.
    gateway_body_timeout: float = Field(10.0, alias="BPMLINK_GATEWAY_BODY_TIMEOUT", gt=0)
    gateway_max_requests_per_client: int = Field(64, alias="BPMLINK_GATEWAY_MAX_REQUESTS_PER_CLIENT", ge=1)
    history_retention_days: int = Field(30, alias="BPMLINK_HISTORY_RETENTION_DAYS", ge=1)
    # `json`: one JSON object a line for log collectors (bpmlink/kit/logs.py); `text` for people.
    log_format: str = Field("text", alias="BPMLINK_LOG_FORMAT", pattern="^(text|json)$")
    log_level: str = Field("INFO", alias="BPMLINK_LOG_LEVEL", pattern="^(DEBUG|INFO|WARNING|ERROR)$")

    # Incident e-mails (bundle in `error`, failures over the workspace's hourly threshold).
    smtp_host: str = Field("", alias="BPMLINK_SMTP_HOST")
    smtp_port: int = Field(587, alias="BPMLINK_SMTP_PORT", ge=1, le=65535)
    smtp_username: str = Field("", alias="BPMLINK_SMTP_USERNAME")
    smtp_password: str = Field("", alias="BPMLINK_SMTP_PASSWORD", repr=False)
    smtp_starttls: bool = Field(True, alias="BPMLINK_SMTP_STARTTLS")
    smtp_from: str = Field("bpmlink@localhost", alias="BPMLINK_SMTP_FROM")

    # Accounts: who may sign up, where the links in account e-mails point, how long they work.
    signup: str = Field("invite", alias="BPMLINK_SIGNUP", pattern="^(open|invite|closed)$")
    public_url: str = Field("http://127.0.0.1:8000", alias="BPMLINK_PUBLIC_URL")
    invitation_ttl_hours: int = Field(168, alias="BPMLINK_INVITATION_TTL_HOURS", ge=1, le=24 * 90)
    reset_ttl_hours: int = Field(2, alias="BPMLINK_RESET_TTL_HOURS", ge=1, le=72)
    confirm_ttl_hours: int = Field(48, alias="BPMLINK_CONFIRM_TTL_HOURS", ge=1, le=24 * 30)
    # Public POSTs that send mail (sign-up, forgotten password), per address and per client IP in the window.
    mail_max_per_address: int = Field(5, alias="BPMLINK_MAIL_MAX_PER_ADDRESS", ge=1)
    mail_max_per_ip: int = Field(30, alias="BPMLINK_MAIL_MAX_PER_IP", ge=1)
    mail_window_seconds: int = Field(3600, alias="BPMLINK_MAIL_WINDOW_SECONDS", ge=1)

    # Outbound requests to private/loopback/link-local addresses are refused unless the
    # host (name or address, optional :port) is on this list.
    outbound_allow_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="BPMLINK_OUTBOUND_ALLOW_HOSTS"
    )

    @field_validator("outbound_allow_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, v: object) -> object:
        if isinstance(v, str):
            return [h.strip().lower() for h in v.split(",") if h.strip()]
        return v

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_networks(cls, v: object) -> object:
        if isinstance(v, str):
            v = [n.strip() for n in v.split(",") if n.strip()]
        if not isinstance(v, list):
            return v
        try:  # normalised (10.1.2.3/8 → 10.0.0.0/8): the proxy middleware ignores what it cannot parse
            return [str(ipaddress.ip_network(str(n), strict=False)) for n in v]
        except ValueError as exc:
            raise ValueError(f"BPMLINK_TRUSTED_PROXIES: {exc}") from None

    @field_validator("secret_key_previous", mode="before")
    @classmethod
    def _split_keys(cls, v: object) -> object:
        if isinstance(v, str):
            return [k.strip() for k in v.split(",") if k.strip()]
        return v

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("BPMLINK_PUBLIC_URL must be an http:// or https:// URL")
        return v.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, v: str) -> str:
        if v and not v.startswith(("postgresql://", "postgresql+asyncpg://", "postgres://")):
            raise ValueError("DATABASE_URL must be a postgresql:// URL")
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, v: str) -> str:
        if v and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("REDIS_URL must be a redis://, rediss:// or unix:// URL")
        return v

    @model_validator(mode="after")
    def _production_needs_real_values(self) -> Settings:
        if self.environment == "production":
            if self.secret_key.lower() in _PLACEHOLDERS or len(self.secret_key) < 32:
                raise ValueError("BPMLINK_SECRET_KEY must be set to at least 32 random characters in production")
            if not self.database_url or not self.redis_url:
                raise ValueError("DATABASE_URL and REDIS_URL are required in production")
        return self

    @property
    def async_database_url(self) -> str:
        """The URL for SQLAlchemy's asyncpg dialect."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix) :]
        return url

    def fernet_key(self) -> bytes:
        """A Fernet key derived from BPMLINK_SECRET_KEY (any length) with HKDF."""
        if not self.secret_key:
            raise RuntimeError("BPMLINK_SECRET_KEY is not set")
        return _derive_fernet_key(self.secret_key)

    def fernet_keys(self) -> list[bytes]:
        """The current key first (it encrypts), then each of BPMLINK_SECRET_KEY_PREVIOUS (they only decrypt)."""
        keys = [self.fernet_key()]
        for old in self.secret_key_previous:
            derived = _derive_fernet_key(old)
            if derived not in keys:
                keys.append(derived)
        return keys

    def is_allowed_host(self, host: str, port: int | None = None) -> bool:
        host = host.lower().strip("[]")
        return host in self.outbound_allow_hosts or (port is not None and f"{host}:{port}" in self.outbound_allow_hosts)


def _derive_fernet_key(secret: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"bpmlink", info=b"fernet").derive(secret.encode())
    return base64.urlsafe_b64encode(raw)


def is_private_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast


def settings_or_exit() -> Settings:
    """The settings for a process entry point: a bad value stops it with a message naming the variable."""
    try:
        return get_settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            names = [str(part) for part in error["loc"]]
            lines.append(f"  {'.'.join(names) or 'settings'}: {error['msg']}")
        raise SystemExit("bpmlink: invalid settings\n" + "\n".join(lines)) from None


@functools.cache
def get_settings() -> Settings:
    return Settings()
