"""Errors of the mapping engine, worded for the person who built the bundle."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bpmlink.kit.messages import Message


class MappingError(Exception):
    """A target field's value could not be built.

    `field` is the target field (e.g. ``"Email"``) or ``None`` when the problem is
    not about one field; `message` is plain words for the history and the wizard, `code` and
    `params` the same as a message code (locales/*/operations.json) where it was raised.
    """

    def __init__(
        self, field: str | None, message: str, *, code: str | None = None, params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message
        self.code = code
        self.params: dict[str, Any] = dict(params or {})

    def words(self) -> Message:
        """The error as a message: «field: problem» (`field_error`) with the problem's own code."""
        problem = Message(code=self.code or "mapping_problem", params=self.params, text=self.message)
        if not self.field:
            return problem
        return field_error(self.field, problem)

    def __reduce__(self) -> tuple[Any, ...]:
        # Whatever the subclass's __init__ takes: an error raised in a quarantine process crosses by pickle.
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[MappingError], args: tuple[Any, ...], state: dict[str, Any]) -> MappingError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ConversionError(MappingError, ValueError):
    """A value could not be converted.

    Raised without a field by the parsers and steps (the same function serves
    filters, templates and rules) and with the target field by `run_conversions`
    when it is given one; the engine fills the field in otherwise. A ValueError
    too, so that pydantic validators report it as a validation error.
    """

    def __init__(
        self, message: str, field: str | None = None, *, code: str | None = None, params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(field, message, code=code, params=params)


class FieldError(BaseModel):
    """One per-field problem, as returned to the pipeline and the wizard preview; the save checks
    give a stable `code` and `params` beside the English message."""

    field: str
    message: str
    code: str | None = None
    params: dict[str, Any] = {}

    def words(self) -> Message:
        problem = Message(code=self.code or "mapping_problem", params=self.params, text=self.message)
        return field_error(self.field, problem)


def field_error(field: str, problem: Message) -> Message:
    """«Name: the field is required but came out empty»: the field by its code name, the problem
    in the reader's words."""
    return Message(
        code="field_error",
        params={"field": field, "problem": problem.model_dump(exclude_none=True)},
        text=f"{field}: {problem.text}",
    )
