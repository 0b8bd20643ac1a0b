"""The querysets behind the staff pages, shared by each page and its exports.

Every list starts from ``policy.visible`` so that a page and its Excel/CSV export can never
show more than the user may see (a department's roles: their department's appeals only).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from minsheng.appeals import search
from minsheng.appeals.models import (
    Appeal,
    Category,
    ExtensionRequest,
    Rating,
    ReturnRecord,
    RoutingRule,
    Supervision,
)
from minsheng.appeals.states import OPEN_STATES, RUNNING_STATES, State
from minsheng.core import calendar, policy
from minsheng.core.models import Department, User

# The workbench's state filter: "open" is the default queue (待办), "all" everything.
OPEN = "open"
ALL = "all"


def visible_appeals(user: User) -> QuerySet[Appeal]:
    return policy.visible(user, Appeal.objects.all(), "appeal.view").select_related(
        "lead_department", "category", "town"
    )


def deadline_status(appeal: Appeal, now: dt.datetime | None = None) -> str:
    """``overdue`` (red), ``due_soon`` (amber: due by the end of the next working day),
    ``ok`` (green), or "" when no handling deadline runs (not dispatched, answered, closed)."""
    if appeal.state not in RUNNING_STATES or appeal.due_at is None:
        return ""
    now = now or timezone.now()
    if calendar.is_overdue(appeal.due_at, now):
        return "overdue"
    if calendar.due_soon(appeal.due_at, now):
        return "due_soon"
    return "ok"


def workbench(user: User, filters: dict[str, Any]) -> QuerySet[Appeal]:
    """The workbench list: the cleaned filters of ``WorkbenchFilterForm`` applied to the
    user's visible appeals, sorted by deadline (soonest first, no deadline last)."""
    appeals = visible_appeals(user)
    state = filters.get("state") or OPEN
    if state == OPEN:
        # Overdue appeals are all open: repeating the states there would make PostgreSQL
        # guess far too few rows and sort them all instead of reading its deadline index.
        if not filters.get("overdue"):
            appeals = appeals.filter(state__in=OPEN_STATES)
    elif state != ALL:
        appeals = appeals.filter(state=state)
    for name in ("appeal_type", "urgency", "channel"):
        if filters.get(name):
            appeals = appeals.filter(**{name: filters[name]})
    if filters.get("category"):
        category: Category = filters["category"]
        # A parent category also finds the appeals filed under its children.
        appeals = appeals.filter(Q(category=category) | Q(category__parent=category))
    if filters.get("town"):
        appeals = appeals.filter(town=filters["town"])
    if filters.get("overdue"):
        appeals = overdue(appeals)
    if filters.get("received_from"):
        start = dt.datetime.combine(filters["received_from"], dt.time.min, calendar.CALENDAR_TZ)
        appeals = appeals.filter(received_at__gte=start)
    if filters.get("received_to"):
        appeals = appeals.filter(received_at__lte=calendar.end_of_day(filters["received_to"]))
    if filters.get("q"):
        appeals = search.filter_appeals(appeals, filters["q"])
    return appeals.order_by(F("due_at").asc(nulls_last=True), "received_at", "pk")


# ---------------------------------------------------------------- dispatcher board


def new_appeals(user: User) -> QuerySet[Appeal]:
    """Received and waiting for dispatch, oldest first."""
    return visible_appeals(user).filter(state=State.RECEIVED).order_by("received_at", "pk")


def returned_appeals(user: User) -> QuerySet[Appeal]:
    """Returned by a department and waiting to be re-routed, with their return records."""
    return (
        visible_appeals(user)
        .filter(state=State.RETURNED)
        .prefetch_related(
            Prefetch("returns", ReturnRecord.objects.select_related("department", "returned_by"))
        )
        .order_by("received_at", "pk")
    )


def unsigned_appeals(user: User) -> QuerySet[Appeal]:
    """Dispatched but nobody in the department has signed for it yet; late ones first."""
    return (
        visible_appeals(user)
        .filter(state=State.DISPATCHED)
        .order_by(F("sign_due_at").asc(nulls_last=True), "pk")
    )


