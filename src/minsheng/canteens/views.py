"""Staff pages of the happiness canteens: the county's figures, and per canteen the day's
check-in list, registration of diners and the monthly statement (Excel)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.appeals import exports
from minsheng.canteens import actions, statements
from minsheng.canteens.forms import DinerForm, MonthForm
from minsheng.canteens.models import Canteen, Diner, MealCheckIn
from minsheng.core import audit, policy
from minsheng.core.models import User


def _user(request: HttpRequest, action: str) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    if not policy.can(user, action):
        raise PermissionDenied(action)
    return user


def _month(request: HttpRequest) -> dt.date:
    form = MonthForm(request.GET)
    if form.is_valid() and form.cleaned_data["month"]:
        return form.cleaned_data["month"].replace(day=1)
    return timezone.localdate().replace(day=1)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request, "canteen.view")
    canteens = policy.visible(user, Canteen.objects.all(), "canteen.view")
    month = _month(request)
    today = timezone.localdate()
    lines = statements.by_canteen(canteens, month)
    today_meals = dict(
        MealCheckIn.objects.filter(canteen__in=canteens, day=today)
        .values_list("canteen")
        .annotate(n=Count("pk"))
    )
    diners = Diner.objects.filter(canteen__in=canteens, active=True)
    return render(
        request,
        "canteens/index.html",
        {
            "month": month,
            "lines": [(line, today_meals.get(line.key, 0)) for line in lines],
            "total": statements.totals(lines),
            "diner_total": diners.count(),
            "by_category": [
                (Diner.Category(c).label, diners.filter(category=c).count())
                for c in Diner.Category.values
            ],
            "today_total": sum(today_meals.values()),
            "can_operate": policy.can(user, "canteen.operate"),
        },
    )


def _canteen(user: User, code: str) -> Canteen:
    return policy.get_object(user, Canteen.objects.all(), "canteen.operate", code=code)


@login_required
def canteen(request: HttpRequest, code: str) -> HttpResponse:
    user = _user(request, "canteen.operate")
    place = _canteen(user, code)
    today = timezone.localdate()
    month = _month(request)
    diners = Diner.objects.filter(canteen=place, active=True).annotate(
        eaten=Exists(MealCheckIn.objects.filter(diner=OuterRef("pk"), day=today))
    )
    form = DinerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            diner = actions.register_diner(place.pk, **form.cleaned_data, by=user)
        except actions.CanteenError as exc:
            form.add_error(exc.field or None, exc.message)
        else:
            messages.success(request, _("已登记 %(name)s") % {"name": diner.name})
            return redirect("canteens:canteen", code=place.code)
    lines = statements.by_diner(place, month)
    context: dict[str, Any] = {
        "canteen": place,
        "today": today,
        "diners": diners,
        "form": form,
        "month": month,
        "lines": lines,
        "total": statements.totals(lines),
    }
    return render(
        request,
        "canteens/canteen.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def check_in(request: HttpRequest, code: str, diner_id: int) -> HttpResponse:
    user = _user(request, "canteen.operate")
    place = _canteen(user, code)
    if not Diner.objects.filter(pk=diner_id, canteen=place).exists():
        raise PermissionDenied("canteen.operate")
    try:
        meal = actions.check_in(diner_id, by=user)
    except actions.CanteenError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(name)s 已就餐：缴费 %(fee)s 元，补贴 %(subsidy)s 元")
            % {"name": meal.diner.name, "fee": meal.fee, "subsidy": meal.subsidy},
        )
    return redirect("canteens:canteen", code=place.code)


@login_required
def statement(request: HttpRequest, code: str) -> HttpResponse:
    """The month's statement per diner of one canteen, as Excel (audited)."""
    user = _user(request, "canteen.operate")
    place = _canteen(user, code)
    month = _month(request)
    lines = statements.by_diner(place, month)
    total = statements.totals(lines)
    table = exports.Table(
        name=f"{place.name}{month:%Y年%m月}" + _("结算单"),
        columns=[
            exports.Column(_("就餐老人"), 28, lambda line: line.label),
            exports.Column(_("就餐天数"), 10, lambda line: line.meals),
            exports.Column(_("个人缴费（元）"), 14, lambda line: line.fees),
            exports.Column(_("补贴（元）"), 14, lambda line: line.subsidies),
            exports.Column(_("合计（元）"), 14, lambda line: line.total),
        ],
        rows=[*lines, statements.Line(0, _("合计"), total.meals, total.fees, total.subsidies)],
        personal=True,
    )
    content = exports.to_xlsx(table)
    audit.record(
        user,
        "canteen.statement_exported",
        place,
        after={"month": f"{month:%Y-%m}", "diners": len(lines), "subsidies": str(total.subsidies)},
    )
    response = HttpResponse(content, content_type=exports.XLSX_TYPE)
    filename = f"{table.name}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response
