"""Page-number pagination: ``?page=2&page_size=50`` → ``{"count", "next", "previous", "results"}``.

A page size above the maximum is refused with a field error rather than silently cut,
so that a client never believes it has everything when it has not.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class PageNumberPagination(PaginationBase):
    class Input(Schema):
        page: int = Field(1, ge=1, description="页码，从 1 开始")
        page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="每页条数")

    class Output(Schema):
        count: int = Field(description="符合条件的总条数")
        next: str | None = Field(description="下一页的地址，没有则为 null")
        previous: str | None = Field(description="上一页的地址，没有则为 null")
        results: list[Any]

    items_attribute = "results"

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: Input, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        count = self._items_count(queryset)
        offset = (pagination.page - 1) * pagination.page_size
        last_page = max(1, -(-count // pagination.page_size))
        return {
            "count": count,
            "next": _page_url(request, pagination.page + 1)
            if pagination.page < last_page
            else None,
            "previous": _page_url(request, min(pagination.page - 1, last_page))
            if pagination.page > 1
            else None,
            "results": list(queryset[offset : offset + pagination.page_size]),
        }


def _page_url(request: HttpRequest, page: int) -> str:
    query = request.GET.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
