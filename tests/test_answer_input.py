"""`answer_input`: the one parse both answer paths (a form, a socket event) go through."""

from __future__ import annotations

from typing import Any

import pytest

from app.errors import Refusal
from app.runner import MAX_FIELDS, AnswerInput, answer_input


def test_a_form_and_a_socket_event_give_the_same_input() -> None:
    form = {"step": "rate", "key": "k" * 12, "csrf_token": "t", "value": "4", "comment": "Good"}
    event = {"step": "rate", "key": "k" * 12, "value": 4, "comment": "Good"}
    expected = AnswerInput(step_id="rate", key="k" * 12, fields={"value": "4", "comment": "Good"})
    assert answer_input(form) == expected
    assert answer_input(event) == expected


def test_a_negative_and_a_huge_whole_number_are_written_out() -> None:
    sent = answer_input({"step": "s", "key": "k", "a": -3, "b": 10**400})
    assert sent.fields == {"a": "-3", "b": "1" + "0" * 400}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"step": "s", "value": 3.5}, "value"),
        ({"step": "s", "value": True}, "value"),
        ({"step": "s", "value": None}, "value"),
        ({"step": "s", "value": [3]}, "value"),
        ({"step": "s", "value": b"3"}, "value"),
        ({"step": "s", "value": 10**5000}, "value"),  # more digits than Python writes out
        ({"step": "s", 7: "3"}, "?"),
        ({"step": "s", "value": "\ud800"}, "?"),
        ({"step": "s\udfff"}, "?"),
    ],
)
def test_what_no_form_sends_is_refused_with_the_field(raw: dict[Any, Any], field: str) -> None:
    with pytest.raises(Refusal) as caught:
        answer_input(raw)
    assert caught.value.status_code == 400
    assert caught.value.params == {"fields": field}


def test_an_answer_without_a_step_is_refused() -> None:
    with pytest.raises(Refusal, match="which question"):
        answer_input({"key": "k" * 12, "value": "3"})


def test_more_fields_than_any_form_has_are_refused() -> None:
    raw = {"step": "s", **{f"f{i}": "x" for i in range(MAX_FIELDS)}}
    with pytest.raises(Refusal, match="too many fields"):
        answer_input(raw)
    assert answer_input({"step": "s", **{f"f{i}": "x" for i in range(MAX_FIELDS - 1)}}).step_id == "s"
