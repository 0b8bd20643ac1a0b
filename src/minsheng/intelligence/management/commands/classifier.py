"""``minsheng classifier train|list|activate|evaluate|retrain``: the appeal classifier's versions.

``train FILE`` reads a CSV or Excel (.xlsx) file with title, body and label columns; with
``--split-column split --split train`` only those rows are trained on, and the rows of
``--eval-split`` (default ``test``) in the same file give the evaluation report. Without
such rows the report comes from 5-fold cross-validation of the training rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minsheng.core import jobs
from minsheng.intelligence import actions
from minsheng.intelligence.actions import ClassifierError, Rows
from minsheng.intelligence.models import ClassifierVersion


@dataclass(frozen=True)
class Columns:
    title: str
    body: str
    label: str
    split: str


def load_rows(path: str, columns: Columns, split: str | None) -> Rows:
    """The labelled rows of ``path`` (those of one ``split`` when a split column is given)."""
    from minsheng.intelligence.classifier import read_table

    try:
        table = read_table(path)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    needed = [columns.title, columns.body, columns.label]
    if columns.split and split is not None:
        needed.append(columns.split)
    missing = [name for name in needed if table and name not in table[0]]
    if not table:
        raise CommandError(f"文件没有数据行：{path}")
    if missing:
        raise CommandError(f"文件缺少列：{'、'.join(missing)}（现有列：{'、'.join(table[0])}）")
    if columns.split and split is not None:
        table = [row for row in table if row[columns.split].strip() == split]
    triples = [
        (row[columns.title], row[columns.body], row[columns.label].strip())
        for row in table
        if row[columns.label].strip() and (row[columns.title] or row[columns.body]).strip()
    ]
    return actions.texts_and_labels(triples)


def format_report(metrics: dict[str, Any]) -> str:
    """The evaluation report as text: overall figures, per class, confusion matrix."""
    lines = [
        f"评估方式：{metrics['evaluated_on']}（{metrics['rows']} 条）",
        f"准确率 accuracy：{metrics['accuracy']:.3f}    "
        f"宏平均 F1 macro-F1：{metrics['macro_f1']:.3f}",
        "",
        f"{'类别':<12}\t精确率\t召回率\tF1\t条数",
    ]
    for label, figures in metrics["per_class"].items():
        lines.append(
            f"{label:<12}\t{figures['precision']:.3f}\t{figures['recall']:.3f}"
            f"\t{figures['f1']:.3f}\t{figures['support']}"
        )
    order = metrics["confusion"]["labels"]
    lines += ["", "混淆矩阵（行 = 真实类别，列 = 预测类别，顺序同上）："]
    lines.append("\t".join(["", *[str(i + 1) for i in range(len(order))]]))
    for i, (label, counts) in enumerate(zip(order, metrics["confusion"]["matrix"], strict=True)):
        lines.append("\t".join([f"{i + 1} {label}", *[str(c) for c in counts]]))
    return "\n".join(lines)


class Command(BaseCommand):
    help = "诉求分类模型：训练、版本列表、启用（回滚）、评估、按纠正记录重训"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        train = sub.add_parser("train", help="从标注文件（CSV 或 Excel）训练新版本")
        train.add_argument("file")
        self._file_options(train, default_split="train")
        train.add_argument("--eval-split", default="test", help="用于评估的划分（默认 test）")
        train.add_argument("--no-activate", action="store_true", help="训练后不启用新版本")
        self._lexicon_options(train)

        sub.add_parser("list", help="列出模型版本")

        activate = sub.add_parser("activate", help="启用某个版本（可用于回滚）")
        activate.add_argument("version", type=int)

        evaluate = sub.add_parser("evaluate", help="用当前版本评估标注文件")
        evaluate.add_argument("file")
        self._file_options(evaluate, default_split="test")

        retrain = sub.add_parser("retrain", help="用派单员的纠正记录（可加标注文件）重新训练")
        retrain.add_argument("file", nargs="?")
        self._file_options(retrain, default_split="train")
        retrain.add_argument("--no-activate", action="store_true")
        self._lexicon_options(retrain)

    @staticmethod
    def _lexicon_options(parser: Any) -> None:
        parser.add_argument(
            "--taxonomy", help="分类目录文件（level1, level2, level3 列）；默认用系统中的诉求分类"
        )
        words = parser.add_mutually_exclusive_group()
        words.add_argument(
            "--keywords", help="常用说法词典（level1, topic, keywords 列）；默认用内置词典"
        )
        words.add_argument("--no-keywords", action="store_true", help="不用常用说法词典")

    @staticmethod
    def _file_options(parser: Any, *, default_split: str) -> None:
        parser.add_argument("--split-column", default="", help="划分列名，如 split")
        parser.add_argument(
            "--split", default=default_split, help=f"所取划分（默认 {default_split}）"
        )
        parser.add_argument("--title-column", default="title")
        parser.add_argument("--body-column", default="body")
        parser.add_argument("--label-column", default="label")

    def handle(self, *args: Any, **options: Any) -> None:
        handler = getattr(self, f"do_{options['action']}")
        try:
            handler(options)
        except ClassifierError as exc:
            raise CommandError(str(exc)) from None

    # ------------------------------------------------------------ sub-commands

    def do_train(self, options: dict[str, Any]) -> None:
        columns = self._columns(options)
        split = options["split"] if columns.split else None
        rows = load_rows(options["file"], columns, split)
        evaluation = None
        if columns.split:
            evaluation = load_rows(options["file"], columns, options["eval_split"])
        name = f"{columns.split}={options['eval_split']} 的行" if evaluation else ""
        source = options["file"] + (f"（{columns.split}={split}）" if split else "")
        with jobs.start("classifier.train", "训练诉求分类模型", out=self.stdout) as progress:
            version = actions.train(
                rows,
                source=source,
                by=None,
                lexicon=self._lexicon(options),
                evaluation=evaluation if evaluation and len(evaluation) else None,
                evaluation_name=name,
                activate_it=not options["no_activate"],
                progress=progress.note,
            )
        self._print_version(version)

    def do_list(self, options: dict[str, Any]) -> None:
        versions = ClassifierVersion.objects.defer("model_blob")
        if not versions:
            self.stdout.write("还没有训练过模型。")
            return
        self.stdout.write("版本\t当前\t训练时间\t\t条数\t准确率\t宏F1\t数据")
        for v in versions:
            self.stdout.write(
                f"v{v.number}\t{'*' if v.active else ''}\t{v.created_at:%Y-%m-%d %H:%M}"
                f"\t{v.row_count}\t{v.metrics.get('accuracy', 0):.3f}"
                f"\t{v.metrics.get('macro_f1', 0):.3f}\t{v.source}"
            )

    def do_activate(self, options: dict[str, Any]) -> None:
        version = ClassifierVersion.objects.filter(number=options["version"]).first()
        if version is None:
            raise CommandError(f"没有版本 v{options['version']}")
        actions.activate(version.pk, by=None)
        self.stdout.write(f"已启用 v{version.number}")

    def do_evaluate(self, options: dict[str, Any]) -> None:
        from minsheng.intelligence.classifier import active_classifier, evaluate

        loaded = active_classifier()
        if loaded is None:
            raise CommandError("还没有启用的分类模型：请先运行 minsheng classifier train")
        columns = self._columns(options)
        split = options["split"] if columns.split else None
        rows = load_rows(options["file"], columns, split)
        if not len(rows):
            raise CommandError("所选划分没有数据行")
        name = f"{options['file']}" + (f"（{columns.split}={split}）" if split else "")
        number = ClassifierVersion.objects.get(pk=loaded[0]).number
        self.stdout.write(f"当前版本 v{number}")
        self.stdout.write(
            format_report(evaluate(loaded[1], rows.texts, rows.labels, evaluated_on=name))
        )

    def do_retrain(self, options: dict[str, Any]) -> None:
        file_rows = None
        if options["file"]:
            columns = self._columns(options)
            file_rows = load_rows(
                options["file"], columns, options["split"] if columns.split else None
            )
        with jobs.start(
            "classifier.retrain", "按纠正记录重训分类模型", out=self.stdout
        ) as progress:
            version = actions.retrain_from_corrections(
                by=None,
                file_rows=file_rows,
                file_source=options["file"] or "",
                lexicon=self._lexicon(options),
                activate_it=not options["no_activate"],
                progress=progress.note,
            )
        self._print_version(version)

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _columns(options: dict[str, Any]) -> Columns:
        return Columns(
            title=options["title_column"],
            body=options["body_column"],
            label=options["label_column"],
            split=options["split_column"],
        )

    @staticmethod
    def _lexicon(options: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        from minsheng.intelligence.classifier import BUILTIN_KEYWORDS, county_lexicon

        keywords = None if options["no_keywords"] else options["keywords"] or BUILTIN_KEYWORDS
        try:
            return county_lexicon(taxonomy=options["taxonomy"], keywords=keywords)
        except ValueError as exc:
            raise CommandError(str(exc)) from None

    def _print_version(self, version: ClassifierVersion) -> None:
        state = "已启用" if version.active else "未启用（用 minsheng classifier activate 启用）"
        self.stdout.write(f"新版本 v{version.number}，{version.row_count} 条训练数据，{state}")
        self.stdout.write(format_report(version.metrics))
