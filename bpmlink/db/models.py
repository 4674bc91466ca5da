"""All ORM models. Every tenant table carries workspace_id; queries go through bpmlink.db.scoping."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from bpmlink.db.base import Base, IdMixin, TimestampMixin


class Role(enum.StrEnum):
    owner = "owner"
    editor = "editor"
    viewer = "viewer"


class BundleStatus(enum.StrEnum):
    stopped = "stopped"
    running = "running"  # polling trigger
    waiting = "waiting"  # webhook trigger
    error = "error"  # stopped by bpmlink itself; reason in status_reason


class EventState(enum.StrEnum):
    held = "held"  # arrived while the bundle was stopped; waits for the user's decision
    pending = "pending"  # stored, not yet known to be in the queue
    queued = "queued"  # handed to Redis
    done = "done"  # its operation reached a final status
    discarded = "discarded"  # the user chose to drop held events
    sample = "sample"  # captured for the wizard; never processed


class OperationStatus(enum.StrEnum):
    held = "held"
    queued = "queued"
    processing = "processing"
    retrying = "retrying"
    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    skipped_duplicate = "skipped_duplicate"
    not_found = "not_found"
    filtered = "filtered"
    failed = "failed"
    test = "test"  # a request that only checked the URL (a source app's test): kept, never pushed


# The column's check constraint (migration 0012 spells the same list): a status the code does not know is refused.
OPERATION_STATUSES_SQL = ",".join(f"'{s}'" for s in OperationStatus)

FINAL_STATUSES = frozenset(
    {
        OperationStatus.created,
        OperationStatus.updated,
        OperationStatus.unchanged,
        OperationStatus.skipped_duplicate,
        OperationStatus.not_found,
        OperationStatus.filtered,
        OperationStatus.failed,
        OperationStatus.test,
    }
)


def _fk(target: str, ondelete: str = "CASCADE") -> ForeignKey:
    return ForeignKey(target, ondelete=ondelete)


def _ws_fk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), _fk("workspaces.id"), nullable=False, index=True)


class Workspace(IdMixin, TimestampMixin, Base):
    __tablename__ = "workspaces"
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # Where incidents go: {"emails": [...], "webhook_url": "...", "failures_per_hour": n}.
    notifications: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'"))
    # The slow retries of a parked operation: {"delays_seconds": [...], "give_up_after_seconds": n}; None: the
    # default (bpmlink/retry_schedule.py).
    retry_schedule: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    email: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    # False while a signed-up user has not confirmed the e-mail address (email_confirmed_at is NULL then).
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Set by a link sent to the address (sign-up confirmation, invitation, password reset).
    email_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    language: Mapped[str] = mapped_column(String(2), nullable=False, default="en", server_default="en")
    # IANA name: how history times are shown, and the default zone of date conversions in mappings.
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC", server_default="UTC")
    # False until the person chooses (profile) or the first login brings the browser's: until then the
    # value above is a placeholder that login replaces (bpmlink.accounts.adopt_browser_locale).
    language_set: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=text("false"))
    timezone_set: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=text("false"))
    __table_args__ = (CheckConstraint("language in ('ru','en')", name="language"),)


class Membership(TimestampMixin, Base):
    __tablename__ = "memberships"
    workspace_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), _fk("workspaces.id"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), _fk("users.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    __table_args__ = (CheckConstraint("role in ('owner','editor','viewer')", name="role"),)


class UserSession(TimestampMixin, Base):
    """A browser session. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "user_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), _fk("users.id"), nullable=False, index=True)
    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)


class TokenPurpose(enum.StrEnum):
    confirm = "confirm"  # the e-mail address of a signed-up user
    reset = "reset"  # a forgotten password
    invite = "invite"  # joining a workspace


class Invitation(IdMixin, TimestampMixin, Base):
    """An owner's invitation of an e-mail address into the workspace; its link is an AccountToken."""

    __tablename__ = "invitations"
    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), _fk("users.id", "SET NULL"))
    # When the link was e-mailed; NULL: it was shown to the owner to pass on (no SMTP).
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (CheckConstraint("role in ('owner','editor','viewer')", name="role"),)


class AccountToken(IdMixin, TimestampMixin, Base):
    """A single-use, expiring link token (bpmlink.accounts issues and consumes them).

    Only the SHA-256 of the 256-bit random token is stored, as for sessions and API keys.
    """

    __tablename__ = "account_tokens"
    purpose: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), _fk("users.id"), index=True)
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), _fk("invitations.id"), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("purpose in ('confirm','reset','invite')", name="purpose"),
        # An invitation token names its invitation; the others name their user.
        CheckConstraint(
            "(purpose = 'invite' AND invitation_id IS NOT NULL) OR (purpose <> 'invite' AND user_id IS NOT NULL)",
            name="subject",
        ),
    )


