"""The Atom feed of a published batch: progress reports, finished milestones and 销号, newest
first, for media and anyone who follows the projects without visiting the page.

Built from the same scrubbed public records as the pages (``views.public``), so the feed
carries no personal data either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from minsheng.projects.models import Batch
from minsheng.projects.views.public import batch_or_404, public_projects, to_public

MAX_ITEMS = 50


@dataclass(frozen=True)
class FeedItem:
    key: str  # unique within the batch: "report-12", "milestone-3", "closed-2026-1-03"
    code: str
    title: str
    text: str
    at: dt.datetime


def batch_items(batch: Batch) -> list[FeedItem]:
    today = timezone.localdate()
    items: list[FeedItem] = []
    for project in public_projects(batch):
        public = to_public(project, today, reports=None)
        by_pk = {r.pk: r for r in getattr(project, "standing_reports", ())}
        for report in public.reports:
            items.append(
                FeedItem(
                    key=f"report-{report.key}",
                    code=public.code,
                    title=_("%(code)s %(title)s：%(period)s进展，完成%(percent)s%%")
                    % {
                        "code": public.code,
                        "title": public.title,
                        "period": f"{report.period:%Y-%m}",
                        "percent": report.percent,
                    },
                    text=report.text,
                    at=by_pk[report.key].submitted_at,
                )
            )
        done_at = {m.pk: m.done_at for m in project.milestones.all()}
        for milestone in public.milestones:
            moment = done_at[milestone.key]
            if moment is None:
                continue
            items.append(
                FeedItem(
                    key=f"milestone-{milestone.key}",
                    code=public.code,
                    title=_("%(code)s %(title)s：完成节点“%(milestone)s”")
                    % {"code": public.code, "title": public.title, "milestone": milestone.title},
                    text=milestone.expected,
                    at=moment,
                )
            )
        if public.closed_on is not None and project.closed_at is not None:
            items.append(
                FeedItem(
                    key=f"closed-{public.code}",
                    code=public.code,
                    title=_("%(code)s %(title)s：已验收销号")
                    % {"code": public.code, "title": public.title},
                    text=_("牵头单位：%(unit)s。销号日期：%(day)s。")
                    % {"unit": public.unit, "day": f"{public.closed_on:%Y-%m-%d}"},
                    at=project.closed_at,
                )
            )
    items.sort(key=lambda i: (i.at, i.key), reverse=True)
    return items[:MAX_ITEMS]


class BatchFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, year: int, number: int) -> Batch:
        return batch_or_404(year, number)

    def title(self, obj: Batch) -> str:
        return obj.title

    def subtitle(self, obj: Batch) -> str:
        return _("进展报告、节点完成和销号情况")

    def link(self, obj: Batch) -> str:
        return reverse("projects:public_batch", args=[obj.year, obj.number])

    def items(self, obj: Batch) -> list[FeedItem]:
        return batch_items(obj)

    def item_title(self, item: FeedItem) -> str:
        return item.title

    def item_description(self, item: FeedItem) -> str:
        return linebreaks(escape(item.text)) if item.text else ""

    def item_link(self, item: FeedItem) -> str:
        # Unique per item (the fragment), so it serves as the entry's Atom id as well.
        return reverse("projects:public_project", args=[item.code]) + f"#{item.key}"

    def item_pubdate(self, item: FeedItem) -> dt.datetime:
        return item.at

    def item_updateddate(self, item: FeedItem) -> dt.datetime:
        return item.at
