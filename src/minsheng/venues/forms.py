from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class RegisterForm(forms.Form):
    """A resident registers at the school gate or the community office; the ID number is
    checked (GB 11643) by the action, which also keeps only its keyed hash."""

    name = forms.CharField(label=_("姓名"), max_length=32)
    id_number = forms.CharField(label=_("身份证号"), max_length=32)
    mobile = forms.RegexField(
        label=_("手机号"),
        regex=r"^1[3-9]\d{9}$",
        required=False,
        error_messages={"invalid": _("请输入11位手机号码")},
    )
    gate_identity = forms.CharField(
        label=_("闸机身份标识"),
        max_length=64,
        required=False,
        help_text=_("闸机已采集人脸时，填写闸机给出的标识；没有可不填"),
    )


class BanForm(forms.Form):
    banned = forms.BooleanField(required=False)
    reason = forms.CharField(label=_("禁止原因"), max_length=128, required=False)
