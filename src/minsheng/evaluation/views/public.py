"""Citizens' 好差评 pages: the back-to-back kiosk, the phone page of the signed link and the
public statistics. None of them shows anything personal."""

from __future__ import annotations

import datetime as dt
from itertools import groupby

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.core.forms import client_ip
from minsheng.core.models import Role, User, Window
from minsheng.evaluation import actions, stats
from minsheng.evaluation.errors import EvaluationError
from minsheng.evaluation.forms import OnlineRatingForm, RatingForm
from minsheng.evaluation.throttle import KIOSK_RATE, LINK_FAILURES, LINK_RATE
from minsheng.evaluation.views.pad import staff_card


def _apply_errors(form: RatingForm, error: EvaluationError) -> None:
    for name, messages in error.fields.items():
        form.add_error(name if name in form.fields else None, messages)
    if not error.fields:
        form.add_error(None, error.message)


# ---------------------------------------------------------------- back-to-back kiosk


def kiosk_home(request: HttpRequest) -> HttpResponse:
    windows = (
        Window.objects.filter(active=True, staff__role=Role.WINDOW_STAFF)
        .select_related("hall", "department")
        .distinct()
        .order_by("hall__code", "number")
    )
    halls = [(hall, list(items)) for hall, items in groupby(windows, key=lambda w: w.hall)]
    return render(request, "evaluation/kiosk_home.html", {"halls": halls})


def kiosk_window(request: HttpRequest, window_id: int) -> HttpResponse:
    window = get_object_or_404(Window.objects.select_related("hall"), pk=window_id, active=True)
    people = User.objects.filter(window=window, role=Role.WINDOW_STAFF, is_active=True).order_by(
        "staff_no", "pk"
    )
    cards = [(person.pk, staff_card(person)) for person in people]
    return render(request, "evaluation/kiosk_window.html", {"window": window, "cards": cards})


def kiosk_rate(request: HttpRequest, staff_id: int) -> HttpResponse:
    person = get_object_or_404(User, pk=staff_id, role=Role.WINDOW_STAFF, is_active=True)
    event = actions.kiosk_event(person)
    context = {"person": staff_card(person), "staff_id": person.pk, "event": event}
    if request.method != "POST":
        return render(request, "evaluation/kiosk_rate.html", {**context, "form": RatingForm()})
    form = RatingForm(request.POST)
    if not KIOSK_RATE.hit(client_ip(request)):
        form.is_valid()
        form.add_error(None, _("提交过于频繁，请稍后再试"))
        return render(request, "evaluation/kiosk_rate.html", {**context, "form": form}, status=429)
    if form.is_valid():
        try:
            actions.rate_from_kiosk(person.pk, form.rating_input())
        except EvaluationError as error:
            _apply_errors(form, error)
        else:
            return render(request, "evaluation/thanks.html", {"kiosk": True})
    return render(request, "evaluation/kiosk_rate.html", {**context, "form": form})


# ---------------------------------------------------------------- signed link (phone)


def link_rate(request: HttpRequest, token: str) -> HttpResponse:
    ip = client_ip(request)
    if LINK_FAILURES.exceeded(ip):
        message = _("无效链接过多，请稍后再试")
        return render(request, "evaluation/link_unavailable.html", {"message": message}, status=429)
    try:
        event = actions.event_for_token(token)
    except EvaluationError as error:
        LINK_FAILURES.hit(ip)
        return render(
            request, "evaluation/link_unavailable.html", {"message": error.message}, status=404
        )
    if event.rated_at is not None:
        return render(
            request,
            "evaluation/link_unavailable.html",
            {"message": _("该办件已经评价过了，感谢您的参与")},
        )
    context = {"event": event}
    if request.method != "POST":
        return render(request, "evaluation/link_rate.html", {**context, "form": OnlineRatingForm()})
    form = OnlineRatingForm(request.POST)
    if not LINK_RATE.hit(ip):
        form.is_valid()
        form.add_error(None, _("提交过于频繁，请稍后再试"))
        return render(request, "evaluation/link_rate.html", {**context, "form": form}, status=429)
    if form.is_valid():
        try:
            actions.rate_from_link(token, form.rating_input())
        except EvaluationError as error:
            _apply_errors(form, error)
        else:
            return render(request, "evaluation/thanks.html", {"kiosk": False})
    return render(request, "evaluation/link_rate.html", {**context, "form": form})


# ---------------------------------------------------------------- public statistics


def public_stats(request: HttpRequest) -> HttpResponse:
    """Per department and month; the current month too (it is marked as running)."""
    today = timezone.localdate()
    last = stats.month_start(today)
    first = stats.month_start(last - dt.timedelta(days=330))
    table = stats.public_table(first, last)
    months = [
        (month, [row["figures"] for row in rows])
        for month, rows in groupby(table, key=lambda r: r["month"])
    ]
    return render(request, "evaluation/public.html", {"months": months, "current": last})
