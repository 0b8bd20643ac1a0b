"""Chinese full-text search over titles and bodies, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from minsheng.appeals import search
from minsheng.appeals.models import Appeal
from minsheng.core.models import Role
from tests.appeals.test_staff_pages import submit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_tokens_are_words_not_punctuation():
    tokens = search.document_tokens("路灯坏了！", "中华人民共和国，ABC。")
    words = tokens.split(" ")
    assert "路灯" in words and "abc" in words
    assert "中华人民共和国" in words and "人民" in words  # search mode: also the short words
    assert "！" not in words and "，" not in words
    assert search.query_words("  ") == []


def test_submit_stores_the_tokens():
    appeal = submit(title="垃圾清运不及时", body="小区门口的垃圾堆了三天没人收")
    assert "垃圾" in appeal.search_tokens.split()


def test_search_finds_by_a_chinese_word():
    lamp = submit(title="路灯不亮", body="村口路灯坏了一个月")
    rubbish = submit(title="垃圾清运不及时", body="小区门口的垃圾堆了三天没人收")
    noise = submit(title="夜间施工噪音", body="工地晚上施工，吵得睡不着")
    found = set(search.filter_appeals(Appeal.objects.all(), "垃圾").values_list("pk", flat=True))
    assert found == {rubbish.pk}
    found = set(search.filter_appeals(Appeal.objects.all(), "施工").values_list("pk", flat=True))
    assert found == {noise.pk}
    # Every word must match (AND), from the title or the body.
    assert list(search.filter_appeals(Appeal.objects.all(), "路灯 村口")) == [lamp]
    assert not search.filter_appeals(Appeal.objects.all(), "路灯 垃圾").exists()
    # Nothing searchable in the query: no filter at all.
    assert search.filter_appeals(Appeal.objects.all(), "！？").count() == 3


def test_workbench_search(client):
    dispatcher = UserFactory(role=Role.DISPATCHER)
    rubbish = submit(title="垃圾清运不及时", body="小区门口的垃圾堆了三天没人收")
    lamp = submit(title="路灯不亮", body="村口路灯坏了一个月")
    client.force_login(dispatcher)
    html = client.get(reverse("appeals:workbench"), {"q": "垃圾"}).content.decode()
    assert rubbish.number in html and lamp.number not in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgresql_uses_full_text_and_its_index():
    submit(title="垃圾清运不及时", body="小区门口的垃圾堆了三天没人收")
    queryset = search.filter_appeals(Appeal.objects.all(), "垃圾")
    sql = str(queryset.query)
    assert "to_tsvector" in sql and "plainto_tsquery" in sql
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.only("pk").explain()
    assert "appeal_search_idx" in plan
