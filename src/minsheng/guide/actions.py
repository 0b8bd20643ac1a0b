"""Every change of the guide's state: logging a question, the citizen's feedback, synonyms."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.core import audit, policy
from minsheng.guide.engine import Answer
from minsheng.guide.models import QuestionLog, Synonym
from minsheng.guide.normalise import normalise
from minsheng.guide.scrub import scrub

if TYPE_CHECKING:
    from minsheng.core.models import User


@transaction.atomic
def log_question(question: str, answer: Answer, *, channel: str, duration_ms: float) -> QuestionLog:
    """Keep the question (scrubbed of personal data) with what the guide answered.

    Public and anonymous: no user, no address. Not audited (it is not an act of staff);
    the log is itself the record.
    """
    top = answer.results[0] if answer.results else None
    shown = answer.best
    return QuestionLog.objects.create(
        channel=channel,
        question=scrub(question)[:500],
        kind=answer.kind,
        top_code=top.code if top else "",
        top_name=top.name[:128] if top else "",
        top_score=top.score if top else 0.0,
        shown_code=shown.code if shown else "",
        candidates=[{"code": r.code, "score": r.score} for r in answer.results[:5]],
        duration_ms=round(duration_ms, 2),
    )


@transaction.atomic
def record_choice(log_id: int, code: str) -> bool:
    """The citizen picked a matter from a clarifying question (or a no-match list)."""
    return QuestionLog.objects.filter(pk=log_id).update(shown_code=code[:32]) == 1


@transaction.atomic
def record_feedback(log_id: int, helpful: bool) -> bool:
    """helpful / not helpful, once per question (a conditional update: the first wins)."""
    value = QuestionLog.Feedback.HELPFUL if helpful else QuestionLog.Feedback.UNHELPFUL
    updated = QuestionLog.objects.filter(pk=log_id, feedback="").update(
        feedback=value, feedback_at=timezone.now()
    )
    return updated == 1


def _synonym_state(syn: Synonym) -> dict[str, Any]:
    return {"phrase": syn.phrase, "official": syn.official, "active": syn.active}


def _clean(phrase: str, official: str) -> tuple[str, str]:
    phrase = normalise(phrase).replace(" ", "")
    official = " ".join(normalise(official).split())
    errors: dict[str, list[str]] = {}
    if len(phrase) < 2:
        errors["phrase"] = [_("群众说法至少两个字")]
    if not official:
        errors["official"] = [_("请填写规范说法（事项名称中的词）")]
    if errors:
        raise ValidationError(errors)
    return phrase, official


@transaction.atomic
def add_synonym(user: User, phrase: str, official: str, note: str = "") -> Synonym:
    phrase, official = _clean(phrase, official)
    policy.require(user, "guide.synonym_edit")
    existing = Synonym.objects.select_for_update().filter(phrase=phrase).first()
    if existing is not None:
        before = _synonym_state(existing)
        existing.official = official
        existing.active = True
        if note:
            existing.note = note
        existing.save(update_fields=["official", "active", "note", "updated_at"])
        audit.record(
            user, "guide.synonym_changed", existing, before=before, after=_synonym_state(existing)
        )
        return existing
    syn = Synonym.objects.create(phrase=phrase, official=official, note=note)
    audit.record(user, "guide.synonym_added", syn, after=_synonym_state(syn))
    return syn


@transaction.atomic
def set_synonym_active(user: User, synonym_id: int, active: bool) -> Synonym:
    syn = Synonym.objects.select_for_update().get(pk=synonym_id)
    policy.require(user, "guide.synonym_edit")
    if syn.active == active:
        return syn
    before = _synonym_state(syn)
    syn.active = active
    syn.save(update_fields=["active", "updated_at"])
    audit.record(user, "guide.synonym_changed", syn, before=before, after=_synonym_state(syn))
    return syn
