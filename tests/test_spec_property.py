"""Every spec the generator accepts is one it can serve: a property, checked in both tiers.

Hypothesis draws valid `resources` answers: one to four resources, derived and given
singulars, fields of every type (references to the drawn collections included, their own
among them), with and without a constraint, each modifier where the parser allows it,
defaults that fit. Fast tier: the parser accepts them all, and a fixed sample renders into a
clean project (no markers, compiles, passes its own ruff config). Database tier: two of them
(pymongo, no `decimal`, which FerretDB cannot store) are installed and must pass their own
suites against the test server.
"""

from __future__ import annotations

import itertools
import keyword
import py_compile
import re
from decimal import Decimal
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter
from generated import install, run_pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_render import GITHUB_EXPRESSION, LEFTOVER_MARKERS, PROMETHEUS_TEMPLATE, ruff

from local_extensions.fields import (
    FEW_VALUED_TYPES,
    INT64_MAX,
    INT64_MIN,
    RESERVED_NAMES,
    SCALAR_TYPES,
    UNIQUE_MIN_VALUES,
    parse_field,
)
from local_extensions.resources import check_resources
from mongodb_server import REPO

_counter = itertools.count()

names = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda name: (
        not keyword.iskeyword(name)
        and not keyword.issoftkeyword(name)
        and name not in RESERVED_NAMES
    )
)

# A value of each scalar type, written as a default in the spec.
DEFAULTS = {
    "bool": ["true", "false"],
    "date": ["2024-02-29"],
    "datetime": ["2024-01-31T12:00:00Z", "2024-01-31T12:00:00.5+02:00"],
    "email": ["Ada@Example.com"],
    "url": ["https://example.com/a"],
    "uuid": ["00000000-0000-4000-8000-000000000001"],
}


@st.composite
def constraint(draw: st.DrawFn, kind: str) -> str:
    """A constraint in parentheses for a str, list or number field ("" for none)."""
    if kind in ("str", "list"):
        low = draw(st.integers(0, 4))
        high = low + draw(st.integers(0, 300))
        return draw(st.sampled_from(["", f"({low}..{high})", f"({low}..)", f"(..{high})"]))
    if kind not in ("int", "float", "decimal"):
        return ""
    values = [st.integers(-1000, 1000)]
    if kind == "int":
        values.append(st.sampled_from([INT64_MIN, INT64_MAX]))
    else:
        values.append(st.decimals("-100", "100", places=2))
    a, b = sorted([draw(st.one_of(values)), draw(st.one_of(values))])
    forms = ["", f"({a}..{b})", f"({a}..)", f"(..{b})", f"(>={a})", f"(<={b})"]
    if kind != "int" or a < INT64_MAX:
        forms.append(f"(>{a})")
    if kind != "int" or b > INT64_MIN:
        forms.append(f"(<{b})")
    return draw(st.sampled_from(forms))


@st.composite
def field_specs(
    draw: st.DrawFn, types: tuple[str, ...] = SCALAR_TYPES, targets: tuple[str, ...] = ()
) -> str:
    """One field of a valid spec, as text: type, constraint, then modifiers that fit.

    With `targets`, a field may be a reference (or a list of them) to one of them.
    """
    name = draw(names)
    references = ["ref"] if targets else []
    kind = draw(st.sampled_from([*types, *references, "list", "enum"]))
    if kind == "list":
        item = draw(st.sampled_from([*types, *references]))
        if item == "ref":
            item = f"ref({draw(st.sampled_from(targets))})"
        text = f"{name}:list[{item}]"
    elif kind == "ref":
        text = f"{name}:ref({draw(st.sampled_from(targets))})"
    elif kind == "enum":
        choice = st.from_regex(r"[a-z][a-z0-9_-]{0,6}", fullmatch=True)
        words = draw(st.lists(choice, min_size=1, max_size=4, unique=True))
        text = f"{name}:enum({'|'.join(words)})"
    else:
        text = f"{name}:{kind}"
    text += draw(constraint(kind))
    if draw(st.booleans()):
        text += "?"
    if draw(st.booleans()) and (default := draw(default_for(text))) is not None:
        text += f"={default}"
    modifier = draw(st.sampled_from(["", "!index", "!unique"]))
    if modifier == "!unique" and (kind in FEW_VALUED_TYPES or "=" in text):
        modifier = "!index"
    if modifier == "!unique" and parse_field(text).sample_span < UNIQUE_MIN_VALUES:
        modifier = "!index"
    return text + modifier


