"""Errors a projects action raises; views and the API turn them into messages and codes."""

from __future__ import annotations


class ProjectError(Exception):
    """A request the actions refuse; ``code`` is stable for the API."""

    code = "invalid_request"

    def __init__(
        self, message: str, *, code: str | None = None, fields: dict[str, list[str]] | None = None
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class Conflict(ProjectError):
    """Someone else acted first, or the object is no longer in a state that allows this."""

    code = "conflict"
