"""The service catalogue (办事指南), public and read-only: kiosks, apps and other portals
read the matters without a token (``auth=None``). Only active matters are shown."""

# No "from __future__ import annotations": django-ninja reads the annotations at runtime.

from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from minsheng.api.errors import NOT_FOUND, ApiError
from minsheng.api.pagination import PageNumberPagination
from minsheng.catalog.models import MatterType, ServiceMatter

router = Router(tags=["catalog"])


class WindowOut(Schema):
    hall: str
    number: str
    name: str
    label: str = Field(description="例如“A厅04号窗口”")


class MaterialOut(Schema):
    name: str
    kind: str = Field(description="original / copy / both / electronic")
    kind_label: str
    copies: int
    required: bool
    notes: str


class FaqOut(Schema):
    question: str
    answer: str


class MatterOut(Schema):
    code: str
    name: str
    short_name: str
    department: str
    matter_type: str
    matter_type_label: str
    promised_days: int | None = Field(description="承诺办结时限（工作日），0 为即办")
    visits_required: int = Field(description="到现场次数，0 为零跑动")
    online: bool
    high_frequency: bool
    windows: list[WindowOut]


class MatterDetailOut(MatterOut):
    aliases: list[str]
    audience: str
    conditions: str
    legal_basis: str
    statutory_days: int | None
    fee: str
    location: str
    opening_hours: str
    consult_phone: str
    complaint_phone: str
    online_url: str
    materials: list[MaterialOut]
    steps: list[str]
    faqs: list[FaqOut]
    updated_at: str


class MatterFilters(Schema):
    q: str | None = Field(None, max_length=50, description="名称、别名或部门中的关键词")
    department: str | None = Field(None, max_length=64, description="部门名称或简称")
    type: MatterType | None = Field(None, description="事项类型")
    high_frequency: bool | None = Field(None, description="只看高频事项")


def _windows(matter: ServiceMatter) -> list[dict[str, str]]:
    return [
        {
            "hall": w.hall.name,
            "number": w.number,
            "name": w.name,
            "label": f"{w.hall.name}{w.number}号窗口",
        }
        for w in matter.windows.all()
        if w.active
    ]


def _summary(matter: ServiceMatter) -> dict[str, Any]:
    return {
        "code": matter.code,
        "name": matter.name,
        "short_name": matter.short_name,
        "department": matter.department.name,
        "matter_type": matter.matter_type,
        "matter_type_label": str(matter.get_matter_type_display()),
        "promised_days": matter.promised_days,
        "visits_required": matter.visits_required,
        "online": matter.online,
        "high_frequency": matter.high_frequency,
        "windows": _windows(matter),
    }


@router.get("/catalog/matters", response=list[MatterOut], auth=None, summary="办事指南：事项列表")
@paginate(PageNumberPagination)
def matter_list(request: HttpRequest, filters: Query[MatterFilters]) -> list[dict[str, Any]]:
    matters: QuerySet[ServiceMatter] = (
        ServiceMatter.objects.active()
        .select_related("department")
        .prefetch_related("windows__hall")
        .order_by("code")
    )
    if filters.q:
        for word in filters.q.split():
            matters = matters.filter(
                Q(name__icontains=word)
                | Q(short_name__icontains=word)
                | Q(aliases__icontains=word)
                | Q(department__name__icontains=word)
            )
    if filters.department:
        matters = matters.filter(
            Q(department__name=filters.department) | Q(department__short_name=filters.department)
        )
    if filters.type:
        matters = matters.filter(matter_type=filters.type)
    if filters.high_frequency is not None:
        matters = matters.filter(high_frequency=filters.high_frequency)
        if filters.high_frequency:
            matters = matters.order_by("hf_order", "code")
    return _Lazy(matters)  # type: ignore[return-value]


class _Lazy:
    """A queryset that the paginator slices; each page's rows are turned into dicts."""

    def __init__(self, queryset: QuerySet[ServiceMatter]) -> None:
        self.queryset = queryset

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[dict[str, Any]]:
        return [_summary(m) for m in self.queryset[item]]


@router.get(
    "/catalog/matters/{code}",
    response=MatterDetailOut,
    auth=None,
    summary="办事指南：事项详情（材料、流程、常见问题）",
)
def matter_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    matter = ServiceMatter.objects.active().with_details().filter(code=code).first()
    if matter is None:
        raise ApiError(NOT_FOUND, _("找不到该事项"), status=404)
    return {
        **_summary(matter),
        "aliases": matter.alias_list,
        "audience": matter.audience,
        "conditions": matter.conditions,
        "legal_basis": matter.legal_basis,
        "statutory_days": matter.statutory_days,
        "fee": matter.fee,
        "location": matter.location,
        "opening_hours": matter.opening_hours,
        "consult_phone": matter.consult_phone,
        "complaint_phone": matter.complaint_phone,
        "online_url": matter.online_url,
        "materials": [
            {
                "name": m.name,
                "kind": m.kind,
                "kind_label": str(m.get_kind_display()),
                "copies": m.copies,
                "required": m.required,
                "notes": m.notes,
            }
            for m in matter.materials.all()
        ],
        "steps": [s.text for s in matter.steps.all()],
        "faqs": [{"question": f.question, "answer": f.answer} for f in matter.faqs.all()],
        "updated_at": matter.updated_at.isoformat(),
    }
