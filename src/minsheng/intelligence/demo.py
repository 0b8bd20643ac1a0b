"""The demo's first classifier version, trained on the demo appeals dispatchers routed.

Without it the dispatcher's 智能建议 card stays empty in `make run` until someone trains a
model. Real counties train on their own history (``minsheng classifier train``/``retrain``).
"""

from __future__ import annotations

from minsheng.core import demo
from minsheng.intelligence import actions
from minsheng.intelligence.models import ClassifierVersion

# Every fifth routed appeal is kept out of training to give the version an honest report.
HELD_OUT_EVERY = 5


@demo.register("intelligence", "智能分类：用已派单的演示诉求训练第一个模型", order=250)
def build(ctx: demo.DemoContext) -> None:
    from minsheng.intelligence.classifier import county_lexicon

    if ClassifierVersion.objects.exists():
        ctx.out("  已有分类模型版本，不再训练")
        return
    labelled = actions.correction_rows()
    train = actions.Rows([], [])
    held_out = actions.Rows([], [])
    for i, (text, label) in enumerate(zip(labelled.texts, labelled.labels, strict=True)):
        part = held_out if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1 else train
        part.texts.append(text)
        part.labels.append(label)
    if len(set(train.labels)) < 2 or not len(held_out):
        ctx.out("  已派单的演示诉求太少，跳过训练")
        return
    version = actions.train(
        train,
        source="演示诉求（派单员已分类）",
        by=None,
        lexicon=county_lexicon(),
        evaluation=held_out,
        evaluation_name="留出的演示诉求",
        progress=lambda message: ctx.out(f"  {message}"),
    )
    ctx.out(
        f"  分类模型 v{version.number}：{len(train)} 条训练，"
        f"留出 {len(held_out)} 条上 macro-F1 {version.metrics['macro_f1']:.2f}"
    )
