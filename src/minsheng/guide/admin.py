from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from minsheng.core import audit
from minsheng.guide.models import QuestionLog, Synonym


def _state(syn: Synonym) -> dict[str, Any]:
    return {"phrase": syn.phrase, "official": syn.official, "active": syn.active}


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin[Synonym]):
    """Editing here is audited like the staff page's actions (one event per change)."""

    list_display = ("phrase", "official", "active", "note", "updated_at")
    list_filter = ("active",)
    search_fields = ("phrase", "official")

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Synonym, form: Any, change: bool) -> None:
        before = _state(Synonym.objects.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        event = "guide.synonym_changed" if change else "guide.synonym_added"
        audit.record(request.user, event, obj, before=before, after=_state(obj))

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: Synonym) -> None:
        audit.record(request.user, "guide.synonym_deleted", obj, before=_state(obj))
        super().delete_model(request, obj)


@admin.register(QuestionLog)
class QuestionLogAdmin(admin.ModelAdmin[QuestionLog]):
    list_display = ("asked_at", "channel", "question", "kind", "top_name", "feedback")
    list_filter = ("kind", "feedback", "channel")
    search_fields = ("question",)
    readonly_fields = [f.name for f in QuestionLog._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
