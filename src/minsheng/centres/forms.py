"""The forms of the centre pages. They check only the shape of the input (a date is a date);
what is allowed is decided by ``actions``, whose refusals the views put on these fields."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.centres.models import Batch, Dispute, FunctionKind, FunctionState, Matter, Opinion
from minsheng.centres.models import Status as CentreStatus
from minsheng.core.models import Division, User

DATE_ERRORS = {"invalid": _("日期格式应为 2026-11-20")}


def _date_field(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages=DATE_ERRORS,
    )


class FilterForm(forms.Form):
    town = forms.ModelChoiceField(
        label=_("乡镇（街道）"), queryset=Division.objects.none(), required=False,
        empty_label=_("全部"),
    )  # fmt: skip
    status = forms.ChoiceField(
        label=_("建设状态"), choices=[("", _("全部")), *CentreStatus.choices], required=False
    )
    batch = forms.ModelChoiceField(
        label=_("批次"), queryset=Batch.objects.all(), required=False, empty_label=_("全部")
    )

    def __init__(self, *args: Any, towns: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        town_field = self.fields["town"]
        assert isinstance(town_field, forms.ModelChoiceField)
        town_field.queryset = towns


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("改为"), choices=CentreStatus.choices)
    on = _date_field(_("日期"))
    note = forms.CharField(
        label=_("说明"), max_length=200, required=False, help_text=_("退回上一状态时必填")
    )
    expected = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, offer: list[CentreStatus] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if offer is not None:  # the page offers only the steps allowed from here
            status = self.fields["status"]
            assert isinstance(status, forms.ChoiceField)
            status.choices = [(s.value, s.label) for s in offer]


class FunctionsForm(forms.Form):
    """The 7+X checklist: one choice and one note per active function kind."""

    def __init__(self, *args: Any, kinds: list[FunctionKind], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kinds = kinds
        for kind in kinds:
            self.fields[f"kind_{kind.pk}"] = forms.ChoiceField(
                label=kind.name, choices=FunctionState.choices
            )
            self.fields[f"note_{kind.pk}"] = forms.CharField(
                label=_("%(kind)s说明") % {"kind": kind.name}, max_length=100, required=False
            )

    def rows(self) -> list[tuple[FunctionKind, forms.BoundField, forms.BoundField]]:
        return [(k, self[f"kind_{k.pk}"], self[f"note_{k.pk}"]) for k in self.kinds]

    def states(self) -> dict[int, str]:
        return {k.pk: self.cleaned_data[f"kind_{k.pk}"] for k in self.kinds}

    def notes(self) -> dict[int, str]:
        return {k.pk: self.cleaned_data[f"note_{k.pk}"] for k in self.kinds}


class OpinionForm(forms.Form):
    kind = forms.ChoiceField(label=_("类别"), choices=Opinion.Kind.choices)
    title = forms.CharField(label=_("标题"), max_length=100)
    body = forms.CharField(label=_("内容"), widget=forms.Textarea(attrs={"rows": 4}))
    citizen_name = forms.CharField(label=_("群众姓名"), max_length=32, required=False)
    citizen_mobile = forms.CharField(
        label=_("群众手机号"),
        max_length=11,
        required=False,
        help_text=_("用于短信告知编号、查询码和办理结果；不留手机号请选匿名"),
    )
    anonymous = forms.BooleanField(label=_("匿名反映"), required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # A double click or a reloaded page sends the same key: one appeal, not two.
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", secrets.token_urlsafe(24))
        super().__init__(*args, **kwargs)


class MatterForm(forms.Form):
    type = forms.ChoiceField(label=_("事项类型"), choices=Matter.Type.choices)
    person_name = forms.CharField(label=_("办事群众"), max_length=32)
    mobile = forms.CharField(label=_("手机号（选填）"), max_length=11, required=False)
    description = forms.CharField(label=_("办理事项"), max_length=200)
    outcome = forms.ChoiceField(label=_("办理结果"), choices=Matter.Outcome.choices)
    handled_on = _date_field(_("办理日期"))


class StaffChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class DisputeForm(forms.Form):
    parties = forms.CharField(
        label=_("当事人"), max_length=200, help_text=_("两人或多人，姓名之间用顿号分开")
    )
    type = forms.ChoiceField(label=_("纠纷类型"), choices=Dispute.Type.choices)
    description = forms.CharField(
        label=_("纠纷情况"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    mediator = StaffChoiceField(label=_("调解人"), queryset=User.objects.none(), empty_label=None)
    mediated_on = _date_field(_("调解日期"))
    outcome = forms.ChoiceField(label=_("调解结果"), choices=Dispute.Outcome.choices)
    agreement = forms.FileField(
        label=_("调解协议书（选填）"),
        required=False,
        help_text=_("PDF 或照片（JPG、PNG），不超过 10MB"),
    )

    def __init__(self, *args: Any, mediators: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mediator = self.fields["mediator"]
        assert isinstance(mediator, StaffChoiceField)
        mediator.queryset = mediators


class FollowUpForm(forms.Form):
    """The visit of one dispute (each open dispute has its own form on the page)."""

    done_on = _date_field(_("回访日期"))
    note = forms.CharField(label=_("回访情况"), max_length=200)

    def __init__(self, *args: Any, dispute: Dispute, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dispute = dispute
