"""Whatever the query string or form holds, the console answers 200, 303 or a 4xx with a
message: never a 500 (Hypothesis; the test client raises any server error)."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from amplifier.web import Console

from .conftest import csrf_of

NAMES = ["account", "campaign", "view", "week", "state", "post", "from", "to", "before",
         "token", "next"]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(
        [
            "x1",
            "m1",
            "c",
            "list",
            "week",
            "1",
            "2",
            "3",
            "-1",
            "published",
            "unknown",
            "skipped",
            "asylum",
            "2026-11-23",
            "2026-13-40",
            "9999-12-31",
            "0001-01-01",
            "1700000000000000.5",
            "-99999999999999999.1",
            "'; DROP TABLE",
            "%00",
            "\x00",
            "//evil.example",
            "/history",
        ]
    ),
    st.text(max_size=40),
)
QUERIES = st.lists(st.tuples(st.sampled_from(NAMES) | st.text(max_size=8), VALUES), max_size=4)
PATHS = ["/", "/history", "/status", "/review", "/posts", "/calendar.ics", "/signin"]
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FAST
@given(path=st.sampled_from(PATHS), query=QUERIES)
def test_no_query_string_makes_a_500(organizer: TestClient, path: str, query: list) -> None:  # type: ignore[type-arg]
    """Unknown names, repeated names, bad dates, markers, states, injection attempts: 4xx."""
    answer = organizer.get(f"{path}?{urlencode(query)}", follow_redirects=False)
    assert answer.status_code in (200, 303, 400, 403, 404), (path, query, answer.status_code)
    if answer.status_code == 400:
        assert "Bad request:" in answer.text


@FAST
@given(
    path=st.sampled_from(["/pause", "/post-now", "/review/1", "/review/99999999999999999999"]),
    fields=st.dictionaries(
        st.sampled_from(["reason", "account", "post", "outcome", "note"]), VALUES, max_size=4
    ),
)
def test_no_form_makes_a_500(
    organizer: TestClient, console: Console, path: str, fields: dict[str, str]
) -> None:
    """Organizer forms with any values: done, or refused with a 4xx (409 when nothing fits)."""
    console.store.set_paused(True, by="test")  # post-now then refuses before any network
    token = csrf_of(organizer.get("/review").text)
    answer = organizer.post(path, data={**fields, "csrf": token}, follow_redirects=False)
    assert answer.status_code in (200, 303, 400, 409), (path, fields, answer.status_code)


def test_control_characters_in_a_form_are_a_400(organizer: TestClient, console: Console) -> None:
    """A NUL in a reason or note (PostgreSQL refuses it in text) is a 400, not a 500."""
    token = csrf_of(organizer.get("/status").text)
    answer = organizer.post("/pause", data={"csrf": token, "reason": "a\x00b"})
    assert answer.status_code == 400 and "control characters" in answer.text
    assert console.store.paused()[0] is False
