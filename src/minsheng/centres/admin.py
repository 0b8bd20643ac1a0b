"""The centres' data the county's admins edit, each change audited (appeals' ConfigAdmin):
batches, the function kinds of the 7+X checklist, the follow-up days, and the centres
themselves. A new centre is opened through ``actions.create_centre`` (it finds the town
government); the construction status is changed only on the centre's page, so the admin
shows it read-only. The records (opinions, matters, disputes) are the workers' and are not
edited here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from minsheng.appeals.admin import ConfigAdmin
from minsheng.centres import actions
from minsheng.centres.models import Batch, Centre, CentreSettings, FunctionKind


@admin.register(Batch)
class BatchAdmin(ConfigAdmin[Batch]):
    list_display = ["name", "year", "note"]


@admin.register(FunctionKind)
class FunctionKindAdmin(ConfigAdmin[FunctionKind]):
    list_display = ["name", "code", "basic", "order", "active"]
    list_filter = ["basic", "active"]
    list_editable = ["order", "active"]


@admin.register(CentreSettings)
class CentreSettingsAdmin(ConfigAdmin[CentreSettings]):
    """One row: it can be edited, never added twice or deleted."""

    list_display = ["__str__", "follow_up_working_days"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request) and not CentreSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CentreAdminForm(forms.ModelForm[Centre]):
    class Meta:
        model = Centre
        fields = ["village", "name", "batch", "address"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        village = data.get("village")
        if self.instance.pk is None and village is not None:
            # The action's own check, so that a refusal shows on the form.
            try:
                actions.village_for_centre(village.pk)
            except actions.CentreError as exc:
                self.add_error("village", exc.message)
        return data


@admin.register(Centre)
class CentreAdmin(ConfigAdmin[Centre]):
    form = CentreAdminForm
    list_display = ["name", "village", "department", "batch", "status", "status_on"]
    list_filter = ["status", "batch", "department"]
    search_fields = ["name", "village__name", "village__code"]
    readonly_fields = ["department", "status", "status_on"]

    def get_readonly_fields(self, request: HttpRequest, obj: Centre | None = None) -> Any:
        # The village is fixed once the centre exists: its records belong to that village.
        return [*self.readonly_fields, "village"] if obj is not None else self.readonly_fields

    def save_model(
        self, request: HttpRequest, obj: Centre, form: ModelForm[Centre], change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = actions.create_centre(
            obj.village_id,
            batch_id=obj.batch_id,
            name=obj.name,
            address=obj.address,
            by=request.user,  # type: ignore[arg-type]
        )
        obj.pk, obj.department_id, obj.status_on = (
            created.pk,
            created.department_id,
            created.status_on,
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
