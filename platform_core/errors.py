"""The base of every domain error: an expected refusal with a message a user can read."""

from __future__ import annotations

from django.utils.functional import Promise


class DomainError(Exception):
    """An expected refusal of a domain action; the API turns it into a 4xx.

    `field` names the input that is wrong where there is one; `status` is the HTTP status
    an API answers with (400 wrong input, 403 out of jurisdiction, 409 conflict).
    """

    status = 400
    code = "invalid"

    def __init__(
        self, message: str | Promise, *, field: str | None = None, code: str | None = None
    ):
        super().__init__(str(message))
        self.message = message
        self.field = field
        if code:
            self.code = code


class OutOfJurisdiction(DomainError):
    status = 403
    code = "out_of_jurisdiction"


class Conflict(DomainError):
    status = 409
    code = "conflict"