class ApiKey(IdMixin, TimestampMixin, Base):
    """A key for scripts. Keys are 256-bit random strings, so a SHA-256 digest is a safe hash."""

    __tablename__ = "api_keys"
    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), _fk("users.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Connection(IdMixin, TimestampMixin, Base):
    __tablename__ = "connections"
    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    app: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    # Fernet token of the JSON object of secrets; never leaves the shared package decrypted.
    secrets_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    secret_names: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    # The last test's result ({ok, stage, code, params, message, at}), so the list tells a broken one apart.
    last_test: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class Bundle(IdMixin, TimestampMixin, Base):
    __tablename__ = "bundles"
    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=BundleStatus.stopped)
    status_reason: Mapped[str | None] = mapped_column(Text)
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    config_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    source_app: Mapped[str] = mapped_column(String(64), nullable=False)
    source_connection_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), _fk("connections.id", "RESTRICT")
    )
    target_connection_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), _fk("connections.id", "RESTRICT")
    )
    # The webhook token is a credential: its SHA-256 (looked up by the gateway) and the token encrypted (to show
    # the URL), never the token itself; see bpmlink.webhooks.
    webhook_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    webhook_token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Fernet token of {"secret": …} for webhook verification (header_secret / hmac_sha256); see bpmlink.webhooks.
    webhook_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Fernet token of the trigger's secret config fields (Telegram's bot token), kept out of `config`;
    # see bpmlink.bundle_secrets.
    config_secrets_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    capture_sample: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    sample: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The webhook URL's own limit, requests per minute; null: the setting's (bpmlink.hook_limits). Not in
    # `config`: changing how fast a URL takes requests is no new version of what the bundle does.
    webhook_rate_per_minute: Mapped[int | None] = mapped_column(Integer)
    # The required fields its last save left unmapped ([{step, field}]): saved as a draft, never started.
    missing: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("status in ('stopped','running','waiting','error')", name="status"),
        CheckConstraint("webhook_rate_per_minute between 60 and 600000", name="webhook_rate"),
    )


class BundleVersion(Base):
    """Every saved configuration, so an operation can say (and replay) the version it ran with."""

    __tablename__ = "bundle_versions"
    bundle_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), _fk("bundles.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PollState(Base):
    __tablename__ = "poll_states"
    bundle_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), _fk("bundles.id"), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    cursor: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    interval_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=5)
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_polled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    # Consecutive failed polls; repeated permanent failures put the bundle in `error`.
    failures: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0, server_default="0")
    # The last backfill's progress: status, cursor, found/stored counts, error (see bpmlink_worker.polling).
    backfill: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    __table_args__ = (
        CheckConstraint("interval_minutes between 1 and 1440", name="interval"),
        # The scheduler's one query: due, enabled polls (next_due_at is NULL while stopped).
        Index("ix_poll_states_due", "next_due_at", postgresql_where=text("next_due_at IS NOT NULL")),
    )


class SheetRow(Base):
    """A row of a `sheet_url` bundle's sheet already seen, by the hashes of its key and of its values
    (`bpmlink.sources.sheet_rows`): a poll stores only rows whose key (or, when changed rows count, whose
    values) is not here. A table, not the cursor: a sheet may have 100,000 rows."""

    __tablename__ = "sheet_rows"
    bundle_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), _fk("bundles.id"), primary_key=True)
    key_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    row_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class Event(IdMixin, Base):
    """One raw source item, stored before anything else happens (invariant 1)."""

    __tablename__ = "events"
    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    bundle_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), _fk("bundles.id"), nullable=False)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    origin: Mapped[str] = mapped_column(String(16), nullable=False)  # webhook | poll | backfill | import
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=EventState.pending)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    source_item_key: Mapped[str | None] = mapped_column(String(200))
    request: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # method, headers, query (redacted)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    item: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        UniqueConstraint("bundle_id", "idempotency_key"),
        UniqueConstraint("bundle_id", "source_item_key"),
        # The sweeper's query: stored but never handed to Redis.
        Index("ix_events_unqueued", "received_at", postgresql_where=text("state = 'pending'")),
        Index("ix_events_bundle_state", "bundle_id", "state"),
    )


