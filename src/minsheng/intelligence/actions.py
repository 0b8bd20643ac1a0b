"""Every change of the classifier's state: training a version, making one current (forward
or rollback), recording a dispatcher's correction, retraining from the corrections.

``by=None`` is the system (management commands, the worker): no right is checked for it,
as in the appeals actions. Training is slow, so the model is fitted before the transaction
that stores it; only the write is atomic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from minsheng.core import audit, policy
from minsheng.core.models.org import Role
from minsheng.intelligence.models import ClassifierVersion, RoutingCorrection

if TYPE_CHECKING:
    from minsheng.core.models import User
    from minsheng.intelligence.classifier import Lexicon

policy.register(
    {
        "classifier.manage": {Role.ADMIN},
        "classifier.correct": {Role.DISPATCHER},
    }
)

Progress = Callable[[str], None]


class ClassifierError(Exception):
    """A training request that cannot be carried out (message for the user)."""


@dataclass(frozen=True)
class Rows:
    """Labelled appeal texts (already ``classifier.appeal_text``-joined)."""

    texts: list[str]
    labels: list[str]

    def __len__(self) -> int:
        return len(self.texts)


def _check(by: User | None, right: str) -> None:
    if by is not None:
        policy.require(by, right)


def _quiet(message: str) -> None:
    """Progress nobody watches."""


def fit_and_evaluate(
    rows: Rows,
    *,
    lexicon: Lexicon,
    evaluation: Rows | None = None,
    evaluation_name: str = "",
    progress: Progress = _quiet,
) -> tuple[Any, dict[str, Any]]:
    """Fit on all ``rows``; evaluate on ``evaluation`` when given, else by cross-validation."""
    from minsheng.intelligence import classifier as clf

    if len(set(rows.labels)) < 2:
        raise ClassifierError(_("训练数据至少需要两个类别"))
    if evaluation is not None and len(evaluation):
        progress(_("训练模型（%(n)d 条）…") % {"n": len(rows)})
        model = clf.Classifier(lexicon).fit(rows.texts, rows.labels)
        progress(
            _("在%(name)s上评估（%(n)d 条）…") % {"name": evaluation_name, "n": len(evaluation)}
        )
        return model, clf.evaluate(
            model, evaluation.texts, evaluation.labels, evaluated_on=evaluation_name
        )
    try:
        metrics = clf.cross_validate(
            rows.texts,
            rows.labels,
            lexicon,
            on_fold=lambda fold, folds: progress(
                _("交叉验证 第 %(fold)d/%(folds)d 折") % {"fold": fold, "folds": folds}
            ),
        )
    except ValueError:
        raise ClassifierError(_("每个类别至少需要两条数据才能交叉验证")) from None
    progress(_("训练模型（%(n)d 条）…") % {"n": len(rows)})
    return clf.Classifier(lexicon).fit(rows.texts, rows.labels), metrics


def train(
    rows: Rows,
    *,
    source: str,
    by: User | None,
    lexicon: Lexicon | None = None,
    evaluation: Rows | None = None,
    evaluation_name: str = "",
    activate_it: bool = True,
    progress: Progress = _quiet,
) -> ClassifierVersion:
    """Train a new version, store it with its evaluation report, and make it current unless
    ``activate_it`` is False."""
    _check(by, "classifier.manage")
    model, metrics = fit_and_evaluate(
        rows,
        lexicon=lexicon or {},
        evaluation=evaluation,
        evaluation_name=evaluation_name,
        progress=progress,
    )
    return _store(model, metrics, rows, source=source, by=by, activate_it=activate_it)


@transaction.atomic
def _store(
    model: Any,
    metrics: dict[str, Any],
    rows: Rows,
    *,
    source: str,
    by: User | None,
    activate_it: bool,
) -> ClassifierVersion:
    # Lock the current rows so two trainings cannot take the same number.
    list(ClassifierVersion.objects.select_for_update().values_list("pk", flat=True))
    number = (ClassifierVersion.objects.aggregate(top=Max("number"))["top"] or 0) + 1
    version = ClassifierVersion.objects.create(
        number=number,
        created_by=by,
        source=source[:300],
        row_count=len(rows),
        labels=list(model.labels),
        metrics=metrics,
        model_blob=model.dumps(),
    )
    audit.record(
        by,
        "classifier.trained",
        version,
        after={
            "number": number,
            "rows": len(rows),
            "accuracy": metrics.get("accuracy"),
            "macro_f1": metrics.get("macro_f1"),
        },
    )
    if activate_it:
        _make_current(version, by)
    return version


@transaction.atomic
def activate(version_id: int, *, by: User | None) -> ClassifierVersion:
    """Make a version the current one: a newer one (forward) or an older one (rollback)."""
    _check(by, "classifier.manage")
    try:
        version = ClassifierVersion.objects.select_for_update().get(pk=version_id)
    except ClassifierVersion.DoesNotExist:
        raise ClassifierError(_("模型版本不存在")) from None
    if not version.active:
        _make_current(version, by)
    return version


def _make_current(version: ClassifierVersion, by: User | None) -> None:
    previous = (
        ClassifierVersion.objects.select_for_update().filter(active=True).exclude(pk=version.pk)
    )
    before = list(previous.values_list("number", flat=True))
    # Clear the old one first: the partial unique constraint allows one active row at a time.
    previous.update(active=False)
    version.active = True
    version.save(update_fields=["active"])
    audit.record(
        by,
        "classifier.activated",
        version,
        before={"active": before},
        after={"active": version.number},
    )


@transaction.atomic
def record_correction(
    appeal_id: int,
    *,
    suggested_label: str,
    confidence: float | None,
    chosen_category_id: int | None,
    chosen_department_id: int | None,
    by: User | None,
) -> RoutingCorrection:
    """Keep what the dispatcher chose against what the classifier suggested."""
    from minsheng.appeals.models import Appeal

    _check(by, "classifier.correct")
    appeal = Appeal.objects.filter(pk=appeal_id).first()
    if appeal is None:
        raise ClassifierError(_("诉求不存在"))
    active = ClassifierVersion.objects.filter(active=True).first()
    correction = RoutingCorrection.objects.create(
        appeal=appeal,
        version=active,
        suggested_label=suggested_label[:64],
        confidence=confidence,
        chosen_category_id=chosen_category_id,
        chosen_department_id=chosen_department_id,
        by=by,
    )
    audit.record(
        by,
        "classifier.corrected",
        appeal,
        before={"label": suggested_label, "confidence": confidence},
        after={"category": chosen_category_id, "department": chosen_department_id},
    )
    return correction


def correction_rows() -> Rows:
    """Appeals labelled by people: the latest correction's category for each corrected
    appeal, and the category of appeals a dispatcher routed by hand; the label is the
    category's top-level name."""
    from minsheng.appeals.models import Appeal, Category
    from minsheng.intelligence.classifier import appeal_text

    chosen: dict[int, int] = {}
    corrections = RoutingCorrection.objects.filter(chosen_category__isnull=False).order_by(
        "at", "pk"
    )
    for appeal_id, category_id in corrections.values_list("appeal_id", "chosen_category_id"):
        chosen[appeal_id] = category_id
    by_hand = Appeal.objects.filter(
        category__isnull=False, dispatched_at__isnull=False, auto_routed=False
    ).exclude(pk__in=list(chosen))
    for appeal_id, category_id in by_hand.values_list("pk", "category_id"):
        chosen[appeal_id] = category_id
    categories = {c.pk: c for c in Category.objects.all()}
    texts: list[str] = []
    labels: list[str] = []
    for appeal_id, title, body in Appeal.objects.filter(pk__in=list(chosen)).values_list(
        "pk", "title", "body"
    ):
        texts.append(appeal_text(title, body))
        labels.append(_top_name(categories, chosen[appeal_id]))
    return Rows(texts, labels)


