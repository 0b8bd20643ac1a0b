"""The classifier and the similar-appeal search in the dispatcher's work.

- After an appeal is received, ``after_intake`` queues ``tasks.route_new_appeal`` when the
  county turned automatic routing on; the task dispatches the appeal through
  ``appeals.actions.dispatch(auto=True)`` only when the classifier's best guess reaches the
  configured confidence and its category has a department in the routing catalogue.
- On the appeal's page the dispatcher sees ``advice_for``: the likeliest categories with
  their departments and confidences, similar appeals and merge suggestions with reasons.
- When the dispatcher sends an appeal elsewhere than the classifier's first choice,
  ``note_dispatch`` records the correction, which ``classifier retrain`` learns from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils.translation import gettext as _

from minsheng.appeals.models import Appeal, Category
from minsheng.appeals.states import State
from minsheng.core import policy
from minsheng.core.models import Department, User
from minsheng.core.recent import Recent
from minsheng.intelligence import similar
from minsheng.intelligence.classifier import Suggestion, active_classifier
from minsheng.intelligence.models import IntelligenceSettings
from minsheng.intelligence.similar import Match, MergeSuggestion

logger = logging.getLogger(__name__)

# Read on every intake: kept per process for a few seconds (an admin's change applies within).
_settings: Recent[IntelligenceSettings] = Recent(lambda: 10.0, max_size=1)


def settings() -> IntelligenceSettings:
    found = _settings.get("current", IntelligenceSettings.current)
    assert found is not None
    return found


def suggestions(appeal: Appeal) -> list[Suggestion]:
    """The classifier's likeliest classes for the appeal (empty without an active model)."""
    loaded = active_classifier()
    if loaded is None:
        return []
    return loaded[1].suggest(appeal.title, appeal.body)


# ---------------------------------------------------------------- automatic routing


def after_intake(appeal_id: int) -> None:
    """Called once a new appeal is committed: queue its automatic routing if it is on."""
    if not settings().auto_route:
        return
    from minsheng.intelligence import tasks

    tasks.route_new_appeal.enqueue(appeal_id)


def auto_route(appeal_id: int) -> bool:
    """Dispatch a newly received appeal to the department of the classifier's first choice
    when it is confident enough; True when it did."""
    from minsheng.appeals import actions as appeal_actions
    from minsheng.appeals.errors import AppealError

    rules = IntelligenceSettings.current()
    if not rules.auto_route:
        return False
    appeal = Appeal.objects.filter(pk=appeal_id, state=State.RECEIVED).first()
    if appeal is None:
        return False
    best = next(iter(suggestions(appeal)), None)
    if best is None or best.department_id is None:
        return False
    if best.confidence < rules.auto_route_confidence:
        return False
    try:
        appeal_actions.dispatch(
            appeal.pk,
            department_id=best.department_id,
            by=None,
            auto=True,
            expected_version=appeal.version,
            note=_("自动派单：分类“%(label)s”，置信度%(p)d%%")
            % {"label": best.label, "p": round(best.confidence * 100)},
        )
    except AppealError:
        # A dispatcher acted first (or refused it): theirs stands.
        logger.info("appeal %s changed before automatic routing", appeal_id)
        return False
    return True


# ---------------------------------------------------------------- the dispatcher's page


@dataclass(frozen=True)
class CategoryAdvice:
    label: str
    percent: int
    category: str
    department: Department | None


@dataclass(frozen=True)
class DispatchAdvice:
    categories: list[CategoryAdvice]
    similar: list[Match]
    merges: list[MergeSuggestion]

    def __bool__(self) -> bool:
        return bool(self.categories or self.similar or self.merges)


def advice_for(user: User, appeal: Appeal) -> DispatchAdvice | None:
    """What the dispatcher sees beside the dispatch form; None for anyone else or once the
    appeal is past routing."""
    if appeal.state not in {State.RECEIVED, State.DISPATCHED, State.RETURNED}:
        return None
    if not policy.can(user, "appeal.dispatch", appeal):
        return None
    found = suggestions(appeal)
    categories = {
        c.pk: c.name
        for c in Category.objects.filter(pk__in=[s.category_id for s in found if s.category_id])
    }
    departments = Department.objects.in_bulk([s.department_id for s in found if s.department_id])
    visible = policy.visible(user, Appeal.objects.all(), "appeal.view")
    matches = similar.similar_to_appeal(appeal)
    shown = set(visible.filter(pk__in=[m.appeal.pk for m in matches]).values_list("pk", flat=True))
    merges = [
        m
        for m in similar.merge_suggestions(appeal)
        if {m.master.pk, m.duplicate.pk} <= shown | {appeal.pk}
    ]
    return DispatchAdvice(
        categories=[
            CategoryAdvice(
                label=s.label,
                percent=round(s.confidence * 100),
                category=categories.get(s.category_id or 0, s.label),
                department=departments.get(s.department_id or 0),
            )
            for s in found
        ],
        similar=[m for m in matches if m.appeal.pk in shown],
        merges=merges,
    )


def note_dispatch(appeal_id: int, department_id: int, *, by: User) -> None:
    """Record a correction when the dispatcher chose another department than the
    classifier's first choice (nothing without a model or a suggestion)."""
    from minsheng.intelligence import actions

    appeal = Appeal.objects.filter(pk=appeal_id).first()
    if appeal is None:
        return
    best = next(iter(suggestions(appeal)), None)
    if best is None or best.department_id == department_id:
        return
    actions.record_correction(
        appeal.pk,
        suggested_label=best.label,
        confidence=best.confidence,
        chosen_category_id=appeal.category_id,
        chosen_department_id=department_id,
        by=by,
    )
