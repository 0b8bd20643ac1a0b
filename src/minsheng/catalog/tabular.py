"""The table layout of the catalogue for Excel/CSV import and export.

One row per matter. Columns are recognised by their English key (the plain layout of
``../shared/bench/catalog.csv`` uses these) or by their Chinese header (what the export
writes), so the plain layout is simply a subset of the full one. Nested lists live in one
cell, one item per line:

- 申请材料: ``名称〔原件｜2份｜必需〕备注``; a cell without line breaks may also list bare
  names separated by ``；`` (the plain layout), the form then guessed from the name;
- 办理流程: one step per line;
- 常见问题: ``问：…`` then ``答：…`` (the answer may run over several lines);
- 办理窗口: ``A厅04号窗口``, several separated by ``、``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils import translation
from django.utils.translation import gettext as _

from minsheng.catalog.models import Audience, Material, MatterType

# (key, Chinese header). The order is the export's column order.
COLUMNS: list[tuple[str, str]] = [
    ("code", "事项编码"),
    ("name", "事项名称"),
    ("short_name", "简称"),
    ("aliases", "别名"),
    ("department", "实施部门"),
    ("type", "事项类型"),
    ("audience", "服务对象"),
    ("conditions", "申请条件"),
    ("materials", "申请材料"),
    ("steps", "办理流程"),
    ("legal_basis", "设定依据"),
    ("statutory_days", "法定时限"),
    ("time_limit_days", "承诺时限"),
    ("fee", "收费标准"),
    ("hall", "办理大厅"),
    ("window", "办理窗口"),
    ("hall_location", "办理地点"),
    ("opening_hours", "办理时间"),
    ("consult_phone", "咨询电话"),
    ("complaint_phone", "投诉电话"),
    ("visits_required", "到现场次数"),
    ("online", "网上办理"),
    ("online_url", "网上办理地址"),
    ("high_frequency", "高频事项"),
    ("hf_order", "高频排序"),
    ("active", "启用"),
    ("faqs", "常见问题"),
]
KEYS = {key for key, _label in COLUMNS}
BY_LABEL = {label: key for key, label in COLUMNS}
LABELS = dict(COLUMNS)
# Other headers people write for the same columns.
BY_LABEL.update(
    {
        "编码": "code",
        "名称": "name",
        "部门": "department",
        "类型": "type",
        "窗口": "window",
        "材料": "materials",
        "办结时限": "time_limit_days",
        "收费": "fee",
        "地点": "hall_location",
    }
)

# The file format is Chinese whatever the UI language: the labels are taken once, in Chinese.
with translation.override("zh-hans"):
    TYPE_BY_LABEL = {str(label): value for value, label in MatterType.choices}
    AUDIENCE_BY_LABEL = {str(label): value for value, label in Audience.choices}
    KIND_BY_LABEL = {str(label): value for value, label in Material.Kind.choices}
KIND_LABELS = {value: label for label, value in KIND_BY_LABEL.items()}
TYPE_LABELS = {value: label for label, value in TYPE_BY_LABEL.items()}
AUDIENCE_LABELS = {value: label for label, value in AUDIENCE_BY_LABEL.items()}
YES = {"是", "y", "yes", "true", "1", "√", "可以", "可"}
NO = {"否", "n", "no", "false", "0", "", "不可", "×"}

MATERIAL_LINE = re.compile(
    r"^(?P<name>.*)〔(?P<kind>原件和复印件|原件|复印件|电子材料)｜(?P<copies>\d+)份｜"
    r"(?P<required>必需|选交)〕(?P<notes>.*)$"
)
WINDOW_TOKEN = re.compile(r"^(?P<hall>.+?厅)?(?P<number>[0-9A-Za-z]+)号(?:窗口)?$")


@dataclass
class MaterialSpec:
    name: str
    kind: str = Material.Kind.ORIGINAL
    copies: int = 1
    required: bool = True
    notes: str = ""


@dataclass
class FaqSpec:
    question: str
    answer: str


class LayoutError(ValueError):
    """The file cannot be read as a catalogue at all (not a row problem)."""


def header_keys(header: list[str]) -> list[str | None]:
    keys: list[str | None] = []
    for cell in header:
        name = (cell or "").strip().lstrip("\ufeff")
        if name in KEYS:
            keys.append(name)
        else:
            keys.append(BY_LABEL.get(name))
    return keys


def read_table(
    path: Path | str, data: bytes | None = None
) -> tuple[list[str | None], list[list[str]]]:
    """Header keys and the data rows of an .xlsx or .csv file (as text cells)."""
    name = str(path).lower()
    raw = data if data is not None else Path(path).read_bytes()
    if name.endswith(".xlsx"):
        rows = list(_xlsx_rows(raw))
    elif name.endswith(".csv"):
        rows = list(_csv_rows(raw))
    else:
        raise LayoutError(_("只支持 .xlsx 和 .csv 文件"))
    if not rows:
        raise LayoutError(_("文件是空的"))
    keys = header_keys(rows[0])
    missing = [LABELS[k] for k in ("code",) if k not in keys]
    if missing:
        raise LayoutError(_("表头缺少必需的列：%(columns)s") % {"columns": "、".join(missing)})
    return keys, rows[1:]


def _csv_rows(raw: bytes) -> Iterator[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise LayoutError(_("无法识别文件编码，请保存为 UTF-8 编码的 CSV"))
    yield from csv.reader(io.StringIO(text, newline=""))


def _xlsx_rows(raw: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise LayoutError(_("无法读取 Excel 文件，请确认是 .xlsx 格式")) from exc
    sheet = workbook.worksheets[0]
    for row in sheet.iter_rows(values_only=True):
        yield ["" if v is None else _cell_text(v) for v in row]
    workbook.close()


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


# --- nested cells ------------------------------------------------------------------------


def format_materials(materials: list[MaterialSpec]) -> str:
    lines = []
    for m in materials:
        kind = KIND_LABELS[m.kind]
        required = "必需" if m.required else "选交"
        lines.append(f"{m.name}〔{kind}｜{m.copies}份｜{required}〕{m.notes}")
    return "\n".join(lines)


def guess_kind(name: str) -> str:
    if "原件和复印件" in name or "原件及复印件" in name:
        return Material.Kind.BOTH
    if "复印件" in name:
        return Material.Kind.COPY
    return Material.Kind.ORIGINAL


def parse_materials(text: str) -> list[MaterialSpec]:
    text = text.strip()
    if not text:
        return []
    single = "\n" not in text and not MATERIAL_LINE.match(text)
    lines = re.split(r"[；;]", text) if single else text.splitlines()
    out: list[MaterialSpec] = []
    for raw_line in lines:
        line = raw_line.strip()
        if not line:
            continue
        match = MATERIAL_LINE.match(line)
        if match:
            out.append(
                MaterialSpec(
                    name=match["name"].strip(),
                    kind=KIND_BY_LABEL[match["kind"]],
                    copies=int(match["copies"]),
                    required=match["required"] == "必需",
                    notes=match["notes"].strip(),
                )
            )
        else:
            out.append(MaterialSpec(name=line, kind=guess_kind(line)))
    return out


def format_steps(steps: list[str]) -> str:
    return "\n".join(steps)


def parse_steps(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def format_faqs(faqs: list[FaqSpec]) -> str:
    return "\n".join(f"问：{f.question}\n答：{f.answer}" for f in faqs)


def parse_faqs(text: str) -> list[FaqSpec]:
    """Raises ValueError when an answer has no question or a question no answer."""
    faqs: list[FaqSpec] = []
    question: str | None = None
    answer: list[str] | None = None
    for line in text.splitlines():
        if line.startswith(("问：", "问:")):
            if question is not None:
                if answer is None:
                    raise ValueError(_("问题“%(q)s”没有答案") % {"q": question})
                faqs.append(FaqSpec(question, "\n".join(answer)))
            question, answer = line[2:].strip(), None
        elif line.startswith(("答：", "答:")) and question is not None and answer is None:
            answer = [line[2:].strip()]
        elif answer is not None:
            answer.append(line)
        elif line.strip():
            raise ValueError(_("常见问题须写成“问：……”换行“答：……”"))
    if question is not None:
        if answer is None:
            raise ValueError(_("问题“%(q)s”没有答案") % {"q": question})
        faqs.append(FaqSpec(question, "\n".join(answer)))
    return faqs


def parse_window_tokens(text: str) -> list[tuple[str, str]]:
    """``A厅4号窗口、B厅12号`` → [("A厅", "4"), ("B厅", "12")]; raises ValueError."""
    out: list[tuple[str, str]] = []
    for raw_token in re.split(r"[、,，;；\s]+", text.strip()):
        token = raw_token.strip()
        if not token:
            continue
        match = WINDOW_TOKEN.match(token)
        if not match:
            raise ValueError(_("窗口“%(token)s”格式不对，应写成“A厅4号窗口”") % {"token": token})
        out.append((match["hall"] or "", match["number"]))
    return out


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise ValueError(_("“%(value)s”应填“是”或“否”") % {"value": text})


def format_bool(value: bool) -> str:
    return "是" if value else "否"
