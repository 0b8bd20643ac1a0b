from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from minsheng.canteens.models import Diner


class DinerForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=32)
    id_number = forms.CharField(label=_("身份证号"), max_length=32)
    category = forms.ChoiceField(label=_("类别"), choices=Diner.Category.choices)
    proof = forms.CharField(
        label=_("困难证明"),
        max_length=64,
        required=False,
        help_text=_("困难群众填写低保证、特困证等证明的编号"),
    )


class MonthForm(forms.Form):
    month = forms.DateField(
        label=_("月份"), input_formats=["%Y-%m"], required=False,
        error_messages={"invalid": _("月份格式应为 2026-11")},
    )  # fmt: skip