def _top_name(categories: dict[int, Any], category_id: int) -> str:
    node = categories[category_id]
    while node.parent_id is not None and node.parent_id in categories:
        node = categories[node.parent_id]
    return str(node.name)


def retrain_from_corrections(
    *,
    by: User | None,
    file_rows: Rows | None = None,
    file_source: str = "",
    lexicon: Lexicon | None = None,
    activate_it: bool = True,
    progress: Progress = _quiet,
) -> ClassifierVersion:
    """A new version from the labelled file rows (if any) plus the appeals people labelled.
    The lexicon defaults to the county's category tree and the built-in keyword dictionary."""
    from minsheng.intelligence.classifier import county_lexicon

    _check(by, "classifier.manage")
    people = correction_rows()
    base = file_rows or Rows([], [])
    rows = Rows(base.texts + people.texts, base.labels + people.labels)
    if not len(rows):
        raise ClassifierError(_("没有可用于训练的数据：既无标注文件，也无派单员的分类记录"))
    source = _("纠正记录 %(n)d 条") % {"n": len(people)}
    if file_source:
        source = f"{file_source} + {source}"
    return train(
        rows,
        source=source,
        by=by,
        lexicon=lexicon if lexicon is not None else county_lexicon(),
        activate_it=activate_it,
        progress=progress,
    )


def texts_and_labels(pairs: Sequence[tuple[str, str, str]]) -> Rows:
    """Rows from (title, body, label) triples."""
    from minsheng.intelligence.classifier import appeal_text

    return Rows([appeal_text(t, b) for t, b, _label in pairs], [label for _t, _b, label in pairs])
