from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from minsheng.catalog.models import MatterType
from minsheng.core.models import Department


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("事项名称或关键词"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("例如：营业执照、公积金、社保卡")}),
    )
    department = forms.ModelChoiceField(
        label=_("部门"), queryset=Department.objects.none(), required=False, empty_label=_("全部")
    )
    type = forms.ChoiceField(label=_("类型"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(  # type: ignore[attr-defined]
            service_matters__active=True
        ).distinct()
        self.fields["type"].choices = [("", _("全部")), *MatterType.choices]  # type: ignore[attr-defined]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("文件（.xlsx 或 .csv）"))
    valid_only = forms.BooleanField(
        label=_("有错误时只导入无误的行"),
        required=False,
        help_text=_("不勾选时，只要有一行有错误就不写入任何数据"),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("只支持 .xlsx 和 .csv 文件"))
        if upload.size > 20 * 1024 * 1024:
            raise forms.ValidationError(_("文件不能超过 20 MB"))
        return upload
