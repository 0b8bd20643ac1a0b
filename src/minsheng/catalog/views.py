"""Public 办事指南 pages: the list with search and a matter's full guide with the hall map."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from minsheng.catalog.forms import SearchForm
from minsheng.catalog.models import ServiceMatter

PAGE_SIZE = 20


def matter_list(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    matters = (
        ServiceMatter.objects.active()
        .select_related("department")
        .prefetch_related("windows__hall")
        .order_by("department__sort_order", "code")
    )
    searching = False
    if form.is_valid():
        data = form.cleaned_data
        if q := (data.get("q") or "").strip():
            searching = True
            for word in q.split():
                matters = matters.filter(
                    Q(name__icontains=word)
                    | Q(short_name__icontains=word)
                    | Q(aliases__icontains=word)
                    | Q(code__iexact=word)
                    | Q(department__name__icontains=word)
                    | Q(department__short_name__icontains=word)
                )
        if data.get("department"):
            searching = True
            matters = matters.filter(department=data["department"])
        if data.get("type"):
            searching = True
            matters = matters.filter(matter_type=data["type"])
    page = Paginator(matters, PAGE_SIZE).get_page(request.GET.get("page"))
    high_frequency = [] if searching else list(ServiceMatter.objects.high_frequency())
    return render(
        request,
        "catalog/list.html",
        {
            "form": form,
            "page": page,
            "items": page.object_list,
            "searching": searching,
            "high_frequency": high_frequency,
        },
    )


def matter_detail(request: HttpRequest, code: str) -> HttpResponse:
    matter = ServiceMatter.objects.active().with_details().filter(code=code).first()
    if matter is None:
        raise Http404
    hall = matter.effective_hall()
    return render(
        request,
        "catalog/detail.html",
        {
            "matter": matter,
            "hall": hall,
            # The matter's own values win; the hall's are the fallback.
            "opening_hours": matter.opening_hours or (hall.opening_hours if hall else ""),
            "consult_phone": matter.consult_phone
            or matter.department.phone
            or (hall.phone if hall else ""),
        },
    )
