"""The citizens' forms: reporting a problem, tracking it, looking it up, rating the reply.

Messages are written for elderly users on a phone: short, plain Chinese, saying what to do.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from minsheng.appeals import attachments
from minsheng.appeals.actions import AppealInput
from minsheng.appeals.models import AppealType, Category, Channel, Rating, Urgency
from minsheng.core.models import Division
from minsheng.core.models.org import mobile_validator

Choices = list[tuple[Any, Any]]

FORM_KEY_PATTERN = re.compile(r"^[0-9a-f]{32}$")


def new_form_key() -> str:
    return secrets.token_hex(16)


def normalise_mobile(value: str) -> str:
    """What people type: spaces, dashes, a +86 in front; the 11 digits are what counts."""
    digits = re.sub(r"[\s\-－—]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


class MobileField(forms.CharField):
    default_error_messages = {"required": _("请填写手机号码")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel", "maxlength": 20}),
        )
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        return normalise_mobile(super().to_python(value) or "")

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value:
            mobile_validator(value)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files at once; each is checked by ``attachments.clean`` (type from the content,
    image metadata stripped) and every rejected file gets its own message."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs["accept"] = ",".join(attachments.ALLOWED)

    def clean(self, data: Any, initial: Any = None) -> list[attachments.CleanFile]:
        uploads: list[UploadedFile] = [
            f for f in (data if isinstance(data, list | tuple) else [data]) if f
        ]
        if len(uploads) > attachments.MAX_FILES:
            raise ValidationError(
                _("最多只能上传%(n)d个附件，您选择了%(m)d个")
                % {"n": attachments.MAX_FILES, "m": len(uploads)}
            )
        cleaned: list[attachments.CleanFile] = []
        errors: list[str] = []
        for upload in uploads:
            try:
                cleaned.append(attachments.clean(upload))
            except attachments.AttachmentRejected as exc:
                errors.append(f"{upload.name}：{exc}")
        if errors:
            raise ValidationError(errors)
        return cleaned


def category_choices() -> Choices:
    """Active categories grouped under their top-level category (an ``<optgroup>`` each)."""
    nodes = {c.pk: c for c in Category.objects.all()}

    def chain(category: Category) -> list[Category]:
        path = [category]
        while path[-1].parent_id is not None and path[-1].parent_id in nodes:
            path.append(nodes[path[-1].parent_id])
        return list(reversed(path))

    groups: dict[int, list[tuple[int, str]]] = {}
    roots: list[Category] = []
    for category in nodes.values():
        path = chain(category)
        if not all(c.active for c in path):
            continue
        root = path[0]
        if root is category:
            roots.append(root)
        else:
            label = " / ".join(c.name for c in path[1:])
            groups.setdefault(root.pk, []).append((category.pk, label))
    choices: Choices = [("", _("不清楚（由工作人员分类）"))]
    for root in roots:
        children = groups.get(root.pk)
        if children:
            other = _("%(name)s（其他）") % {"name": root.name}
            choices.append((root.name, [(root.pk, other), *children]))
        else:
            choices.append((root.pk, root.name))
    return choices


def towns() -> QuerySet[Division]:
    return Division.objects.filter(level=Division.Level.TOWN, active=True).order_by("code")


def village_choices(town_id: int | None) -> Choices:
    """The villages of ``town_id``; without a town, all of them grouped by town (so the form
    works as two plain selects when JavaScript is off)."""
    villages = Division.objects.filter(
        level=Division.Level.VILLAGE, active=True, parent__active=True
    ).select_related("parent")
    choices: Choices = [("", _("（不选）"))]
    if town_id is not None:
        choices += [(v.pk, v.name) for v in villages.filter(parent_id=town_id)]
        return choices
    grouped: dict[str, list[tuple[int, str]]] = {}
    for village in villages.order_by("parent__code", "code"):
        assert village.parent is not None
        grouped.setdefault(village.parent.name, []).append((village.pk, village.name))
    return choices + list(grouped.items())


class VillageField(forms.TypedChoiceField):
    """The select shows the chosen town's villages; the form's ``clean`` checks the pick
    against the town, so that the citizen is told which village does not belong where."""

    def valid_value(self, value: Any) -> bool:
        return True


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class SubmitForm(forms.Form):
    title = forms.CharField(
        label=_("标题"),
        max_length=100,
        help_text=_("一句话说明是什么问题，如：村口路灯不亮"),
        error_messages={"required": _("请填写标题")},
    )
    body = forms.CharField(
        label=_("问题描述"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=4000,
        help_text=_("请写清楚时间、地点和具体情况"),
        error_messages={"required": _("请描述您反映的问题")},
    )
    appeal_type = forms.ChoiceField(
        label=_("诉求类型"),
        choices=AppealType.choices,
        initial=AppealType.HELP,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择诉求类型")},
    )
    urgency = forms.ChoiceField(
        label=_("紧急程度"),
        choices=Urgency.choices,
        initial=Urgency.NORMAL,
        widget=forms.RadioSelect,
        help_text=_("遇到火警、治安、急救、交通事故，请立即拨打119、110、120、122"),
        error_messages={"required": _("请选择紧急程度")},
    )
    category = forms.TypedChoiceField(
        label=_("问题分类"), required=False, coerce=int, empty_value=None
    )
    town = forms.ModelChoiceField(
        label=_("所在乡镇/街道"),
        queryset=Division.objects.none(),
        required=False,
        empty_label=_("（不选）"),
    )
    village = VillageField(
        label=_("所在村/社区"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("请重新选择村/社区")},
    )
    address = forms.CharField(
        label=_("详细地址"),
        max_length=200,
        required=False,
        help_text=_("如：xx路xx号附近。不会公开"),
    )
    anonymous = forms.BooleanField(
        label=_("匿名反映（不留姓名）"),
        required=False,
        help_text=_("匿名时可不填手机号，但只能凭编号和查询码查询进度"),
    )
    citizen_name = forms.CharField(label=_("您的姓名"), max_length=32, required=False)
    citizen_mobile = MobileField(
        label=_("手机号码"),
        required=False,
        help_text=_("用于接收受理和答复短信，不会公开"),
    )
    uploads = AttachmentsField(
        label=_("照片或材料"),
        help_text=_("可选，最多%(n)d个，支持照片和PDF，每个不超过10MB")
        % {"n": attachments.MAX_FILES},
    )
    consent_publish = forms.BooleanField(
        label=_("同意公开办理答复"),
        required=False,
        help_text=_("公开时隐去姓名、电话和详细地址，只显示到乡镇"),
    )
    form_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        town_field = self.fields["town"]
        assert isinstance(town_field, forms.ModelChoiceField)
        town_field.queryset = towns()
        # With htmx, choosing a town swaps in the select of its villages only.
        town_field.widget.attrs.update(
            {
                "hx-get": reverse("appeals:villages"),
                "hx-trigger": "change",
                "hx-target": "#village-field",
                "hx-swap": "outerHTML",
            }
        )
        category_field = self.fields["category"]
        assert isinstance(category_field, forms.TypedChoiceField)
        category_field.choices = category_choices()
        village_field = self.fields["village"]
        assert isinstance(village_field, forms.TypedChoiceField)
        village_field.choices = village_choices(self.selected_town_id())

    def selected_town_id(self) -> int | None:
        value = self.data.get("town") if self.is_bound else self.initial.get("town")
        town_id = _int_or_none(getattr(value, "pk", value))
        if town_id is not None and towns().filter(pk=town_id).exists():
            return town_id
        return None

    def clean_form_key(self) -> str:
        key: str = self.cleaned_data["form_key"]
        if not FORM_KEY_PATTERN.match(key):
            raise ValidationError(_("页面已过期，请重新提交"))
        return key

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        town: Division | None = data.get("town")
        village_id: int | None = data.get("village")
        if village_id is not None:
            village = Division.objects.filter(
                pk=village_id, level=Division.Level.VILLAGE, active=True
            ).first()
            if village is None:
                self.add_error("village", _("所选村/社区不存在"))
            elif town is None:
                # Without JavaScript the villages are listed under every town: take its town.
                data["town"] = village.parent
            elif village.parent_id != town.pk:
                self.add_error(
                    "village",
                    _("“%(village)s”不属于“%(town)s”，请重新选择")
                    % {"village": village.name, "town": town.name},
                )
        mobile_missing = not data.get("anonymous") and not data.get("citizen_mobile")
        if mobile_missing and "citizen_mobile" not in self.errors:
            self.add_error("citizen_mobile", _("请填写手机号码，或勾选“匿名反映”"))
        body = (data.get("body") or "").strip()
        if "body" in data and len(body) < 5:
            self.add_error("body", _("请把问题描述清楚（至少5个字）"))
        return data

    def appeal_input(self) -> AppealInput:
        data = self.cleaned_data
        town: Division | None = data.get("town")
        division_id = data.get("village") or (town.pk if town is not None else None)
        anonymous = bool(data.get("anonymous"))
        return AppealInput(
            title=data["title"],
            body=data["body"],
            appeal_type=data["appeal_type"],
            urgency=data["urgency"],
            category_id=data.get("category"),
            division_id=division_id,
            address=data.get("address", ""),
            anonymous=anonymous,
            citizen_name="" if anonymous else data.get("citizen_name", ""),
            citizen_mobile=data.get("citizen_mobile", ""),
            consent_publish=bool(data.get("consent_publish")),
            channel=Channel.WEB,
            files=data.get("uploads") or [],
        )


class TrackForm(forms.Form):
    number = forms.CharField(
        label=_("受理编号"),
        max_length=32,
        help_text=_("如：YT-20261122-000123"),
        error_messages={"required": _("请填写受理编号")},
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    code = forms.CharField(
        label=_("查询码"),
        max_length=16,
        help_text=_("提交时页面上显示的8位查询码，也在受理短信里"),
        error_messages={"required": _("请填写查询码")},
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )

    def clean_number(self) -> str:
        return re.sub(r"\s", "", self.cleaned_data["number"]).upper()

    def clean_code(self) -> str:
        return re.sub(r"\s", "", self.cleaned_data["code"]).upper()


class LookupMobileForm(forms.Form):
    mobile = MobileField(label=_("手机号码"), help_text=_("反映问题时留下的手机号码"))


class LookupCodeForm(forms.Form):
    code = forms.RegexField(
        label=_("短信验证码"),
        regex=r"^\d{6}$",
        max_length=6,
        error_messages={"required": _("请填写短信验证码"), "invalid": _("验证码是6位数字")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6}
        ),
    )

    def clean_code(self) -> str:
        return str(self.cleaned_data["code"]).strip()


class RatingForm(forms.Form):
    resolved = forms.TypedChoiceField(
        label=_("您的问题解决了吗？"),
        choices=[("yes", _("已解决")), ("no", _("未解决"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择问题是否解决")},
    )
    level = forms.ChoiceField(
        label=_("您对办理结果满意吗？"),
        choices=Rating.Level.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择满意程度")},
    )
    comment = forms.CharField(
        label=_("意见和建议"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("选填。不满意时请写明原因，我们会督促重新办理"),
    )


class PublicSearchForm(forms.Form):
    q = forms.CharField(label=_("关键词"), max_length=50, required=False)
