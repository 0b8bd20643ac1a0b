"""A tiny labelled set of appeals (three classes) and helpers to train on it."""

from __future__ import annotations

import csv
from pathlib import Path

from minsheng.intelligence import actions
from minsheng.intelligence.actions import Rows
from minsheng.intelligence.classifier import build_lexicon
from minsheng.intelligence.models import ClassifierVersion

TRAFFIC = "交通运输"
SCHOOL = "教育文体"
PENSION = "劳动和社会保障"

EXAMPLES: list[tuple[str, str, str]] = [
    ("公交车不按站停车", "12路公交车经常不到站就开走，司机态度差，乘客等车很久。", TRAFFIC),
    ("出租车拒载", "晚上在火车站打出租车，司机拒载还要求拼车加价。", TRAFFIC),
    ("公交线路太少", "新小区没有公交线路，居民出行只能打车，希望开通公交。", TRAFFIC),
    ("道路客运班车停运", "去乡镇的客运班车停运了，村民进城很不方便。", TRAFFIC),
    ("驾驶证换证排队", "车管所换驾驶证排队太久，网上预约也约不上。", TRAFFIC),
    ("公交站台没有遮雨棚", "公交站台没有遮雨棚，下雨天等公交车全身湿透。", TRAFFIC),
    ("学校乱收费", "孩子所在小学要求交资料费和补课费，家长负担重。", SCHOOL),
    ("幼儿园入园难", "小区配套幼儿园一直没开，孩子上幼儿园要跑很远。", SCHOOL),
    ("中学老师体罚学生", "初中班主任体罚学生，孩子不敢去学校上课。", SCHOOL),
    ("学区划分不合理", "我们小区被划到很远的小学，孩子上学不方便。", SCHOOL),
    ("教师工资拖欠", "乡村学校教师的绩效工资拖欠半年，老师们意见很大。", SCHOOL),
    ("体育馆不开放", "县体育馆周末不对外开放，学生没有地方锻炼。", SCHOOL),
    ("社保转移办不了", "从外地回来工作，社保关系转移一直办不下来。", PENSION),
    ("养老保险补缴", "以前单位没给交养老保险，现在想补缴，社保局不给办。", PENSION),
    ("公司拖欠工资", "公司拖欠工人三个月工资，老板失联，工人讨薪无门。", PENSION),
    ("失业金申领", "被公司辞退后申领失业保险金，社保窗口说材料不全。", PENSION),
    ("工伤认定太慢", "在工地受伤申请工伤认定，劳动部门半年没有结果。", PENSION),
    ("医保卡异地使用", "退休后随子女生活，养老金和医保在外地怎么办理？", PENSION),
]

TAXONOMY: list[tuple[str, str]] = [
    (TRAFFIC, "公共交通"),
    (TRAFFIC, "出租车管理"),
    (SCHOOL, "学前教育"),
    (SCHOOL, "中小学收费"),
    (PENSION, "社会保险"),
    (PENSION, "劳动工资"),
]


def rows(examples: list[tuple[str, str, str]] | None = None) -> Rows:
    return actions.texts_and_labels(examples if examples is not None else EXAMPLES)


def train_version(**options: object) -> ClassifierVersion:
    """A version trained on the inline examples, evaluated on themselves (fast)."""
    options.setdefault("source", "inline")
    options.setdefault("by", None)
    options.setdefault("lexicon", build_lexicon(TAXONOMY))
    options.setdefault("evaluation", rows())
    options.setdefault("evaluation_name", "inline")
    return actions.train(rows(), **options)  # type: ignore[arg-type]


def write_csv(path: Path, *, with_split: bool = True) -> Path:
    """The examples as a CSV file; every third row of each class is a test row."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "split", "label", "title", "body"])
        for i, (title, body, label) in enumerate(EXAMPLES):
            split = "test" if i % 3 == 2 else "train"
            writer.writerow([i, split if with_split else "", label, title, body])
    return path


def write_xlsx(path: Path) -> Path:
    """The examples as an Excel sheet with Chinese column names."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["分组", "类别", "标题", "内容"])
    for i, (title, body, label) in enumerate(EXAMPLES):
        sheet.append(["test" if i % 3 == 2 else "train", label, title, body])
    book.save(path)
    return path
