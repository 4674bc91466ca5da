"""A message a person reads, as a stable `code` with `params` (DESIGN.md "Messages in the user's
language"): the SPA and the API render it in the reader's language; `text` is the English words,
for logs and for clients that know no codes. What bpm'online itself answered goes in `remote`,
shown as it wrote it.

The words live in one place for both: `locales/<lang>/<area>.json` beside this module (flat
`"code": "text with {{param}}"`, i18next's format, plural forms as `code_one`/`code_few`/`code_many`/
`code_other` chosen by `count`); the SPA imports the same files as its `server` namespace.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "en"
_LOCALES = Path(__file__).with_name("locales")
_PARAM = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    params: dict[str, Any] = {}
    text: str
    remote: str | None = None  # bpm'online's own words, when the message is about its answer

    def render(self, language: str) -> str:
        """The message in `language` (its English `text` when the catalog has no such code)."""
        return render(self.code, self.params, language, fallback=self.text)


def flat(words: Message, language: str) -> dict[str, Any]:
    """A message in an answer that already has a `code` of its own (an API error, a connection test):
    `message` rendered in `language`, `message_code`, `params`, the English `text`, `remote`."""
    return {
        "message": words.render(language),
        "message_code": words.code,
        "params": words.params,
        "text": words.text,
        "remote": words.remote,
    }


def message(code: str, text: str, *, remote: str | None = None, **params: Any) -> Message:
    """`message("step_not_run", "…", step="contact")`: the English `text` may name the params."""
    return Message(code=code, params=params, text=text, remote=remote)


@lru_cache(maxsize=len(LANGUAGES))
def catalog(language: str) -> dict[str, str]:
    """Every code's words in `language`: the JSON files of `locales/<language>/`, merged."""
    words: dict[str, str] = {}
    folder = _LOCALES / language
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        words.update(json.loads(path.read_text(encoding="utf-8")))
    return words


def _plural_form(language: str, count: Any) -> str:
    """CLDR's cardinal categories for the two languages (what i18next picks too)."""
    try:
        n = abs(int(count))
    except (TypeError, ValueError):
        return "other"
    if language == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    return "one" if n == 1 else "other"


def render(code: str, params: Mapping[str, Any], language: str, *, fallback: str | None = None) -> str:
    """The words for `code` in `language` (then English, then `fallback`, then the code), with
    `{{param}}` filled in."""
    words = None
    for lang in dict.fromkeys((language if language in LANGUAGES else DEFAULT_LANGUAGE, DEFAULT_LANGUAGE)):
        found = catalog(lang)
        if "count" in params:
            words = found.get(f"{code}_{_plural_form(lang, params['count'])}")
        words = words or found.get(code)
        if words is not None:
            break
    if words is None:
        return fallback if fallback is not None else code
    return _PARAM.sub(lambda m: _show(params.get(m.group(1), ""), language), words)


def _show(value: Any, language: str) -> str:
    """A param as words: a list joined, a message in it (a Message, or its dict as stored) rendered."""
    if isinstance(value, list | tuple):
        return ", ".join(_show(v, language) for v in value)
    if isinstance(value, Message):
        return value.render(language)
    if isinstance(value, Mapping) and isinstance(value.get("code"), str):
        return render(value["code"], value.get("params") or {}, language, fallback=value.get("text"))
    return str(value)


def pick_language(accept_language: str | None, preferred: str | None = None) -> str:
    """The reader's language: their profile's when set, else the first of Accept-Language we speak
    (by its q weights), else English."""
    if preferred in LANGUAGES:
        return preferred
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, rest = part.strip().partition(";")
        q = 1.0
        if rest.strip().startswith("q="):
            try:
                q = float(rest.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().lower()[:2]
        if lang in LANGUAGES and q > 0:
            ranked.append((-q, i, lang))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE
