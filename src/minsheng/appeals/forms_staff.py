"""Forms of the staff appeal pages. They only read input; every change goes through
``appeals.actions`` (the views call them), which re-checks rights, state and version."""

from __future__ import annotations

import re
import secrets
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from minsheng.appeals import actions, attachments
from minsheng.appeals.attachments import CleanFile
from minsheng.appeals.models import (
    AppealType,
    Category,
    Channel,
    Rating,
    RefusalRule,
    Urgency,
)
from minsheng.appeals.states import State
from minsheng.appeals.views.staff_queries import ALL, OPEN, departments
from minsheng.core.models import Department, Division

# The channels staff enter appeals from (web, API and Open311 come in by themselves).
STAFF_CHANNELS = [
    (c.value, c.label)
    for c in (
        Channel.HOTLINE,
        Channel.CENTRE,
        Channel.FIELD,
        Channel.DEPARTMENT,
        Channel.EMAIL,
        Channel.WECHAT,
    )
]


def _blank(choices: Any) -> list[tuple[str, Any]]:
    return [("", _("全部")), *choices]


class DivisionChoiceField(forms.ModelChoiceField[Division]):
    def label_from_instance(self, obj: Division) -> str:
        town = obj.town
        return f"{town.name} · {obj.name}" if town is not None and town != obj else obj.name


def division_field(required: bool = False) -> DivisionChoiceField:
    return DivisionChoiceField(
        queryset=Division.objects.filter(active=True)
        .exclude(level=Division.Level.COUNTY)
        .order_by("code"),
        required=required,
        label=_("所在乡镇/村（社区）"),
    )


def category_field(required: bool = False) -> forms.ModelChoiceField[Category]:
    return forms.ModelChoiceField(
        queryset=Category.objects.filter(active=True), required=required, label=_("分类")
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    """Several files at once; each is checked by ``attachments.clean`` (type read from the
    content, size limited, image metadata stripped) and comes out as ``CleanFile``s."""

    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            _("图片（JPG/PNG/WebP）或PDF，每个不超过10MB，最多%(n)s个")
            % {"n": attachments.MAX_FILES},
        )
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[CleanFile]:
        uploads: list[UploadedFile] = [
            f for f in (data if isinstance(data, list | tuple) else [data]) if f
        ]
        if len(uploads) > attachments.MAX_FILES:
            raise forms.ValidationError(
                _("最多上传%(n)s个附件") % {"n": attachments.MAX_FILES}, code="too_many"
            )
        cleaned = []
        for upload in uploads:
            try:
                cleaned.append(attachments.clean(upload))
            except attachments.AttachmentRejected as exc:
                raise forms.ValidationError(
                    _("%(name)s：%(reason)s") % {"name": upload.name, "reason": exc},
                    code="rejected",
                ) from None
        return cleaned


# ---------------------------------------------------------------- the workbench


class WorkbenchFilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    state = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[(OPEN, _("待办（未答复）")), (ALL, _("全部")), *State.choices],
    )
    appeal_type = forms.ChoiceField(
        label=_("类型"), required=False, choices=_blank(AppealType.choices)
    )
    urgency = forms.ChoiceField(
        label=_("紧急程度"), required=False, choices=_blank(Urgency.choices)
    )
    category = category_field()
    town = forms.ModelChoiceField(
        queryset=Division.objects.filter(active=True, level=Division.Level.TOWN).order_by("code"),
        required=False,
        label=_("乡镇"),
    )
    channel = forms.ChoiceField(label=_("渠道"), required=False, choices=_blank(Channel.choices))
    overdue = forms.BooleanField(label=_("只看超期"), required=False)
    received_from = forms.DateField(
        label=_("受理日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    received_to = forms.DateField(
        label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("received_from"), cleaned.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", _("结束日期不能早于开始日期"))
        return cleaned


class BulkForm(forms.Form):
    """Bulk 签收 or 派单: each item is ``<id>-<version>`` so every one is checked against
    the version the user saw, and goes through the action on its own."""

    SIGN = "sign"
    DISPATCH = "dispatch"

    action = forms.ChoiceField(choices=[(SIGN, _("批量签收")), (DISPATCH, _("批量派单"))])
    items = forms.MultipleChoiceField(required=True, error_messages={"required": _("请先勾选诉求")})
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(), required=False, label=_("主办部门")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments()  # type: ignore[attr-defined]
        # Any checked value; their shape is checked in clean_items.
        self.fields["items"].choices = [  # type: ignore[attr-defined]
            (v, v) for v in (self.data.getlist("items") if hasattr(self.data, "getlist") else [])
        ]

    def clean_items(self) -> list[tuple[int, int]]:
        pairs = []
        for value in self.cleaned_data["items"]:
            match = re.fullmatch(r"(\d{1,12})-(\d{1,9})", value)
            if match is None:
                raise forms.ValidationError(_("所选诉求有误，请刷新页面后重试"))
            pairs.append((int(match[1]), int(match[2])))
        return pairs

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("action") == self.DISPATCH and not cleaned.get("department"):
            self.add_error("department", _("请选择主办部门"))
        return cleaned


# ---------------------------------------------------------------- intake


class IntakeForm(forms.Form):
    """Staff intake (12345 热线, 邻里中心, 走访, 部门报送...): the citizen form plus the
    channel. ``idempotency_key`` makes a double click or a resent form one appeal."""

    channel = forms.ChoiceField(label=_("来源渠道"), choices=STAFF_CHANNELS)
    title = forms.CharField(label=_("标题"), max_length=100)
    body = forms.CharField(label=_("诉求内容"), widget=forms.Textarea(attrs={"rows": 6}))
    appeal_type = forms.ChoiceField(
        label=_("诉求类型"), choices=AppealType.choices, initial=AppealType.HELP
    )
    urgency = forms.ChoiceField(
        label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL
    )
    category = category_field()
    division = division_field()
    address = forms.CharField(label=_("详细地址"), max_length=200, required=False)
    anonymous = forms.BooleanField(label=_("群众要求匿名"), required=False)
    citizen_name = forms.CharField(label=_("群众姓名"), max_length=32, required=False)
    citizen_mobile = forms.CharField(
        label=_("联系电话（手机）"),
        max_length=11,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    consent_publish = forms.BooleanField(label=_("群众同意公开答复"), required=False)
    uploads = FilesField(label=_("附件"))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", secrets.token_urlsafe(24))
        super().__init__(*args, **kwargs)


# ---------------------------------------------------------------- the appeal page's actions


class VersionForm(forms.Form):
    """An action on the appeal as the user saw it: a changed version is a conflict."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class DispatchForm(VersionForm):
    department = forms.ModelChoiceField(queryset=Department.objects.none(), label=_("主办部门"))
    co_departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.none(),
        required=False,
        label=_("协办部门"),
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    note = forms.CharField(label=_("派单说明"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("department", "co_departments"):
            self.fields[name].queryset = departments()  # type: ignore[attr-defined]


class RefuseForm(VersionForm):
    rule = forms.ModelChoiceField(
        queryset=RefusalRule.objects.filter(active=True),
        to_field_name="code",
        label=_("不予受理/转办情形"),
    )
    note = forms.CharField(label=_("补充说明"), max_length=200, required=False)


class ReturnForm(VersionForm):
    reason = forms.CharField(
        label=_("退单理由"), widget=forms.Textarea(attrs={"rows": 3}), min_length=4
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("办理情况"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    uploads = FilesField(label=_("佐证材料"))


class ExtensionForm(forms.Form):
    days = forms.IntegerField(label=_("延期工作日"), min_value=1)
    reason = forms.CharField(label=_("延期理由"), widget=forms.Textarea(attrs={"rows": 3}))


class DecideExtensionForm(forms.Form):
    extension = forms.IntegerField(widget=forms.HiddenInput)
    approve = forms.TypedChoiceField(
        label=_("审批意见"),
        choices=[("1", _("同意延期")), ("0", _("不同意"))],
        coerce=lambda v: v == "1",
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class ReplyForm(VersionForm):
    # The action's own minimum, checked here too so that it is reported before the
    # reply check's warnings.
    text = forms.CharField(
        label=_("答复内容"),
        widget=forms.Textarea(attrs={"rows": 5}),
        min_length=actions.MIN_REPLY_CHARS,
        error_messages={"min_length": _("答复内容至少10个字")},
    )
    override = forms.BooleanField(
        label=_("仍然发送"),
        required=False,
        help_text=_("已看过答复检查的提示，确认按现有内容发送"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The box is offered only once the check's warnings are on the page (a form shown
        # again after a submission), so that it is ticked after reading them, not before.
        if not self.is_bound:
            self.fields["override"].widget = forms.HiddenInput()


_YES_NO = [("1", _("已解决")), ("0", _("未解决"))]


class CallbackForm(VersionForm):
    resolved = forms.TypedChoiceField(
        label=_("问题是否解决"), choices=_YES_NO, coerce=lambda v: v == "1"
    )
    level = forms.ChoiceField(label=_("满意度"), choices=Rating.Level.choices)
    comment = forms.CharField(label=_("群众意见"), max_length=1000, required=False)
    handler_at_fault = forms.BooleanField(
        label=_("不满意系承办单位原因（退回重办）"), required=False
    )


class ReviewForm(forms.Form):
    handler_at_fault = forms.TypedChoiceField(
        label=_("研判结果"),
        choices=[("1", _("承办单位原因，退回重办")), ("0", _("非承办单位原因，予以办结"))],
        coerce=lambda v: v == "1",
    )
    note = forms.CharField(label=_("研判说明"), max_length=500, required=False)


class MergeForm(forms.Form):
    numbers = forms.CharField(
        label=_("重复诉求编号"),
        help_text=_("多个编号用空格、逗号或换行分开"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_numbers(self) -> list[str]:
        numbers = [n.upper() for n in re.split(r"[\s,，、;；]+", self.cleaned_data["numbers"]) if n]
        if not numbers:
            raise forms.ValidationError(_("请填写要合并的诉求编号"))
        if len(numbers) > 50:
            raise forms.ValidationError(_("一次最多合并50件"))
        return list(dict.fromkeys(numbers))


class PromoteForm(VersionForm):
    reason = forms.CharField(
        label=_("转为实事项目的原因"), widget=forms.Textarea(attrs={"rows": 3}), min_length=4
    )


class SuperviseForm(forms.Form):
    note = forms.CharField(
        label=_("督办意见"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class DisputeForm(forms.Form):
    record = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("争议说明"), max_length=500, required=False)
