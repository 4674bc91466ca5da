"""README.ru.md is kept in step with README.md: the same two commands, and only commands and settings
that the English README names too and that exist."""

import re
from pathlib import Path

from bpmlink.kit.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RU = (ROOT / "README.ru.md").read_text(encoding="utf-8")
EN = (ROOT / "README.md").read_text(encoding="utf-8")
COMMAND = re.compile(r"\b(make [a-z][a-z-]*|bpmlink [a-z][a-z-]+)\b")
SETTING = re.compile(r"\bBPMLINK_[A-Z0-9_]+\b")


def _section(text: str, title: str) -> str:
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _commands(text: str) -> set[str]:
    return set(COMMAND.findall(text))


def test_both_readmes_link_each_other_from_the_top():
    assert "(README.ru.md)" in EN.split("\n## ", 1)[0]
    assert "(README.md)" in RU.split("\n## ", 1)[0]


def test_the_two_commands_are_the_same_in_both():
    english = _commands(_section(EN, "The two commands").split("```")[1])
    russian = _commands(_section(RU, "Две команды").split("```")[1])
    assert english == russian == {"make up", "make test"}


def test_every_command_the_russian_readme_names_is_in_the_english_one():
    russian = _commands(RU)
    assert {"make up", "make test", "bpmlink add-user"} <= russian
    assert russian <= _commands(EN), russian - _commands(EN)


def test_every_setting_the_russian_readme_names_exists_and_is_in_the_english_one():
    russian = set(SETTING.findall(RU))
    known = {field.alias for field in Settings.model_fields.values() if field.alias}
    assert {"BPMLINK_SIGNUP", "BPMLINK_DEMO_LANGUAGE"} <= russian
    assert russian <= known, russian - known
    assert russian <= set(SETTING.findall(EN)), russian - set(SETTING.findall(EN))
