"""`minsheng demo` trains the first classifier version on the demo appeals dispatchers routed."""

from __future__ import annotations

import pytest

from minsheng.appeals.models import Appeal
from minsheng.core import demo
from minsheng.intelligence import classifier
from minsheng.intelligence.models import ClassifierVersion

pytestmark = pytest.mark.django_db


def test_the_demo_trains_one_active_version_and_keeps_it_on_a_second_load(monkeypatch):
    monkeypatch.setattr(classifier, "_loaded", None)
    lines: list[str] = []
    demo.load(lines.append)

    version = ClassifierVersion.objects.get()
    routed = Appeal.objects.filter(category__isnull=False, dispatched_at__isnull=False).count()
    assert version.active and version.source == "演示诉求（派单员已分类）"
    assert version.row_count + version.metrics["rows"] == routed
    assert version.metrics["evaluated_on"] == "留出的演示诉求"
    assert any(line.startswith("  分类模型 v1：") for line in lines)
    # The built-in dictionary went into the model with the county's category tree.
    assert "欠薪" in classifier.active_classifier()[1].lexicon

    demo.load(lines.append)
    assert ClassifierVersion.objects.count() == 1 and "  已有分类模型版本，不再训练" in lines
