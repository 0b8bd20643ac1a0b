"""The dispatcher's board (派单台) and the supervisor's board (督办看板)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from minsheng.appeals.forms_staff import DecideExtensionForm, DispatchForm, DisputeForm
from minsheng.appeals.models import Appeal, ReturnRecord, RoutingRule
from minsheng.appeals.views import staff_queries as queries
from minsheng.appeals.views.staff import staff_user
from minsheng.core import policy

BOARD_LIMIT = 50  # rows per section; the exports and the workbench have them all


@dataclass(frozen=True)
class DispatchRow:
    appeal: Appeal
    suggestion: RoutingRule | None
    form: DispatchForm
    last_return: ReturnRecord | None = None
    dispute_form: DisputeForm | None = None


def _dispatch_rows(appeals: list[Appeal], catalogue: queries.RoutingCatalogue) -> list[Any]:
    rows = []
    for appeal in appeals:
        rule = catalogue.suggest(appeal.category_id)
        initial: dict[str, Any] = {"version": appeal.version}
        if rule is not None:
            initial["department"] = rule.department_id
        records = list(appeal.returns.all()) if appeal.state == "returned" else []
        last = records[0] if records else None
        rows.append(
            DispatchRow(
                appeal,
                rule,
                DispatchForm(initial=initial, auto_id=f"a{appeal.pk}_%s"),
                last,
                DisputeForm(initial={"record": last.pk}, auto_id=f"r{last.pk}_%s")
                if last and not last.disputed
                else None,
            )
        )
    return rows


@login_required
def dispatch_board(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    policy.require(user, "appeal.dispatch")
    catalogue = queries.RoutingCatalogue()
    new = queries.new_appeals(user)
    returned = queries.returned_appeals(user)
    unsigned = queries.unsigned_appeals(user)
    extensions = queries.pending_extensions(user)
    unsatisfied = queries.unsatisfied_appeals(user)
    return render(
        request,
        "appeals/staff/dispatch_board.html",
        {
            "new_rows": _dispatch_rows(list(new[:BOARD_LIMIT]), catalogue),
            "new_count": new.count(),
            "returned_rows": _dispatch_rows(list(returned[:BOARD_LIMIT]), catalogue),
            "returned_count": returned.count(),
            "unsigned": [(a, queries.deadline_status(a)) for a in unsigned[:BOARD_LIMIT]],
            "unsigned_count": unsigned.count(),
            "extensions": [
                (e, DecideExtensionForm(initial={"extension": e.pk}, auto_id=f"e{e.pk}_%s"))
                for e in extensions[:BOARD_LIMIT]
            ],
            "extensions_count": extensions.count(),
            "unsatisfied": [(a, queries.current_rating(a)) for a in unsatisfied[:BOARD_LIMIT]],
            "unsatisfied_count": unsatisfied.count(),
            "limit": BOARD_LIMIT,
        },
    )


@login_required
def supervision_board(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    policy.require(user, "appeal.view")
    overdue = queries.overdue_appeals(user)
    department = request.GET.get("department", "")
    if department.isdigit():
        overdue = overdue.filter(lead_department=int(department))
    page = Paginator(overdue, 25).get_page(request.GET.get("page"))
    supervisions = queries.open_supervisions(user)
    rehandled = queries.rehandled_appeals(user)
    disputed = queries.disputed_returns(user)
    can_decide = policy.can(user, "appeal.decide_extension")
    extensions = queries.pending_extensions(user) if can_decide else None
    return render(
        request,
        "appeals/staff/supervision_board.html",
        {
            "by_department": queries.overdue_by_department(user),
            "department": department,
            "page": page,
            "overdue_rows": [(a, queries.deadline_status(a)) for a in page.object_list],
            "supervisions": supervisions[:BOARD_LIMIT],
            "supervisions_count": supervisions.count(),
            "rehandled": rehandled[:BOARD_LIMIT],
            "rehandled_count": rehandled.count(),
            "disputed": disputed[:BOARD_LIMIT],
            "disputed_count": disputed.count(),
            "extensions": [
                (e, DecideExtensionForm(initial={"extension": e.pk}, auto_id=f"e{e.pk}_%s"))
                for e in (extensions[:BOARD_LIMIT] if extensions is not None else [])
            ],
            "extensions_count": extensions.count() if extensions is not None else 0,
            "limit": BOARD_LIMIT,
        },
    )
