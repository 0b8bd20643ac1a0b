"""The user's own in-app notifications; marking them read works with and without htmx."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from minsheng.core import actions, policy
from minsheng.core.models import Notification, User


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    policy.require(user, "notification.view")
    return user


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    page = Paginator(Notification.objects.filter(user=user), 30).get_page(request.GET.get("page"))
    return render(request, "core/notifications/list.html", {"page": page})


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    try:
        notification = actions.mark_notification_read(pk, by=user)
    except Notification.DoesNotExist:
        raise Http404 from None
    if request.headers.get("HX-Request"):
        return render(request, "core/notifications/_read.html", {"n": notification})
    return redirect("core:notifications")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    actions.mark_all_notifications_read(by=_user(request))
    return redirect("core:notifications")
