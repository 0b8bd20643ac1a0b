"""The public page of answered appeals (公开答复).

Only closed appeals whose citizen agreed to publication appear, and only through
``PublicAppeal``: the templates never see the appeal row, so a name, mobile number, village
or address cannot reach the page by a slip in a template. Free text is scrubbed as well,
because citizens write their numbers and names into the description.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from minsheng.appeals.forms_citizen import PublicSearchForm
from minsheng.appeals.models import Appeal
from minsheng.appeals.states import State
from minsheng.core.masking import mask_id_number, mask_name
from minsheng.core.models import Division

PAGE_SIZE = 20
# A keyword search is matched again on the scrubbed text (see ``public_list``); this bounds
# the rows read for that second pass.
SEARCH_CANDIDATES = 1000
HIDDEN = "***"

# Identity card numbers (18 characters, the last may be X; old ones 15 digits) and mobile
# numbers, also written with +86 or with spaces or dashes between the groups. The
# look-arounds keep them from matching inside longer numbers such as tracking numbers.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
MOBILE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?![0-9])"
)


def scrub(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with identity card and mobile numbers masked, and each of the ``known``
    personal strings (the citizen's name, address, village) hidden."""
    text = ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)
    text = MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    # Longest first, so that an address containing the village name goes as a whole.
    for value in sorted({k.strip() for k in known if k and len(k.strip()) >= 2}, key=len)[::-1]:
        text = text.replace(value, HIDDEN)
    return text


def _known_personal(appeal: Appeal) -> list[str]:
    known = [appeal.citizen_name, appeal.citizen_mobile, appeal.address]
    if appeal.division is not None and appeal.division.level == Division.Level.VILLAGE:
        known.append(appeal.division.name)
    return known


def _scrub_name(text: str, name: str) -> str:
    # The citizen's name stays recognisable as a name (张**), like everywhere else.
    name = name.strip()
    return text.replace(name, mask_name(name)) if len(name) >= 2 else text


@dataclass(frozen=True)
class PublicAppeal:
    number: str
    title: str
    body: str
    reply: str
    appeal_type: str
    category: str
    town: str
    department: str
    received_on: date
    replied_on: date | None

    @classmethod
    def of(cls, appeal: Appeal) -> PublicAppeal:
        known = _known_personal(appeal)

        def clean(text: str) -> str:
            return scrub(_scrub_name(text, appeal.citizen_name), known)

        return cls(
            number=appeal.number,
            title=clean(appeal.title),
            body=clean(appeal.body),
            reply=clean(appeal.reply),
            appeal_type=appeal.get_appeal_type_display(),
            category=appeal.category.name if appeal.category else "",
            town=appeal.town.name if appeal.town else "",
            department=appeal.lead_department.name if appeal.lead_department else "",
            received_on=timezone.localdate(appeal.received_at),
            replied_on=timezone.localdate(appeal.replied_at) if appeal.replied_at else None,
        )

    def mentions(self, keyword: str) -> bool:
        keyword = keyword.lower()
        return any(keyword in text.lower() for text in (self.title, self.body, self.reply))


def published() -> QuerySet[Appeal]:
    return (
        Appeal.objects.filter(state=State.CLOSED, consent_publish=True)
        .exclude(reply="")
        .select_related("category", "town", "division", "lead_department")
        .order_by("-replied_at", "-pk")
    )


def public_list(request: HttpRequest) -> HttpResponse:
    form = PublicSearchForm(request.GET)
    keyword = form.cleaned_data["q"].strip() if form.is_valid() else ""
    appeals = published()
    if keyword:
        # The database finds candidates in the raw text; keeping only those that match the
        # scrubbed text stops a search for a name or number from revealing that it is hidden
        # in some published appeal.
        candidates = appeals.filter(
            Q(title__icontains=keyword) | Q(body__icontains=keyword) | Q(reply__icontains=keyword)
        )[:SEARCH_CANDIDATES]
        matches = [p for p in map(PublicAppeal.of, candidates) if p.mentions(keyword)]
        page: Page[Any] = Paginator(matches, PAGE_SIZE).get_page(request.GET.get("page"))
        items = list(page)
    else:
        page = Paginator(appeals, PAGE_SIZE).get_page(request.GET.get("page"))
        items = [PublicAppeal.of(appeal) for appeal in page]
    return render(
        request,
        "appeals/public/list.html",
        {"form": form, "keyword": keyword, "page": page, "items": items},
    )


def public_detail(request: HttpRequest, number: str) -> HttpResponse:
    appeal = published().filter(number=number).first()
    if appeal is None:
        raise Http404
    return render(request, "appeals/public/detail.html", {"item": PublicAppeal.of(appeal)})
