"""The action forms of the staff appeal page, and the one view that runs them.

Which forms a user sees follows the policy (``policy.can``) and the workflow
(``Appeal.can_transition`` and the state); the action itself checks both again under the
row lock, so a stale page or a hand-made request gets a clear error and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minsheng.appeals import actions
from minsheng.appeals import forms_staff as f
from minsheng.appeals.errors import AppealError
from minsheng.appeals.models import Appeal, ExtensionRequest, Rating, ReturnRecord
from minsheng.appeals.states import OPEN_STATES, STEPS, State, Step
from minsheng.appeals.views import staff_queries as queries
from minsheng.core import policy
from minsheng.core.models import User
from minsheng.intelligence import routing
from minsheng.intelligence.replycheck import check_reply

Run = Callable[[User, Appeal, dict[str, Any]], str]


@dataclass(frozen=True)
class Spec:
    label: Any
    form: type[forms.Form]
    run: Run
    allowed: Callable[[User, Appeal], bool]
    danger: bool = False


def _is_lead(user: User, appeal: Appeal) -> bool:
    return user.department_id is not None and user.department_id == appeal.lead_department_id


def _pending_extension(appeal: Appeal) -> ExtensionRequest | None:
    return appeal.extensions.filter(status=ExtensionRequest.Status.PENDING).first()


# ---------------------------------------------------------------- who may do what, now


def _may_dispatch(user: User, appeal: Appeal) -> bool:
    return policy.can(user, "appeal.dispatch", appeal) and appeal.can_transition(State.DISPATCHED)


def _may_refuse(user: User, appeal: Appeal) -> bool:
    # The step, not the table: a merged appeal reaches 不予受理 only with its master.
    return policy.can(user, "appeal.refuse", appeal) and appeal.state in STEPS[Step.REFUSE][0]


def _may_sign(user: User, appeal: Appeal) -> bool:
    return (
        appeal.state == State.DISPATCHED
        and _is_lead(user, appeal)
        and policy.can(user, "appeal.sign", appeal)
    )


def _may_return(user: User, appeal: Appeal) -> bool:
    return (
        appeal.can_transition(State.RETURNED)
        and _is_lead(user, appeal)
        and policy.can(user, "appeal.return", appeal)
    )


def _may_note(user: User, appeal: Appeal) -> bool:
    return appeal.state in OPEN_STATES and policy.can(user, "appeal.note", appeal)


def _may_request_extension(user: User, appeal: Appeal) -> bool:
    return (
        appeal.state == State.HANDLING
        and _is_lead(user, appeal)
        and policy.can(user, "appeal.request_extension", appeal)
        and queries.deadline_status(appeal) != "overdue"
        and _pending_extension(appeal) is None
    )


def _may_decide_extension(user: User, appeal: Appeal) -> bool:
    return (
        policy.can(user, "appeal.decide_extension", appeal)
        and _pending_extension(appeal) is not None
    )


def _may_reply(user: User, appeal: Appeal) -> bool:
    return (
        appeal.state == State.HANDLING
        and _is_lead(user, appeal)
        and policy.can(user, "appeal.reply", appeal)
    )


def _current_rating_level(appeal: Appeal) -> str | None:
    rating = appeal.ratings.filter(round=appeal.rehandle_count).first()
    return rating.level if rating is not None else None


def _may_callback(user: User, appeal: Appeal) -> bool:
    return (
        appeal.state == State.REPLIED
        and policy.can(user, "appeal.callback", appeal)
        and _current_rating_level(appeal) is None
    )


def _may_review(user: User, appeal: Appeal) -> bool:
    return (
        appeal.state == State.REPLIED
        and policy.can(user, "appeal.callback", appeal)
        and _current_rating_level(appeal) == Rating.Level.UNSATISFIED
    )


def _may_merge(user: User, appeal: Appeal) -> bool:
    return appeal.state in OPEN_STATES and policy.can(user, "appeal.merge", appeal)


def _may_promote(user: User, appeal: Appeal) -> bool:
    return appeal.state in STEPS[Step.PROMOTE][0] and policy.can(user, "appeal.promote", appeal)


def _may_supervise(user: User, appeal: Appeal) -> bool:
    return (
        appeal.is_open
        and policy.can(user, "appeal.supervise", appeal)
        and not appeal.supervisions.filter(resolved_at__isnull=True).exists()
    )


def _may_dispute(user: User, appeal: Appeal) -> bool:
    return (
        policy.can(user, "appeal.dispute_return", appeal)
        and appeal.returns.filter(disputed=False).exists()
    )


# ---------------------------------------------------------------- running them


def _dispatch(user: User, appeal: Appeal, data: dict[str, Any]) -> str:
    done = actions.dispatch(
        appeal.pk,
        department_id=data["department"].pk,
        co_department_ids=[d.pk for d in data["co_departments"]],
        note=data["note"],
        by=user,
        expected_version=data["version"],
    )
    # Sending it elsewhere than the classifier's first choice teaches the next model.
    routing.note_dispatch(appeal.pk, data["department"].pk, by=user)
    return _("已派至%(dept)s") % {"dept": done.lead_department}


def _refuse(user: User, appeal: Appeal, data: dict[str, Any]) -> str:
    actions.refuse(
        appeal.pk,
        rule_code=data["rule"].code,
        note=data["note"],
        by=user,
        expected_version=data["version"],
    )
    return _("已作%(outcome)s处理，并告知群众") % {"outcome": data["rule"].get_outcome_display()}


def _sign(user: User, appeal: Appeal, data: dict[str, Any]) -> str:
    actions.sign(appeal.pk, by=user, expected_version=data["version"])
    return _("已签收")


def _return(user: User, appeal: Appeal, data: dict[str, Any]) -> str:
    actions.return_appeal(
        appeal.pk, reason=data["reason"], by=user, expected_version=data["version"]
    )
    return _("已退单，等待派单员改派")


def _note(user: User, appeal: Appeal, data: dict[str, Any]) -> str:
    actions.add_note(appeal.pk, text=data["text"], files=data["uploads"], by=user)
    return _("已记录办理过程")


def _request_extension(user: User, appeal: Appeal, data: dict[str, Any]) -> str:
    actions.request_extension(appeal.pk, days=data["days"], reason=data["reason"], by=user)
    return _("延期申请已提交，等待审批")


def _decide_extension(user: User, appeal: Appeal, data: dict[str, Any]) -> str:
    # The id comes from the form: it must be a request of this (visible) appeal.
    if not appeal.extensions.filter(pk=data["extension"]).exists():
        raise AppealError(_("延期申请不存在"), code="not_found")
    actions.decide_extension(data["extension"], approve=data["approve"], note=data["note"], by=user)
    return _("已同意延期") if data["approve"] else _("已不同意延期")


def _reply(user: User, appeal: Appeal, data: dict[str, Any]) -> str:
    # A reply that may not be sent now fails in the action (conflict, no right) instead.
    check = (
        check_reply(appeal.title, appeal.body, data["text"]) if _may_reply(user, appeal) else None
    )
    if check is not None and check.warnings and not data["override"]:
        raise AppealError(
            _("答复检查有提示：请修改答复，或确认无误后勾选“仍然发送”再提交"),
            code="validation_error",
            fields={
                "text": [warning.message for warning in check.warnings],
                "override": [_("确认以上提示后勾选此项，答复将按现有内容发送")],
            },
        )
    actions.reply(
        appeal.pk,
        text=data["text"],
        by=user,
        expected_version=data["version"],
        check=check.as_record(overridden=bool(check.warnings)) if check is not None else None,
    )
    return _("已答复，群众将收到评价短信")


def _callback(user: User, appeal: Appeal, data: dict[str, Any]) -> str:
    done = actions.record_callback(
        appeal.pk,
        resolved=data["resolved"],
        level=data["level"],
        comment=data["comment"],
        handler_at_fault=data["handler_at_fault"],
        by=user,
        expected_version=data["version"],
    )
    if done.state == State.HANDLING:
        return _("已记录回访，退回承办单位重办")
    return _("已记录回访，诉求办结")


def _review(user: User, appeal: Appeal, data: dict[str, Any]) -> str:
    done = actions.review_unsatisfied(
        appeal.pk, handler_at_fault=data["handler_at_fault"], note=data["note"], by=user
    )
    return _("已退回重办") if done.state == State.HANDLING else _("已办结")


def _merge(user: User, appeal: Appeal, data: dict[str, Any]) -> str:
    numbers: list[str] = data["numbers"]
    found = dict(
        queries.visible_appeals(user).filter(number__in=numbers).values_list("number", "pk")
    )
    missing = [n for n in numbers if n not in found]
    if missing:
        raise AppealError(
            _("找不到诉求：%(n)s") % {"n": "、".join(missing)},
            code="validation_error",
            fields={"numbers": [_("请核对编号")]},
        )
    if appeal.pk in found.values():
        raise AppealError(
            _("不能把诉求合并到它自己"),
            code="validation_error",
            fields={"numbers": [_("请填写其他诉求的编号")]},
        )
    merged = actions.merge(appeal.pk, found.values(), by=user)
    return _("已合并%(n)s件诉求") % {"n": len(merged)}


def _promote(user: User, appeal: Appeal, data: dict[str, Any]) -> str:
    actions.promote(appeal.pk, reason=data["reason"], by=user, expected_version=data["version"])
    return _("已转为实事项目")


def _supervise(user: User, appeal: Appeal, data: dict[str, Any]) -> str:
    actions.supervise(appeal.pk, note=data["note"], by=user)
    return _("已督办")


def _dispute(user: User, appeal: Appeal, data: dict[str, Any]) -> str:
    if not ReturnRecord.objects.filter(pk=data["record"], appeal=appeal).exists():
        raise AppealError(_("退单记录不存在"), code="not_found")
    actions.dispute_return(data["record"], note=data["note"], by=user)
    return _("已标记为有争议的退单")


# The order is the order of the forms on the page.
ACTIONS: dict[str, Spec] = {
    "sign": Spec(gettext_lazy("签收"), f.VersionForm, _sign, _may_sign),
    "dispatch": Spec(gettext_lazy("派单"), f.DispatchForm, _dispatch, _may_dispatch),
    "reply": Spec(gettext_lazy("答复"), f.ReplyForm, _reply, _may_reply),
    "note": Spec(gettext_lazy("记录办理过程"), f.NoteForm, _note, _may_note),
    "extension": Spec(
        gettext_lazy("申请延期"), f.ExtensionForm, _request_extension, _may_request_extension
    ),
    "decide_extension": Spec(
        gettext_lazy("审批延期"), f.DecideExtensionForm, _decide_extension, _may_decide_extension
    ),
    "callback": Spec(gettext_lazy("电话回访"), f.CallbackForm, _callback, _may_callback),
    "review": Spec(gettext_lazy("不满意研判"), f.ReviewForm, _review, _may_review),
    "supervise": Spec(gettext_lazy("督办"), f.SuperviseForm, _supervise, _may_supervise),
    "merge": Spec(gettext_lazy("合并重复诉求"), f.MergeForm, _merge, _may_merge),
    "promote": Spec(gettext_lazy("转实事项目"), f.PromoteForm, _promote, _may_promote),
    "dispute": Spec(gettext_lazy("标记退单争议"), f.DisputeForm, _dispute, _may_dispute),
    "return": Spec(gettext_lazy("退单"), f.ReturnForm, _return, _may_return, danger=True),
    "refuse": Spec(gettext_lazy("不予受理/转办"), f.RefuseForm, _refuse, _may_refuse, danger=True),
}


def initial_for(name: str, appeal: Appeal) -> dict[str, Any]:
    """What a fresh form starts with: the version seen, and helpful defaults."""
    initial: dict[str, Any] = {"version": appeal.version}
    if name == "dispatch":
        rule = actions.route_for(appeal.category)
        if rule is not None:
            initial["department"] = rule.department_id
            initial["co_departments"] = list(rule.co_departments.values_list("pk", flat=True))
        else:
            # No category yet: the classifier's first choice, which the dispatcher checks.
            best = next(iter(routing.suggestions(appeal)), None)
            if best is not None and best.department_id is not None:
                initial["department"] = best.department_id
    elif name == "decide_extension":
        pending = _pending_extension(appeal)
        if pending is not None:
            initial["extension"] = pending.pk
    elif name == "dispute":
        record = appeal.returns.filter(disputed=False).first()
        if record is not None:
            initial["record"] = record.pk
    return initial


def forms_for(
    user: User, appeal: Appeal, bound: dict[str, forms.Form] | None = None
) -> list[dict[str, Any]]:
    """The action forms the user may use on the appeal now (a bound one keeps its input)."""
    bound = bound or {}
    result = []
    for name, spec in ACTIONS.items():
        if not spec.allowed(user, appeal):
            continue
        form = bound.get(name) or spec.form(initial=initial_for(name, appeal), auto_id=f"{name}_%s")
        label = spec.label
        if name == "dispatch" and appeal.state != State.RECEIVED:
            label = gettext_lazy("改派")
        result.append(
            {
                "name": name,
                "label": label,
                "form": form,
                "danger": spec.danger,
                "multipart": any(isinstance(field, f.FilesField) for field in form.fields.values()),
            }
        )
    return result


def add_errors(form: forms.Form, error: AppealError) -> None:
    for field, messages in error.fields.items():
        form.add_error(field if field in form.fields else None, messages)
