"""The server's words: one catalog per language, the same codes in both, plural forms by CLDR's
rules, parameters filled in, the reader's language picked from the profile or Accept-Language."""

from __future__ import annotations

import json
import re

from bpmlink.kit.messages import LANGUAGES, catalog, message, pick_language, render

_PLURAL = re.compile(r"_(zero|one|two|few|many|other)$")


def _base(keys: set[str]) -> set[str]:
    return {_PLURAL.sub("", k) for k in keys}


def test_every_language_has_the_same_codes_and_the_same_params():
    en, ru = catalog("en"), catalog("ru")
    assert en and _base(set(en)) == _base(set(ru))
    params = re.compile(r"\{\{\s*(\w+)\s*\}\}")
    for code in set(en) & set(ru):
        assert set(params.findall(en[code])) == set(params.findall(ru[code])), code


def test_render_fills_params_and_picks_russian_plural_forms():
    assert render("too_many_elements", {"count": 600, "limit": 500}, "ru") == "для каждого: 600 элементов, больше 500"
    assert render("step_key_twice", {"step": "lead"}, "en") == "the key «lead» is used twice"


def test_an_unknown_code_falls_back_to_the_english_text_then_the_code():
    assert message("no_such_code", "plain words").render("ru") == "plain words"
    assert render("no_such_code", {}, "ru") == "no_such_code"
    assert render("step_key_twice", {"step": "x"}, "de") == "the key «x» is used twice"


def test_the_readers_language_is_the_profiles_then_accept_language_by_weight():
    assert pick_language("en-US;q=0.5, ru-RU;q=0.9") == "ru"
    assert pick_language("de-DE, en;q=0.1") == "en"
    assert pick_language("ru", preferred="en") == "en"
    assert pick_language(None) == "en" and pick_language("ru;q=0") == "en"
    assert set(LANGUAGES) == {"ru", "en"}


def test_each_code_lives_in_one_area_file():
    from collections import Counter
    from pathlib import Path

    folder = Path(__file__).parents[1] / "bpmlink" / "kit" / "locales"
    for language in LANGUAGES:
        counts = Counter(code for path in (folder / language).glob("*.json") for code in json.loads(path.read_text()))
        assert [code for code, n in counts.items() if n > 1] == [], language


def test_the_api_and_connection_codes_render_in_russian():
    assert render("field_string_too_short", {"min_length": 3}, "ru") == "не короче 3 симв."
    assert render("connected_as_user", {"who": "Supervisor", "version": 4, "count": 5}, "ru") == (
        "Подключено как Supervisor: OData 4 работает (прочитано 5 записей Contact)."
    )
    nested = {"code": "field_required_empty", "params": {}, "text": "…"}
    assert render("field_error", {"field": "Name", "problem": nested}, "ru") == (
        "Name: поле обязательное, но значение получилось пустым"
    )
