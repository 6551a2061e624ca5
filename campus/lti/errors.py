"""The one refusal type of the LTI code (both directions), kept apart so that every LTI module
can raise it without importing the services."""

from __future__ import annotations


class LtiError(Exception):
    """A refused LTI request; `status` is the HTTP code to answer with, `code` the OAuth 2
    error code where one applies (RFC 6749 §5.2; the view picks a default otherwise)."""

    def __init__(self, message: str, status: int = 400, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