def _of_visible_appeals(user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Records scoped by their own department (a return, an extension, a 督办) and also by
    their appeal's: after a return or 改派 the appeal belongs to another department, whose
    appeal the old one must no longer see."""
    visible = policy.visible(user, queryset, "appeal.view")
    return visible.filter(appeal__in=visible_appeals(user).values("pk"))


def pending_extensions(user: User) -> QuerySet[ExtensionRequest]:
    return (
        _of_visible_appeals(user, ExtensionRequest.objects.all())
        .filter(status=ExtensionRequest.Status.PENDING)
        .select_related("appeal", "department", "requested_by")
        .order_by("requested_at", "pk")
    )


def unsatisfied_appeals(user: User) -> QuerySet[Appeal]:
    """Replied appeals whose citizen said 不满意 on the link, waiting for the dispatcher to
    decide whose side the cause is on (``actions.review_unsatisfied``)."""
    return (
        visible_appeals(user)
        .filter(
            state=State.REPLIED,
            ratings__round=F("rehandle_count"),
            ratings__level=Rating.Level.UNSATISFIED,
        )
        .prefetch_related("ratings")
        .order_by("replied_at", "pk")
    )


def current_rating(appeal: Appeal) -> Rating | None:
    """The rating of the appeal's latest reply (uses prefetched ratings when there are)."""
    for rating in appeal.ratings.all():
        if rating.round == appeal.rehandle_count:
            return rating
    return None


class RoutingCatalogue:
    """The routing catalogue in memory, for suggesting a department on every row of a board
    without a query per row (``actions.route_for`` walks the tree one query at a time)."""

    def __init__(self) -> None:
        self.rules = {
            rule.category_id: rule for rule in RoutingRule.objects.select_related("department")
        }
        self.parents = dict(Category.objects.values_list("pk", "parent_id"))

    def suggest(self, category_id: int | None) -> RoutingRule | None:
        seen: set[int] = set()
        while category_id is not None and category_id not in seen:
            seen.add(category_id)
            rule = self.rules.get(category_id)
            if rule is not None:
                return rule
            category_id = self.parents.get(category_id)
        return None


def departments() -> QuerySet[Department]:
    return Department.objects.filter(active=True).order_by("sort_order", "code")


# ---------------------------------------------------------------- supervisor board


def overdue(appeals: QuerySet[Appeal]) -> QuerySet[Appeal]:
    """``AppealQuerySet.overdue`` for a queryset that went through the policy."""
    return appeals.filter(state__in=RUNNING_STATES, due_at__lt=timezone.now())


def overdue_appeals(user: User) -> QuerySet[Appeal]:
    return overdue(visible_appeals(user)).order_by("lead_department__code", "due_at", "pk")


def overdue_by_department(user: User) -> list[dict[str, Any]]:
    """Counts of overdue appeals per lead department, most first."""
    rows = (
        overdue(visible_appeals(user))
        .values("lead_department", "lead_department__name")
        .annotate(count=Count("pk", distinct=True))
        .order_by("-count", "lead_department__name")
    )
    return [
        {
            "department_id": row["lead_department"],
            "department": row["lead_department__name"] or "—",
            "count": row["count"],
        }
        for row in rows
    ]


def open_supervisions(user: User) -> QuerySet[Supervision]:
    return (
        _of_visible_appeals(user, Supervision.objects.all())
        .filter(resolved_at__isnull=True)
        .select_related("appeal", "department", "raised_by")
        .order_by("raised_at", "pk")
    )


def rehandled_appeals(user: User) -> QuerySet[Appeal]:
    """Appeals sent back for 重办 at least once and not finished yet."""
    return (
        visible_appeals(user)
        .filter(rehandle_count__gt=0, state__in=[State.HANDLING, State.REPLIED])
        .order_by("-rehandle_count", F("due_at").asc(nulls_last=True), "pk")
    )


def disputed_returns(user: User) -> QuerySet[ReturnRecord]:
    return (
        _of_visible_appeals(user, ReturnRecord.objects.all())
        .filter(disputed=True)
        .select_related("appeal", "department", "returned_by")
        .order_by("-returned_at", "pk")
    )
