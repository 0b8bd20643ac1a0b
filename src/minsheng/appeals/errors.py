"""Errors an appeal action raises; views and the API turn them into messages and codes."""

from __future__ import annotations


class AppealError(Exception):
    """A request the workflow refuses; ``code`` is stable for API clients."""

    code = "invalid_request"

    def __init__(
        self, message: str, *, code: str | None = None, fields: dict[str, list[str]] | None = None
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class Conflict(AppealError):
    """Someone else changed the appeal first (or it is no longer in a state that allows this)."""

    code = "conflict"
