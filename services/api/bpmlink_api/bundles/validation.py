"""Checks a bundle must pass before it is saved: catalog, connections, the entity's fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.errors import BpmError
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.bundle_config import BundleConfig
from bpmlink.catalog import App, Trigger, get_app
from bpmlink.connections import get_connection
from bpmlink.intake.networks import NetworkListError, parse_networks
from bpmlink.intake.rules import NotAWebhook, UnknownVerification, webhook_rules
from bpmlink.kit.messages import message
from bpmlink.kit.web import InvalidInput, first_problem
from bpmlink.mapping.filters import check_filter
from bpmlink.mapping.types import TargetField
from bpmlink.sources import FetchEnv, SourceError, get_source, needs_no_connection, no_connection
from bpmlink.targets import target_fields
from bpmlink_api.deps import RequestContext
from bpmlink_api.errors import UpstreamError

from .step_checks import connections_of, metadata_of, step_problems, structure_problems


def _p(field: str, message: str, code: str | None = None, **params: Any) -> dict[str, Any]:
    """A field's problem: the English message, and for newer checks the `code` and `params` the SPA renders."""
    problem: dict[str, Any] = {"field": field, "message": message}
    return problem if code is None else {**problem, "code": code, "params": params}


def _raise(problems: Sequence[Mapping[str, Any]]) -> None:
    if problems:
        raise InvalidInput(first_problem(problems), details=problems)


def check_user_code(config: BundleConfig) -> None:
    """Raise InvalidInput for the filter's and the conditions' patterns RE2 refuses, filters or
    mappings over their caps (the bounds of `bpmlink.mapping.budget`), and steps that read a later
    or unknown step: the checks that need no bpm'online."""
    problems = [_p(field, message) for field, message in check_filter(config.filter)] if config.filter else []
    _raise(problems + structure_problems(config.steps))


def needs_connection(app: App, trigger: Trigger | None) -> bool:
    """A trigger that reads its source back needs the source connection, whatever else is declared;
    otherwise as the trigger, else the app declares (a polled app may need none: sheet_url fetches a
    public link)."""
    if trigger is not None and trigger.readback is not None:
        return True
    if trigger is not None and trigger.needs_connection is not None:
        return trigger.needs_connection
    return app.needs_connection


async def validate(ctx: RequestContext, config: BundleConfig) -> tuple[Trigger, list[dict[str, str]]]:
    """Raise InvalidInput naming every bad field; return the source trigger and the required fields
    left unmapped (`[{step, field}]`): those do not refuse the save, a draft is saved incomplete and
    refused at start (`lifecycle.start`)."""
    check_user_code(config)
    problems: list[dict[str, Any]] = []
    app = get_app(config.source.app)
    trigger = app.trigger(config.source.trigger) if app else None
    if app is None or not app.is_source:
        problems.append(_p("source.app", f"no source app {config.source.app!r}"))
    elif trigger is None:
        problems.append(_p("source.trigger", f"{app.key} has no trigger {config.source.trigger!r}"))
    else:
        problems += check_trigger_config(app.key, trigger, config.source.config)
    if app is not None and needs_connection(app, trigger):
        if config.source.connection_id is None:
            problems.append(_p("source.connection_id", "this source needs a connection"))
        else:
            source = await get_connection(ctx.session, ctx.workspace_id, config.source.connection_id)
            if source is None or source.app != app.key:
                problems.append(_p("source.connection_id", f"no {app.key} connection with this id"))
    connections, unknown = await connections_of(ctx, config.steps)
    _raise(problems + unknown)
    assert trigger is not None
    if trigger.kind == "polling" and needs_no_connection(config.source.app):
        await check_source(ctx, config)
    try:
        metadata = await metadata_of(ctx, connections)
    except BpmError as exc:
        raise UpstreamError(
            message("fields_unreadable", f"could not read the fields from bpm'online: {exc}", remote=str(exc))
        ) from exc
    missing: list[dict[str, str]] = []
    for i, step in enumerate(config.steps):
        for problem in step_problems(i, step, metadata[step.connection_id]):
            if problem.get("code") == "field_required":
                missing.append({"step": step.key, "field": problem["params"]["field"]})
            else:
                problems.append(problem)
    _raise(problems)
    return trigger, missing


def check_trigger_config(app_key: str, trigger: Trigger, config: dict[str, Any]) -> list[dict[str, Any]]:
    """A choice among the field's options, and for a webhook the networks its verification reads."""
    problems = []
    for spec in trigger.config_fields:
        value = config.get(spec.name)
        if spec.type == "select" and spec.options and value not in (None, "") and str(value) not in spec.options:
            options = ", ".join(map(repr, spec.options))
            problems.append(
                _p(f"source.config.{spec.name}", f"must be one of {options}", "not_an_option", options=spec.options)
            )
    if trigger.kind != "webhook":
        return problems
    try:
        verification = webhook_rules(app_key, trigger.key, config).verification
    except (NotAWebhook, UnknownVerification):
        return problems  # named above: the select's options
    if verification.mode != "address" or not verification.networks_field:
        return problems
    field = f"source.config.{verification.networks_field}"
    networks = config.get(verification.networks_field)
    try:
        if not parse_networks(networks if isinstance(networks, str) else "") and not verification.networks:
            problems.append(_p(field, "at least one network is required for address verification", "networks_required"))
    except NetworkListError as exc:
        problems.append(_p(field, str(exc), exc.code, **exc.params))
    return problems


async def check_source(ctx: RequestContext, config: BundleConfig) -> None:
    """A polling source without a connection has no connection test: its first rows are fetched at
    save instead (`sheet_url`: the link answers a sheet, and the key column is in it)."""
    source = get_source(config.source.app)
    if source is None:
        return
    trigger = {**config.source.config, "trigger": config.source.trigger}
    recorder = StepRecorder(system=config.source.app)
    try:
        await source.fetch(no_connection(config.source.app), trigger, None, 1, recorder, FetchEnv(ctx.settings))
    except SourceError as exc:
        # A source names the trigger field at fault in its error's params, when it knows one.
        field = "source.config" + (f".{exc.params['field']}" if exc.params.get("field") else "")
        problem = {"field": field, "message": exc.message, "code": exc.code, "params": exc.params}
        raise InvalidInput(f"{problem['field']}: {exc.message}", details=[problem]) from exc


async def entity_fields(client: BpmClient, entity: str) -> dict[str, TargetField] | None:
    """The entity's writable fields from $metadata (None if there is no such entity)."""
    try:
        metadata = await client.metadata()
    except BpmError as exc:
        raise UpstreamError(
            message("fields_unreadable", f"could not read the fields from bpm'online: {exc}", remote=str(exc))
        ) from exc
    info = metadata.entities.get(entity)
    return target_fields(info) if info else None
