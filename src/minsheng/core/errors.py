"""The refusal an action raises on bad input or a state that forbids it: a message for
people (Chinese in the UI), a stable code for programs, and the form field it is about."""

from __future__ import annotations


class ActionRefused(Exception):
    def __init__(self, message: str, code: str = "invalid", field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