@st.composite
def default_for(draw: st.DrawFn, text: str) -> str | None:
    """A default that fits the field so far, or None when the strategy has none to offer."""
    field = parse_field(text)
    if field.type in ("list", "ref"):
        return None
    if field.type == "enum":
        return draw(st.sampled_from(field.choices))
    if field.type == "str":
        low = int(field.low.value) if field.low else 0
        high = int(field.high.value) if field.high else 20
        return "d" * draw(st.integers(low, min(high, low + 20)))
    if field.type in ("int", "float", "decimal"):
        bounds = [bound.value for bound in (field.low, field.high) if bound and bound.inclusive]
        exclusive = any(bound and not bound.inclusive for bound in (field.low, field.high))
        return None if exclusive else str(draw(st.sampled_from(bounds or [Decimal(7)])))
    return draw(st.sampled_from(DEFAULTS[field.type]))


# A collection and, sometimes, its singular in parentheses (the rules then check both).
heads = st.tuples(
    st.from_regex(r"[a-z][a-z0-9_]{0,9}s", fullmatch=True),
    st.one_of(st.just(""), names.map(lambda singular: f"({singular})")),
).map("".join)


def _distinct(collection_heads: list[str]) -> bool:
    """Heads the rules accept together: valid, reserved by nothing, distinct singulars."""
    return check_resources("; ".join(f"{head}: a:str" for head in collection_heads)) is None


@st.composite
def specs(draw: st.DrawFn, types: tuple[str, ...] = SCALAR_TYPES) -> str:
    """A whole valid `resources` answer: one to four resources of one to five fields each,
    which may refer to any of the drawn collections (their own included)."""
    drawn = draw(st.lists(heads, min_size=1, max_size=4).filter(_distinct))
    collections = tuple(head.partition("(")[0] for head in drawn)
    resources = []
    for head in drawn:
        fields = draw(st.lists(field_specs(types, collections), min_size=1, max_size=5,
                               unique_by=lambda spec: spec.split(":")[0]))  # fmt: skip
        resources.append(f"{head}: {', '.join(fields)}")
    return "; ".join(resources)


@settings(max_examples=300, deadline=None)
@given(specs())
def test_every_drawn_spec_is_accepted(spec: str) -> None:
    """The strategy and the parser agree on what is valid (so the render samples mean it)."""
    assert check_resources(spec) is None, spec


def render(directory: Path, spec: str, driver: str = "pymongo") -> Path:
    output = directory / f"spec{next(_counter)}"
    extra = {"resources": spec, "mongodb_driver": driver}
    return Path(cookiecutter(str(REPO), no_input=True, extra_context=extra, output_dir=str(output)))


@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(specs(), st.sampled_from(["pymongo", "motor"]))
def test_drawn_specs_render_clean_projects(
    tmp_path_factory: pytest.TempPathFactory, spec: str, driver: str
) -> None:
    project = render(tmp_path_factory.mktemp("property"), spec, driver)
    for path in (p for p in project.rglob("*") if p.is_file()):
        text = PROMETHEUS_TEMPLATE.sub("", GITHUB_EXPRESSION.sub("", path.read_text()))
        for marker in LEFTOVER_MARKERS:
            assert marker not in text, f"{spec}: {path.relative_to(project)} has {marker!r}"
    for path in project.rglob("*.py"):
        py_compile.compile(str(path), doraise=True, cfile=str(path) + "c")
    check = ruff(project, "check")
    assert check.returncode == 0, spec + "\n" + check.stdout + check.stderr
    fmt = ruff(project, "format", "--check")
    assert fmt.returncode == 0, spec + "\n" + fmt.stdout + fmt.stderr


# FerretDB cannot store Decimal128, so the installed sample leaves decimal out.
SERVABLE_ON_FERRETDB = tuple(kind for kind in SCALAR_TYPES if kind != "decimal")


@settings(
    max_examples=2,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(specs(SERVABLE_ON_FERRETDB).filter(lambda spec: not re.search(r"\bdecimal\b", spec)))
def test_drawn_specs_pass_their_own_suites(
    tmp_path_factory: pytest.TempPathFactory, mongodb_uri: str, spec: str
) -> None:
    project = render(tmp_path_factory.mktemp("deep-property"), spec)
    result = run_pytest(install(project), project, mongodb_uri)
    assert result.returncode == 0, spec + "\n" + result.stdout[-8000:] + result.stderr[-3000:]
