"""What every input schema of the api shares."""

from pydantic import BaseModel, ConfigDict


class Input(BaseModel):
    """A request body: a field the API does not know is refused (422 naming it), never silently dropped —
    a misspelt or misplaced field would otherwise look accepted and do nothing."""

    model_config = ConfigDict(extra="forbid")
