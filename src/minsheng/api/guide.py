"""The smart guide over the API: ``POST /api/v1/guide/ask`` (public, rate limited per
client address like the guide's pages)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.throttling import BaseThrottle
from pydantic import Field

from minsheng.core.forms import client_ip
from minsheng.guide import service, throttle

router = Router(tags=["智能导服"])


class AskIn(Schema):
    question: str = Field(
        min_length=1, max_length=500, description="群众的问题，简繁体、拼音首字母均可"
    )


class MatchOut(Schema):
    word: str
    how: str = Field(description="原词 / 同义词 / 同音字 / 拼音首字母 / 全拼 / 字")
    said: str = Field(description="问题中对应的文字")
    fields: list[str]


class ResultOut(Schema):
    code: str
    name: str
    score: float
    window: str
    location: str
    department: str
    explanation: str
    matches: list[MatchOut]


class AskOut(Schema):
    question: str
    kind: str = Field(description="match 已匹配；clarify 需要追问（见 clarify）；none 未找到")
    results: list[ResultOut] = Field(description="按得分排序，最好的在前")
    clarify: list[str] = Field(description="追问时可供选择的事项编码")
    clarify_question: str
    message: str
    consult_phone: str
    log_id: int | None


class GuideThrottle(BaseThrottle):
    """Per client address, shared with the guide's pages (ninja answers 429 with
    Retry-After, in the API's one error shape)."""

    def allow_request(self, request: HttpRequest) -> bool:
        return throttle.hit(client_ip(request))

    def wait(self) -> float:
        return float(throttle.seconds_left())


@router.post(
    "/guide/ask",
    response=AskOut,
    auth=None,
    throttle=[GuideThrottle()],
    summary="智能导服：问一个问题",
)
def ask(request: HttpRequest, payload: AskIn) -> AskOut:
    if not payload.question.strip():
        raise HttpError(422, _("请输入问题"))
    asked = service.ask(payload.question, channel="api")
    answer = asked.answer
    results = [
        ResultOut(
            code=r.code,
            name=r.name,
            score=r.score,
            window=r.document.window,
            location=r.document.location,
            department=r.document.department,
            explanation=service.explain(r),
            matches=[
                MatchOut(word=m.term, how=m.source, said=m.said, fields=list(m.fields))
                for m in r.matches
            ],
        )
        for r in answer.results
    ]
    if answer.kind == "clarify":
        names = "、".join(r.name for r in answer.candidates)
        message = _("您要办的是哪一项？%(names)s") % {"names": names}
    elif answer.kind == "none":
        message = _("抱歉，没有找到您要办的事项，请换个说法或拨打咨询电话。")
    else:
        message = answer.results[0].name
    return AskOut(
        question=payload.question,
        kind=answer.kind,
        results=results,
        clarify=[r.code for r in answer.candidates] if answer.kind == "clarify" else [],
        clarify_question=message if answer.kind == "clarify" else "",
        message=message,
        consult_phone=service.consult_phone(),
        log_id=asked.log.pk if asked.log else None,
    )