class Operation(IdMixin, Base):
    """The history entry for one event. Pruned by age with an indexed sweep (see README)."""

    __tablename__ = "operations"
    workspace_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    bundle_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), _fk("bundles.id"), nullable=False)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), _fk("events.id"), nullable=False, unique=True)
    config_version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    attempts: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    record_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    error: Mapped[str | None] = mapped_column(Text)
    # The error (or note) as a message code + params (bpmlink.kit.messages.Message, dumped): history
    # renders it in the reader's language; `error` keeps its English for old clients.
    message: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    source_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    mapped_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # What each bundle step did (bpmlink.step_results.StepResult, dumped): a replay resumes from it.
    step_results: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    # What an update changed, {column: [old, new]} (None for a create or when nothing changed).
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Parked after its fast tries (status `retrying`): since when, and when the next slow try is due.
    parked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Lower-cased scalar values of the source and mapped data and the record id, so history can be
    # searched by an e-mail, a phone or a GUID through a GIN index at any table size.
    search_terms: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'"))
    __table_args__ = (
        Index("ix_operations_search_terms", "search_terms", postgresql_using="gin"),
        # History newest-first per bundle, and the same with a status filter (keyset pages).
        Index("ix_operations_bundle_newest", "bundle_id", text("created_at DESC"), text("id DESC")),
        Index("ix_operations_bundle_status_newest", "bundle_id", "status", text("created_at DESC"), text("id DESC")),
        Index("ix_operations_workspace_newest", "workspace_id", text("created_at DESC"), text("id DESC")),
        # The retention sweep deletes by age in small batches through this index.
        Index("ix_operations_created_at", "created_at"),
        # The sweeper's second query: operations not finished for a long time (a lost queue).
        Index(
            "ix_operations_unfinished",
            "updated_at",
            postgresql_where=text("status IN ('queued', 'retrying', 'processing')"),
        ),
        # Parked operations by when they are due (the worker's parking jobs).
        Index("ix_operations_parked_due", "next_attempt_at", postgresql_where=text("next_attempt_at IS NOT NULL")),
        CheckConstraint(f"status in ({OPERATION_STATUSES_SQL})", name="status"),
    )


class Step(Base):
    """One request to a system made while processing an operation."""

    __tablename__ = "steps"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), _fk("operations.id"), nullable=False)
    attempt: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=1)
    position: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    system: Mapped[str] = mapped_column(String(32), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    request_headers: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    request_body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(SmallInteger)
    response_body: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    __table_args__ = (Index("ix_steps_operation", "operation_id", "attempt", "position"),)


class Incident(Base):
    """One notification per incident: the unique key makes a second send of the same one a no-op."""

    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    bundle_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), _fk("bundles.id"), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # bundle_error | failures
    message: Mapped[str] = mapped_column(Text, nullable=False)  # the English text
    message_code: Mapped[str | None] = mapped_column(String(64))  # None: opened before codes (0021)
    message_params: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivery: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # per channel: "sent" or the error


class Import(IdMixin, Base):
    """An uploaded CSV/XLSX file for a `csv_import` bundle; its rows become events (bpmlink.imports)."""

    __tablename__ = "imports"
    workspace_id: Mapped[uuid.UUID] = _ws_fk()
    bundle_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), _fk("bundles.id"), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    file_format: Mapped[str] = mapped_column(String(8), nullable=False)  # csv | xlsx
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, deferred=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")  # queued|running|done|failed
    # Committed with every batch: a job that dies resumes after the last row it stored.
    rows_found: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    rows_stored: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("status in ('queued','running','done','failed')", name="status"),
        Index("ix_imports_bundle_newest", "bundle_id", text("created_at DESC"), text("id DESC")),
    )


class AuditEntry(Base):
    """Who created, changed, started, stopped or deleted something in a workspace (bpmlink.audit).

    Written in the transaction of the change itself, so an entry exists exactly when the change
    does. The name is copied because the entity may be deleted later; details never hold secrets.
    """

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), _fk("workspaces.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    # A removed user leaves their entries behind, without an actor.
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), _fk("users.id", "SET NULL"))
    via: Mapped[str] = mapped_column(String(16), nullable=False)  # session | api_key | cli | system
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_id: Mapped[str | None] = mapped_column(String(64))
    entity_name: Mapped[str] = mapped_column(String(300), nullable=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'"))
    __table_args__ = (
        # The settings page reads newest first per workspace (keyset pages on (at, id)).
        Index("ix_audit_log_workspace_newest", "workspace_id", text("at DESC"), text("id DESC")),
    )
