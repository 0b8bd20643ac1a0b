"""Forms of the 好差评 pages (the actions validate again; the forms say it in the page)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from minsheng.evaluation.actions import RatingInput
from minsheng.evaluation.models import BAD_LEVELS, Finding, Indicator, Level, Reason


class RatingForm(forms.Form):
    level = forms.TypedChoiceField(
        label=_("满意度"), choices=Level.choices, coerce=int, widget=forms.RadioSelect
    )
    reasons = forms.MultipleChoiceField(
        label=_("不满意的原因"),
        choices=Reason.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    comment = forms.CharField(
        label=_("意见建议"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("level") in BAD_LEVELS and not data.get("reasons"):
            self.add_error("reasons", _("请选择不满意的原因"))
        return data

    def rating_input(self) -> RatingInput:
        data = self.cleaned_data
        return RatingInput(
            level=data["level"],
            reasons=data.get("reasons") or [],
            comment=data.get("comment") or "",
            indicators={
                key.removeprefix("ind_"): int(value)
                for key, value in data.items()
                if key.startswith("ind_") and value
            },
        )


INDICATOR_CHOICES = [("", _("请选择")), *[(str(v), label) for v, label in Level.choices]]


class OnlineRatingForm(RatingForm):
    """The phone page asks the item indicators too (办事效率, 办事指南准确度…)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value, label in Indicator.choices:
            self.fields[f"ind_{value}"] = forms.ChoiceField(
                label=label, choices=INDICATOR_CHOICES, required=True
            )

    def indicator_fields(self) -> list[forms.BoundField]:
        return [self[f"ind_{value}"] for value in Indicator.values]


class HotlineForm(RatingForm):
    number = forms.CharField(label=_("办件编号"), max_length=20, help_text=_("回执上的BJ开头编号"))


class StartEventForm(forms.Form):
    matter = forms.TypedChoiceField(
        label=_("办理事项"), required=False, coerce=int, empty_value=None
    )
    mobile = forms.RegexField(
        label=_("办事人手机号（选填，用于发送评价短信）"),
        regex=r"^1[3-9]\d{9}$",
        required=False,
        error_messages={"invalid": _("请输入11位手机号码")},
    )

    def __init__(self, *args: Any, matters: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["matter"].choices = [("", _("（不指定）")), *matters]  # type: ignore[attr-defined]


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class ClassifyForm(NoteForm):
    finding = forms.ChoiceField(label=_("定性"), choices=Finding.choices, widget=forms.RadioSelect)


class RectifyForm(forms.Form):
    measures = forms.CharField(label=_("整改措施"), widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.CharField(
        label=_("整改佐证"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class FeedbackForm(NoteForm):
    level = forms.TypedChoiceField(label=_("群众对整改的评价"), choices=Level.choices, coerce=int)


class AppealForm(forms.Form):
    reason = forms.CharField(label=_("申诉理由"), widget=forms.Textarea(attrs={"rows": 3}))
