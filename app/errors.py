"""Refusals a person can act on, raised by the runner and the services and shown by the routes
(as a page, an htmx fragment or a socket acknowledgement). Imports nothing of the app.

`AnswerInvalid` (in exercises.base) is an exercise's refusal of an answer; the runner turns it into
`InvalidInput`. Everything else a person typed wrong (a team's name, a poster edit, a malformed
form) is `InvalidInput` from the start."""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """A refusal with a message a person can act on. `message` is an English msgid marked with
    N_(); `params` fill its placeholders after translation."""

    status_code = 400

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class Forbidden(Refusal):
    status_code = 403


class NotFound(Refusal):
    status_code = 404


class Conflict(Refusal):
    status_code = 409


class InvalidInput(Refusal):
    status_code = 422
