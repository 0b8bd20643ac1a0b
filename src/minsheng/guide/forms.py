from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SynonymForm(forms.Form):
    phrase = forms.CharField(label=_("群众说法"), max_length=64, help_text=_("如：开饭馆、上户口"))
    official = forms.CharField(
        label=_("规范说法"),
        max_length=200,
        help_text=_("事项名称中的词，多个用空格分隔，如：食品经营许可 餐饮"),
    )
    note = forms.CharField(label=_("备注"), max_length=200, required=False)
