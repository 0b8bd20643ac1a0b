"""Asking the guide from a page, the API or a command: search, log, and what to show."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minsheng.catalog.models import ServiceMatter
from minsheng.core.models.org import Hall
from minsheng.guide import actions
from minsheng.guide.engine import Answer, Result
from minsheng.guide.index import get_index
from minsheng.guide.models import QuestionLog

MAX_QUESTION = 500
HIGH_FREQUENCY = 28


@dataclass
class Asked:
    answer: Answer
    log: QuestionLog | None
    duration_ms: float


def ask(question: str, *, channel: str, log: bool = True) -> Asked:
    question = (question or "").strip()[:MAX_QUESTION]
    started = time.perf_counter()
    answer = get_index().search(question)
    duration = (time.perf_counter() - started) * 1000
    entry = None
    if log and question:
        entry = actions.log_question(question, answer, channel=channel, duration_ms=duration)
    return Asked(answer, entry, duration)


def matter(code: str) -> ServiceMatter | None:
    return ServiceMatter.objects.active().with_details().filter(code=code).first()


def matters(codes: list[str]) -> list[ServiceMatter]:
    found = {
        m.code: m for m in ServiceMatter.objects.active().with_details().filter(code__in=codes)
    }
    return [found[c] for c in codes if c in found]


def high_frequency(limit: int = HIGH_FREQUENCY) -> list[ServiceMatter]:
    chosen = list(ServiceMatter.objects.high_frequency().select_related("department")[:limit])
    if chosen:
        return chosen
    # No matter marked yet: the first of the catalogue, so the kiosk is never empty.
    return list(ServiceMatter.objects.active().select_related("department")[:limit])


def consult_phone(m: ServiceMatter | None = None) -> str:
    if m is not None:
        hall = m.effective_hall()
        phone = m.consult_phone or m.department.phone or (hall.phone if hall else "")
        if phone:
            return phone
    hall = Hall.objects.exclude(phone="").order_by("pk").first()
    return hall.phone if hall else ""


def spoken(m: ServiceMatter) -> str:
    """What the kiosk reads aloud: the matter, the window and where it is, the materials."""
    parts = [_("您要办理的是%(name)s。") % {"name": m.name}]
    window = m.window_label()
    if window or m.location:
        parts.append(
            _("请到%(place)s办理。") % {"place": "".join(x for x in (m.location, window) if x)}
        )
    names = [x.name for x in m.materials.all()][:6]
    if names:
        parts.append(_("需要带：%(list)s。") % {"list": "；".join(names)})
    if m.promised_days == 0:
        parts.append(_("当场办结。"))
    elif m.promised_days:
        parts.append(_("%(days)s个工作日内办结。") % {"days": m.promised_days})
    return "".join(parts)


FIELD_NAMES = {
    "name": gettext_lazy("名称"),
    "aliases": gettext_lazy("别名"),
    "conditions": gettext_lazy("申请条件"),
    "materials": gettext_lazy("材料"),
    "department": gettext_lazy("部门"),
    "extra": gettext_lazy("流程和问答"),
}
HOW = {
    "原词": gettext_lazy("原词"),
    "同义词": gettext_lazy("同义词"),
    "同音字": gettext_lazy("同音字"),
    "拼音首字母": gettext_lazy("拼音首字母"),
    "全拼": gettext_lazy("全拼"),
    "字": gettext_lazy("字"),
}


def explain(result: Result) -> str:
    """Why the matter matched, in the reader's language (the engine's own text is Chinese)."""
    parts = []
    for m in result.matches:
        where = "、".join(str(FIELD_NAMES[f]) for f in m.fields)
        if m.source == "原词":
            parts.append(_("“%(word)s”见于%(fields)s") % {"word": m.term, "fields": where})
        else:
            parts.append(
                _("“%(said)s”（%(how)s）→“%(word)s”见于%(fields)s")
                % {
                    "said": m.said,
                    "how": HOW.get(m.source, m.source),
                    "word": m.term,
                    "fields": where,
                }
            )
    return "；".join(parts)
