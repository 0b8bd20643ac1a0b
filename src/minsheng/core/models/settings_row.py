"""The one-row tables of rules a county's administrator edits (deadlines, limits, switches)."""

from __future__ import annotations

from typing import Self

from django.db import models


class SettingsRow(models.Model):
    """A table of one row, id 1, created with its defaults the first time it is read."""

    class Meta:
        abstract = True

    @classmethod
    def current(cls) -> Self:
        obj, _created = cls._default_manager.get_or_create(pk=1)
        return obj
