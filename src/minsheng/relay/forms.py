"""Forms of the proxy service pages; the actions check the meaning (matter, mobile, ID)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from minsheng.relay.models import Level, State

CHOOSE_MATTER = _("请从办事指南中选择办理事项")
CHOOSE_VILLAGE = _("请选择群众所在的村（社区）")


class CaseForm(forms.Form):
    matter = forms.IntegerField(
        label=_("办理事项"), error_messages={"required": CHOOSE_MATTER, "invalid": CHOOSE_MATTER}
    )
    citizen_name = forms.CharField(label=_("群众姓名"), max_length=32)
    mobile = forms.CharField(label=_("手机号"), max_length=20)
    id_number = forms.CharField(label=_("身份证号（选填）"), max_length=32, required=False)
    village = forms.IntegerField(
        label=_("所在村（社区）"),
        error_messages={"required": CHOOSE_VILLAGE, "invalid": CHOOSE_VILLAGE},
    )
    extra_materials = forms.CharField(
        label=_("其他材料（选填，每行一项）"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部")), *State.choices], required=False
    )
    level = forms.ChoiceField(
        label=_("当前环节"), choices=[("", _("全部")), *Level.choices], required=False
    )
    overdue = forms.BooleanField(label=_("只看超期"), required=False)
    number = forms.CharField(label=_("代办编号"), max_length=24, required=False)


class TrackForm(forms.Form):
    number = forms.CharField(label=_("代办编号"), max_length=24)
    mobile_tail = forms.RegexField(
        label=_("手机号后四位"),
        regex=r"^\d{4}$",
        error_messages={"invalid": _("请输入委托时所留手机号的后四位数字")},
    )

    def clean_number(self) -> str:
        return str(self.cleaned_data["number"]).strip().upper()
