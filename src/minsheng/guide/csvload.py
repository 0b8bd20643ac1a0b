"""Documents straight from the plain catalogue CSV (code,name,department,type,window,…).

For the benchmark and tests without a database, and for the synthetic large catalogue.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from minsheng.guide.engine import Document

MATERIAL_SEPARATOR = "；"


def load_csv(path: str | Path) -> list[Document]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    docs = []
    for row in rows:
        days = (row.get("time_limit_days") or "").strip()
        docs.append(
            Document(
                code=row["code"].strip(),
                name=row["name"].strip(),
                department=row.get("department", "").strip(),
                matter_type=row.get("type", "").strip(),
                window=row.get("window", "").strip(),
                location=row.get("hall_location", "").strip(),
                conditions=row.get("conditions", "").strip(),
                materials=tuple(
                    m.strip()
                    for m in (row.get("materials") or "").split(MATERIAL_SEPARATOR)
                    if m.strip()
                ),
                time_limit=f"{days}个工作日" if days and days != "0" else ("即办" if days else ""),
                fee=row.get("fee", "").strip(),
            )
        )
    return docs


# Places and subjects that make synthetic matters differ from each other the way a real
# provincial catalogue's thousands of entries do (same wording, different scope).
_TOWNS = ["城关镇", "清河镇", "唐马镇", "李庄乡", "张楼乡", "鹿洼镇", "东关街道", "西关街道"]
_SCOPES = ["个人", "企业", "农村", "城镇", "外来人员", "退役军人", "老年人", "学生", "残疾人"]
_VERBS = ["申请", "变更", "延续", "注销", "备案", "核验", "补发", "年检", "查询", "咨询"]


def synthetic(base: list[Document], size: int = 5000, seed: int = 5) -> list[Document]:
    """A catalogue of ``size`` matters grown from ``base`` (the real ones come first)."""
    rng = random.Random(seed)  # noqa: S311 (test data, not security)
    docs = list(base)
    i = 0
    while len(docs) < size:
        src = rng.choice(base)
        town = rng.choice(_TOWNS)
        scope = rng.choice(_SCOPES)
        verb = rng.choice(_VERBS)
        i += 1
        docs.append(
            Document(
                code=f"S{i:05d}",
                name=f"{town}{scope}{src.family}{verb}",
                department=f"{town}{src.department[1:]}",
                matter_type=src.matter_type,
                window=src.window,
                location=src.location,
                conditions=f"{town}{scope}{src.conditions}",
                materials=tuple(rng.sample(src.materials, k=max(1, len(src.materials) - 1)))
                if src.materials
                else (),
            )
        )
    return docs
