"""Errors of the mapping engine, worded for the person who built the bundle."""

from __future__ import annotations

from pydantic import BaseModel


class ConversionError(ValueError):
    """A value could not be converted; the engine adds the target field's name.

    Conversions and coercions raise this without knowing which field they serve,
    so that the same function can be used by filters, templates and rules.
    """


class MappingError(Exception):
    """A target field's value could not be built.

    `field` is the target field (e.g. ``"Email"``) or ``None`` when the problem is
    not about one field; `message` is plain words for the history and the wizard.
    """

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message

    def to_field_error(self) -> FieldError:
        return FieldError(field=self.field or "", message=self.message)


class FieldError(BaseModel):
    """One per-field problem, as returned to the pipeline and the wizard preview."""

    field: str
    message: str
