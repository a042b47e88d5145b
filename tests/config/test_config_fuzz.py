"""Nothing written in the config file or an AMPLIFIER_* variable ends in a traceback.

Hypothesis feeds the loader arbitrary text, the sample with its values replaced by arbitrary
TOML values, and arbitrary variables built from real setting names and noise: each load either
gives settings or a ``ConfigError`` whose every problem names the file or a variable.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amplifier.config import Settings, load_settings, setting_variables
from amplifier.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE = (ROOT / "config.example.toml").read_text(encoding="utf-8")
SAMPLE_LINES = SAMPLE.splitlines()
# Lines of the sample that set a value: `key = value`, outside comments.
VALUE_LINES = [
    number for number, line in enumerate(SAMPLE_LINES) if re.match(r"^[a-z_]+\s*=", line)
]
VARIABLES = setting_variables(Settings, tomllib.loads(SAMPLE))
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    """Only ``variables`` among AMPLIFIER_* and DATABASE_URL, for the time of one example."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.upper().startswith(("AMPLIFIER_", "DATABASE_URL")):
                patch.delenv(name)
        for name, value in variables.items():
            patch.setenv(name, value)
        yield


def _load(text: str | bytes, variables: dict[str, str] | None = None) -> None:
    """Load ``text`` as a config file; only a ConfigError naming where may come out."""
    with tempfile.TemporaryDirectory() as folder, _environment(variables or {}):
        path = Path(folder) / "config.toml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        try:
            load_settings(path)
        except ConfigError as exc:
            assert exc.problems
            for problem in exc.problems:
                where = str(problem.file)
                assert where == str(path) or where.startswith("environment variable "), problem
                assert problem.message.strip()


@FUZZ
@given(text=st.text() | st.binary())
def test_any_text_as_config_file(text: str | bytes) -> None:
    """Arbitrary text or bytes as the config file: settings, or problems, never a traceback."""
    _load(text)


toml_values = st.recursive(
    st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.floats(allow_nan=True).map(lambda f: repr(f).replace("inf", "inf")),
        st.booleans().map(lambda b: str(b).lower()),
        st.text(max_size=20).map(lambda s: '"' + s.encode("unicode_escape").decode() + '"'),
        st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
        st.times().map(lambda t: time.isoformat(t.replace(microsecond=0))),
        st.sampled_from(['"x"', '"mastodon"', '"09:00"', '"Europe/Madrid"', '"daily"', "-1"]),
        st.text(max_size=12),  # anything at all, valid TOML or not
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), inner), max_size=3).map(
            lambda kvs: "{" + ", ".join(f"{k} = {v}" for k, v in kvs) + "}"
        ),
    ),
    max_leaves=6,
)


@FUZZ
@given(
    replacements=st.lists(
        st.tuples(st.sampled_from(VALUE_LINES), toml_values), min_size=1, max_size=4
    )
)
def test_sample_with_values_replaced(replacements: list[tuple[int, str]]) -> None:
    """The sample config with some values replaced by arbitrary TOML: never a traceback."""
    lines = list(SAMPLE_LINES)
    for number, value in replacements:
        key = lines[number].split("=", 1)[0]
        lines[number] = f"{key}= {value}"
    _load("\n".join(lines) + "\n")


variable_names = st.one_of(
    st.sampled_from(VARIABLES),
    st.sampled_from(VARIABLES).map(lambda name: name[:-1]),
    st.sampled_from(VARIABLES).map(str.lower),
    st.sampled_from(VARIABLES).map(lambda name: name.replace("_", "-")),
    st.tuples(st.sampled_from(VARIABLES), st.from_regex(r"(__)?[A-Z_-]{0,10}", fullmatch=True)).map(
        "".join
    ),
    st.from_regex(r"AMPLIFIER_[A-Za-z0-9_-]{0,30}", fullmatch=True),
    st.just("DATABASE_URL"),
)
variable_values = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="\x00", codec="utf-8"), max_size=30),
    st.sampled_from(["true", "0", "-5", "[]", "{}", '["09:00"]', '{"grace_minutes": 5}', "null"]),
    toml_values.map(lambda value: value.replace("\x00", "")),
)


@FUZZ
@given(variables=st.dictionaries(variable_names, variable_values, min_size=1, max_size=4))
def test_any_amplifier_variables(variables: dict[str, str]) -> None:
    """Arbitrary AMPLIFIER_* variables over the sample: settings, or problems naming a variable
    or the file, never another exception."""
    variables = {name: value for name, value in variables.items() if "=" not in name}
    _load(SAMPLE, variables)
