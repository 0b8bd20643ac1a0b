"""The web shell: home, login, logout, password change, language and large-font choices."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.core import actions, audit, navigation, policy
from minsheng.core.forms import LoginForm
from minsheng.core.middleware import LANGUAGE_COOKIE, LARGE_FONT_COOKIE
from minsheng.core.models import LongJob, Notification, User
from minsheng.core.views.jobs import jobs_for

# Preferences are kept for a year: elderly users should not have to find the switch again.
PREFERENCE_MAX_AGE = 365 * 24 * 3600


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if isinstance(user, User) and user.is_staff_member:
        return render(request, "core/home_staff.html", _staff_home(user))
    return render(request, "core/home.html", {"tiles": navigation.public_tiles()})


def _staff_home(user: User) -> dict[str, Any]:
    notifications = Notification.objects.filter(user=user, read_at__isnull=True)
    jobs: list[LongJob] = []
    if policy.can(user, "job.view"):
        jobs = list(jobs_for(user).filter(started_by=user)[:5])
    return {
        "unread": list(notifications[:5]),
        "unread_total": notifications.count(),
        "jobs": jobs,
        "department": user.department,
        "window": user.window,
    }


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.headers.get("Referer") or ""
    if url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("core:home")


@require_POST
def set_language(request: HttpRequest) -> HttpResponseRedirect:
    """Remember the chosen language in a cookie (a plain form post: works without JS)."""
    response = HttpResponseRedirect(_safe_next(request))
    code = request.POST.get("language", "")
    if code in {c for c, _name in settings.LANGUAGES}:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=PREFERENCE_MAX_AGE, samesite="Lax")
    return response


@require_POST
def set_large_font(request: HttpRequest) -> HttpResponseRedirect:
    response = HttpResponseRedirect(_safe_next(request))
    if request.POST.get("large") == "1":
        response.set_cookie(LARGE_FONT_COOKIE, "1", max_age=PREFERENCE_MAX_AGE, samesite="Lax")
    else:
        response.delete_cookie(LARGE_FONT_COOKIE, samesite="Lax")
    return response


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        audit.record(form.get_user(), "login.succeeded", form.get_user())
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "core/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("core:home")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        user = form.user
        assert isinstance(user, User)
        actions.change_own_password(user, form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, user)
        messages.success(self.request, _("密码已修改。"))
        return redirect(self.get_success_url())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["forced"] = settings.FORCE_PASSWORD_CHANGE and getattr(
            user, "must_change_password", False
        )
        return context
