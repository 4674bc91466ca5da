import tracemalloc

import pytest

from bpmlink.mapping import templates
from bpmlink.mapping.templates import MAX_SIZE, TemplateError, TemplateTimeout, check_template, render_template

ITEM = {
    "first_name": "Иван",
    "last_name": "O'Brien",
    "items": [{"name": "tea", "qty": 2}, {"name": "cake", "qty": 1}],
    "first name": "Ann",
    "phone": "8 916 123-45-67",
    "created": "27.11.2026 10:30",
    "none": None,
}


def render(source, item=ITEM, **kwargs):
    return render_template(source, item, **kwargs)


def test_renders_item_fields():
    assert render("{{ first_name }} {{ last_name }}") == "Иван O'Brien"


def test_missing_value_renders_empty():
    assert render("[{{ missing }}|{{ missing.deeper.still }}|{{ none }}]") == "[||]"


def test_item_variable_reaches_keys_that_are_not_names():
    assert render('{{ item["first name"] }}') == "Ann"


def test_dict_key_wins_over_dict_method():
    assert render("{% for i in items %}{{ i.name }}x{{ i.qty }} {% endfor %}") == "teax2 cakex1 "


def test_slicing_and_indexing():
    assert render("{{ first_name[1:3] }} {{ items[0]['name'] }} {{ items[-1].name }}") == "ва tea cake"


def test_useful_builtin_filters():
    assert render("{{ last_name|upper }} {{ items|map(attribute='name')|join(', ') }}") == "O'BRIEN tea, cake"


def test_phone_filter_uses_default_region():
    assert render("{{ phone|phone_e164 }}", default_phone_region="RU") == "+79161234567"


def test_date_filters():
    source = "{{ created|to_date('%d.%m.%Y %H:%M', 'Europe/Moscow')|utc }}"
    assert render(source) == "2026-11-27T07:30:00Z"


def test_coalesce_filter():
    assert render("{{ none|coalesce(missing, last_name) }}") == "O'Brien"


def test_bad_value_in_filter_is_a_template_error():
    with pytest.raises(TemplateError, match="is not a number"):
        render("{{ last_name|to_number }}")


def test_syntax_error_names_the_line():
    with pytest.raises(TemplateError, match="syntax error on line 2"):
        check_template("ok\n{% if %}")


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ item.__class__ }}",
        "{{ items.pop.__self__ }}",
        "{{ items.__len__ }}",
        "{{ item['__class__'] }}",
    ],
)
def test_sandbox_escape_is_refused(source):
    with pytest.raises(TemplateError, match="not allowed"):
        render(source)


@pytest.mark.parametrize("name", ["cycler", "joiner", "namespace", "lipsum", "dict", "self"])
def test_no_globals_besides_range(name):
    with pytest.raises(TemplateError):
        render("{{ " + name + "() }}")


def test_range_is_limited():
    with pytest.raises(TemplateError, match="range"):
        render("{% for i in range(10**9) %}x{% endfor %}")


def test_small_range_works():
    assert render("{% for i in range(3) %}{{ i }}{% endfor %}") == "012"


class FakeClock:
    """`time` for the templates module: each reading of `monotonic()` moves the clock `step` seconds on,
    so the deadline is reached after a known number of checks, however fast the machine is."""

    def __init__(self, step: float) -> None:
        self.start = self.now = 1000.0
        self.step = step

    def monotonic(self) -> float:
        self.now += self.step
        return self.now

    @property
    def elapsed(self) -> float:
        return self.now - self.start


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock(step=1 / 64)
    monkeypatch.setattr(templates, "time", fake)
    return fake


# One reading sets the deadline, the first one past it raises: the render stops within two steps of the limit.
NESTED_LOOPS = "{% for i in range(10000) %}{% for j in range(10000) %}{{ '' }}{% endfor %}{% endfor %}"


def test_template_timeout_stops_nested_loops(clock):
    with pytest.raises(TemplateTimeout):
        render(NESTED_LOOPS, time_limit=0.25)
    assert 0.25 < clock.elapsed <= 0.25 + 2 * clock.step


def test_default_time_limit_is_one_second(clock):
    with pytest.raises(TemplateTimeout):
        render(NESTED_LOOPS)
    assert 1.0 < clock.elapsed <= 1.0 + 2 * clock.step


def test_a_render_within_the_limit_is_not_stopped(clock):
    assert render("{% for i in range(10) %}{{ i }}{% endfor %}", time_limit=1.0) == "0123456789"
    assert clock.elapsed < 1.0


def test_concatenation_inside_expressions_still_works():
    assert render("{{ (first_name ~ '-' ~ last_name)|upper }} {{ [first_name ~ '!']|first }}") == (
        "ИВАН-O'BRIEN Иван!"
    )


def test_exponential_macro_recursion_is_stopped_by_the_depth_limit(monkeypatch):
    monkeypatch.setattr(templates, "time", FakeClock(step=0))  # the clock stands still: no timeout can help
    with pytest.raises(TemplateError, match="recurses too deeply"):
        render("{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}")


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'a' * 10**9 }}",
        "{{ [1] * 10**9 }}",
        "{{ '%999999999d' % 1 }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ 'x'.rjust(10**9) }}",
        "{{ 2 ** 100000000 }}",
        "{{ ((10 ** 64) ** 64) ** 64 }}",
        "{% set a = 'x' * 60000 %}{% set b = a ~ a %}{{ b|length }}",
        "{% set a = 'x' * 60000 %}{{ (a + a)|length }}",
        "{% set a = 'x' * 60000 %}{{ [a, a]|join|length }}",
        "{% set a = 'x' * 1000 %}{{ a|replace('', a) }}",
        "{% set a = 'x' * 1000 %}{{ (a|list)|join(a) }}",
        "{{ items|batch(10**9, 'x')|list }}",
        "{{ item|tojson(10**9) }}",
        "{{ 'ab'.replace('a', 'b') }}",
    ],
)
def test_amplification_is_refused_before_the_value_is_built(source):
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError) as refused:
            render(source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not isinstance(refused.value, TemplateTimeout)
    assert peak < 10 * 1024 * 1024  # the values asked for are 1 GB and more


def test_lists_cannot_be_modified():
    with pytest.raises(TemplateError, match="not allowed"):
        render("{% set _ = items.append(1) %}")


def test_safe_forms_of_join_replace_batch_tojson():
    assert render("{{ items|join(', ', attribute='name') }}") == "tea, cake"
    assert render("{{ last_name|replace(\"'\", '') }}") == "OBrien"
    assert render("{{ [1, 2, 3]|batch(2, 0)|list }}") == "[[1, 2], [3, 0]]"
    assert render("{{ {'name': first_name}|tojson }}") == '{"name": "Иван"}'


def test_output_size_is_limited():
    with pytest.raises(TemplateError, match="longer than"):
        render("{% for i in range(10000) %}" + "x" * 20 + "{% endfor %}")
    assert MAX_SIZE == 100_000


def test_hostile_value_is_data_not_syntax():
    assert render("{{ v }}", {"v": "{{ 7*7 }}"}) == "{{ 7*7 }}"
