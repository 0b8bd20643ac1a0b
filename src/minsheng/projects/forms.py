"""Forms of the staff 实事项目 pages. They read and check input in Chinese; every change goes
through ``projects.actions``, which checks rights, state and version again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.appeals.attachments import MAX_FILES, CleanFile
from minsheng.appeals.forms_staff import FilesField, MultipleFileInput
from minsheng.core.models import Department
from minsheng.core.models.org import mobile_validator
from minsheng.projects.models import (
    Batch,
    Milestone,
    Project,
    ProjectCategory,
    ProjectSource,
    ResultLevel,
    Target,
)
from minsheng.projects.states import EscalationStep, LedgerStatus

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONTH = "%Y-%m"


def number(value: Decimal) -> str:
    """14.50 → "14.5", 20000.00 → "20000": how people write a target."""
    return f"{value.normalize():f}"


def _all(choices: Any) -> list[tuple[str, Any]]:
    return [("", _("全部")), *choices]


def units() -> QuerySet[Department]:
    return Department.objects.filter(active=True).order_by("sort_order", "code")


class UnitChoiceField(forms.ModelChoiceField[Department]):
    def label_from_instance(self, obj: Department) -> str:
        return obj.label


class UnitMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Department) -> str:
        return obj.label


# ---------------------------------------------------------------- lists


class ProjectFilterForm(forms.Form):
    batch = forms.ModelChoiceField(
        queryset=Batch.objects.all(), required=False, label=_("批次"), empty_label=_("全部")
    )
    category = forms.ModelChoiceField(
        queryset=ProjectCategory.objects.all(),
        required=False,
        label=_("类别"),
        empty_label=_("全部"),
    )
    unit = UnitChoiceField(
        queryset=units(), required=False, label=_("责任单位"), empty_label=_("全部")
    )
    status = forms.ChoiceField(label=_("状态"), required=False, choices=_all(LedgerStatus.choices))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Querysets are evaluated per request: a unit added today is in today's filter.
        self.fields["unit"].queryset = units()  # type: ignore[attr-defined]


class LedgerFilterForm(ProjectFilterForm):
    step = forms.ChoiceField(
        label=_("督办措施"),
        required=False,
        choices=[("", _("全部")), ("none", _("未督办")), *EscalationStep.choices],
    )


# ---------------------------------------------------------------- create / edit


class ProjectForm(forms.Form):
    batch = forms.ModelChoiceField(
        queryset=Batch.objects.all(), label=_("批次"), empty_label=_("请选择")
    )
    title = forms.CharField(label=_("项目名称"), max_length=200)
    category = forms.ModelChoiceField(
        queryset=ProjectCategory.objects.filter(active=True),
        label=_("类别"),
        empty_label=_("请选择"),
    )
    lead_unit = UnitChoiceField(queryset=units(), label=_("牵头单位"), empty_label=_("请选择"))
    co_units = UnitMultipleChoiceField(
        queryset=units(),
        required=False,
        label=_("配合单位"),
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    leader_name = forms.CharField(label=_("责任领导"), max_length=32, required=False)
    contact_name = forms.CharField(label=_("联系人"), max_length=32, required=False)
    contact_phone = forms.CharField(
        label=_("联系电话（手机）"),
        max_length=11,
        required=False,
        validators=[mobile_validator],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    measures = forms.CharField(
        label=_("具体措施"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    budget = forms.DecimalField(
        label=_("预算（万元，选填）"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
    )
    source = forms.ChoiceField(label=_("项目来源"), choices=ProjectSource.choices)
    deadline = forms.DateField(label=_("完成时限"), widget=DATE)
    start = forms.BooleanField(
        label=_("保存后立即下达"),
        required=False,
        help_text=_("下达后责任单位开始按月报送进展；不勾选则存为草稿"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    FIELDS = (
        "batch",
        "title",
        "category",
        "lead_unit",
        "co_units",
        "leader_name",
        "contact_name",
        "contact_phone",
        "measures",
        "budget",
        "source",
        "deadline",
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("lead_unit", "co_units"):
            self.fields[name].queryset = units()  # type: ignore[attr-defined]
        if editing:
            # A project stays in the batch it was published in.
            del self.fields["start"]
            del self.fields["batch"]
            # A category retired since keeps showing on the projects that have it.
            self.fields["category"].queryset = ProjectCategory.objects.all()  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, project: Project) -> dict[str, Any]:
        initial = {name: getattr(project, name) for name in cls.FIELDS if name != "co_units"}
        initial["co_units"] = list(project.co_units.all())
        initial["version"] = project.version
        return initial

    def fields_for_action(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data[name] for name in self.FIELDS if name in data}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        lead, co = cleaned.get("lead_unit"), cleaned.get("co_units")
        if lead is not None and co and lead in co:
            self.add_error("co_units", _("牵头单位不必再列为配合单位"))
        return cleaned


# ---------------------------------------------------------------- progress report


class ReportForm(forms.Form):
    """The unit's report for one period: the cumulative value of each target is asked in a
    field of its own (``target_<id>``)."""

    period = forms.ChoiceField(label=_("报送期"))
    text = forms.CharField(
        label=_("本期进展情况"),
        widget=forms.Textarea(attrs={"rows": 6}),
        min_length=10,
        max_length=4000,
        error_messages={"min_length": _("请至少写%(limit_value)d个字，说明本期做了什么")},
    )
    percent = forms.IntegerField(
        label=_("总体完成进度（%）"),
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "min_value": _("完成进度应在0到100之间"),
            "max_value": _("完成进度应在0到100之间"),
            "invalid": _("请输入0到100之间的整数"),
        },
    )
    done_milestones = forms.TypedMultipleChoiceField(
        label=_("本期完成的计划节点"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    photos = FilesField(label=_("现场照片"), help_text=_("JPG、PNG或WebP图片，每张不超过10MB"))
    documents = FilesField(label=_("佐证文件（PDF）"), help_text=_("PDF文件，每个不超过10MB"))

    def __init__(
        self,
        *args: Any,
        project: Project,
        periods: list[dt.date],
        targets: list[Target],
        milestones: list[Milestone],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        self.targets = targets
        self.fields["period"].choices = [  # type: ignore[attr-defined]
            (p.strftime(MONTH), f"{p.year}年{p.month}月") for p in periods
        ]
        self.fields["done_milestones"].choices = [  # type: ignore[attr-defined]
            (m.pk, f"{m.month.month}月 {m.title}") for m in milestones
        ]
        if not milestones:
            del self.fields["done_milestones"]
        self.fields["photos"].widget = MultipleFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp"}
        )
        self.fields["documents"].widget = MultipleFileInput(attrs={"accept": "application/pdf"})
        for target in targets:
            self.fields[f"target_{target.pk}"] = forms.DecimalField(
                label=_("%(name)s累计完成（%(unit)s，计划%(planned)s）")
                % {"name": target.name, "unit": target.unit, "planned": number(target.planned)},
                max_digits=14,
                decimal_places=2,
                min_value=Decimal(0),
                required=False,
                initial=number(target.reached),
                error_messages={
                    "invalid": _("请输入数字"),
                    "min_value": _("完成值不能为负数"),
                    "max_decimal_places": _("最多保留两位小数"),
                    "max_digits": _("数值过大"),
                },
            )
        # The numbers the unit fills in every month come first, the attachments last.
        self.order_fields(
            ["period", "text", "percent", *(f"target_{t.pk}" for t in targets), "done_milestones"]
        )

    def clean_period(self) -> dt.date:
        return dt.datetime.strptime(self.cleaned_data["period"], MONTH).date()

    def clean_photos(self) -> list[CleanFile]:
        files: list[CleanFile] = self.cleaned_data["photos"]
        for item in files:
            if not item.content_type.startswith("image/"):
                raise forms.ValidationError(
                    _("%(name)s不是图片，请放在佐证文件中上传") % {"name": item.original_name}
                )
        return files

    def clean_documents(self) -> list[CleanFile]:
        files: list[CleanFile] = self.cleaned_data["documents"]
        for item in files:
            if item.content_type != "application/pdf":
                raise forms.ValidationError(
                    _("%(name)s不是PDF文件，照片请放在现场照片中上传")
                    % {"name": item.original_name}
                )
        return files

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        count = len(cleaned.get("photos") or []) + len(cleaned.get("documents") or [])
        if count > MAX_FILES:
            self.add_error(None, _("照片和文件合计最多%(n)s个") % {"n": MAX_FILES})
        return cleaned

    def uploads(self) -> list[CleanFile]:
        return [*self.cleaned_data.get("photos", []), *self.cleaned_data.get("documents", [])]

    def values(self) -> dict[int, Decimal]:
        result = {}
        for target in self.targets:
            value = self.cleaned_data.get(f"target_{target.pk}")
            if value is not None:
                result[target.pk] = value
        return result

    def target_fields(self) -> list[forms.BoundField]:
        return [self[f"target_{t.pk}"] for t in self.targets]


class ReturnReportForm(forms.Form):
    reason = forms.CharField(
        label=_("退回原因"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )


# ---------------------------------------------------------------- escalation


class EscalateForm(forms.Form):
    step = forms.ChoiceField(label=_("督办措施"), choices=EscalationStep.choices)
    milestone = forms.ModelChoiceField(
        queryset=Milestone.objects.none(),
        required=False,
        label=_("针对节点（选填）"),
        empty_label=_("（针对整个项目）"),
    )
    text = forms.CharField(
        label=_("督办内容"), widget=forms.Textarea(attrs={"rows": 5}), max_length=4000
    )
    due = forms.DateField(
        label=_("办结期限"), required=False, widget=DATE, help_text=_("限期办结时必填")
    )

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["milestone"].queryset = project.milestones.filter(done_at__isnull=True)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        due = cleaned.get("due")
        if cleaned.get("step") == EscalationStep.TIME_LIMIT:
            if due is None:
                self.add_error("due", _("限期办结须写明办结期限"))
            elif due <= timezone.localdate():
                self.add_error("due", _("办结期限应晚于今天"))
        return cleaned


class InterviewForm(forms.Form):
    held_on = forms.DateField(label=_("约谈日期"), widget=DATE)
    attendees = forms.CharField(
        label=_("参加人员"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )
    agreed = forms.CharField(
        label=_("议定事项"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )

    def clean_held_on(self) -> dt.date:
        held_on: dt.date = self.cleaned_data["held_on"]
        if held_on > timezone.localdate():
            raise forms.ValidationError(_("约谈日期不能晚于今天"))
        return held_on


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("整改情况"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


# ---------------------------------------------------------------- 销号


class CloseOutApplyForm(forms.Form):
    evidence = forms.CharField(
        label=_("完成情况及佐证"),
        widget=forms.Textarea(attrs={"rows": 6}),
        min_length=10,
        max_length=4000,
        error_messages={"min_length": _("请至少写%(limit_value)d个字，说明完成情况")},
    )
    uploads = FilesField(label=_("佐证材料"))


class CloseOutDecideForm(forms.Form):
    ACCEPT = "accept"
    REJECT = "reject"

    decision = forms.ChoiceField(
        label=_("验收结论"),
        choices=[(ACCEPT, _("验收通过，予以销号")), (REJECT, _("退回，继续推进"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("验收意见"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("decision") == self.REJECT and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("退回时请写明原因"))
        return cleaned


# ---------------------------------------------------------------- plan import


class PlanImportForm(forms.Form):
    file = forms.FileField(
        label=_("配档表（Excel .xlsx）"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )
    keep_valid = forms.BooleanField(
        label=_("只导入无误的项目"),
        required=False,
        help_text=_("勾选后跳过有错误的项目，其余照常导入；不勾选时只要有一处错误就不导入任何内容"),
    )

    MAX_BYTES = 5 * 1024 * 1024

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not (upload.name or "").lower().endswith(".xlsx"):
            raise forms.ValidationError(_("请上传 .xlsx 格式的 Excel 文件"))
        if upload.size is not None and upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("文件不能超过5MB"))
        return upload


class PlanExportForm(forms.Form):
    batch = forms.ModelChoiceField(
        queryset=Batch.objects.all(), required=False, label=_("批次"), empty_label=_("全部批次")
    )


class ResultRatingForm(forms.Form):
    """The citizen's rating of a closed project, on its public page (no login)."""

    level = forms.TypedChoiceField(
        label=_("您对项目的实施效果满意吗？"),
        choices=ResultLevel.choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择满意程度")},
    )
    comment = forms.CharField(
        label=_("意见建议"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("选填，500字以内。"),
    )
