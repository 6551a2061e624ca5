"""One exception for every refused or failed SSO step: a status, a message for the person, and
detail for the log (never shown: it may name URLs or provider answers)."""

from __future__ import annotations


class SsoError(Exception):
    def __init__(self, status: int, message: str, detail: str = "") -> None:
        super().__init__(detail or message)
        self.status = status
        self.message = message
        self.detail = detail or message
