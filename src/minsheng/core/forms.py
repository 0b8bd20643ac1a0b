"""Forms of the web shell. Every message a user sees is a Chinese source string."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from minsheng.core import actions, audit, throttle
from minsheng.core.models import Department, Role, User, Window
from minsheng.core.models.org import mobile_validator


def client_ip(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def add_action_errors(form: forms.Form, error: ValidationError) -> None:
    """Show an action's ``ValidationError`` on the fields it names (or on the whole form)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class LoginForm(AuthenticationForm):
    """Django's login form with throttling of failed attempts and audit of every outcome."""

    error_messages = {
        "invalid_login": _("用户名或密码不正确。"),
        "inactive": _("该账号已停用，请联系管理员。"),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request)
        lock = throttle.lock_for(username, ip)
        if lock is not None:
            raise self._locked_error(lock)
        try:
            cleaned = super().clean()
        except ValidationError:
            audit.record(None, "login.failed", object_type="core.user", object_repr=username)
            lock = throttle.record_failure(username, ip)
            if lock is not None:
                audit.record(None, "login.locked", object_type="core.user", object_repr=username)
                raise self._locked_error(lock) from None
            raise
        throttle.reset(username)
        return cleaned

    def _locked_error(self, lock: throttle.LoginLock) -> ValidationError:
        message = ngettext(
            "登录失败次数过多，请 %(minutes)d 分钟后再试。",
            "登录失败次数过多，请 %(minutes)d 分钟后再试。",
            lock.minutes_left,
        ) % {"minutes": lock.minutes_left}
        return ValidationError(message, code="locked")


class PasswordFieldsForm(SetPasswordMixin, forms.Form):
    """A new password typed twice; strength is checked by the action against the user."""

    password1, password2 = SetPasswordMixin.create_password_fields()

    def clean(self) -> dict[str, Any] | None:
        self.validate_passwords()
        return super().clean()


class StaffForm(forms.Form):
    """Create or edit a staff account; the choices are limited to what ``by`` may give."""

    username = forms.RegexField(
        label=_("登录名"),
        max_length=150,
        regex=r"^[A-Za-z0-9_.@+-]+$",
        error_messages={"invalid": _("登录名只能包含字母、数字和 @ . + - _")},
    )
    name = forms.CharField(label=_("姓名"), max_length=32)
    role = forms.ChoiceField(label=_("角色"))
    department = forms.ModelChoiceField(
        label=_("所属部门"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("（无）"),
    )
    window = forms.ModelChoiceField(
        label=_("所在窗口"), queryset=Window.objects.none(), required=False, empty_label=_("（无）")
    )
    staff_no = forms.CharField(label=_("工号"), max_length=16, required=False)
    mobile = forms.CharField(
        label=_("手机号"), max_length=11, required=False, validators=[mobile_validator]
    )

    def __init__(self, *args: Any, by: User, instance: User | None = None, **kwargs: Any) -> None:
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "username": instance.username,
                    "name": instance.name,
                    "role": instance.role,
                    "department": instance.department_id,
                    "window": instance.window_id,
                    "staff_no": instance.staff_no,
                    "mobile": instance.mobile,
                },
            )
        elif by.role == Role.DEPT_HEAD:
            kwargs.setdefault("initial", {"department": by.department_id})
        super().__init__(*args, **kwargs)
        self.instance = instance
        labels = dict(Role.choices)
        role_field = self.fields["role"]
        assert isinstance(role_field, forms.ChoiceField)
        role_field.choices = [(r, labels[r]) for r in actions.grantable_roles(by)]
        departments = Department.objects.filter(active=True)
        windows = Window.objects.filter(active=True).select_related("hall")
        if by.role == Role.DEPT_HEAD:
            # Only their own department (the one ``by`` is a member of) and its windows.
            departments = departments.filter(members=by)
            windows = windows.filter(department__members=by)
        department_field = self.fields["department"]
        window_field = self.fields["window"]
        assert isinstance(department_field, forms.ModelChoiceField)
        assert isinstance(window_field, forms.ModelChoiceField)
        department_field.queryset = departments
        window_field.queryset = windows

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        taken = User.objects.filter(username__iexact=username)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("该登录名已被使用。"))
        return username

    def staff_data(self) -> actions.StaffData:
        data = self.cleaned_data
        return actions.StaffData(
            username=data["username"],
            name=data["name"],
            role=data["role"],
            department=data["department"],
            window=data["window"],
            staff_no=data["staff_no"],
            mobile=data["mobile"],
        )


class StaffCreateForm(StaffForm, PasswordFieldsForm):
    """A new account also gets an initial password, to be changed at first login."""

    field_order = [*StaffForm.base_fields, "password1", "password2"]
