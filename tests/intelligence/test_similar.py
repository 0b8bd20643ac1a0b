"""Similar appeals and merge suggestions: the same problem in the same place comes first."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from minsheng.appeals import actions
from minsheng.appeals.models import Appeal, Rating
from minsheng.appeals.states import State
from minsheng.core.models import Division
from minsheng.intelligence import similar
from tests.appeals.factories import make_cast, mobile
from tests.factories import DivisionFactory

pytestmark = pytest.mark.django_db

LAMP = ("杏花村村口路灯不亮", "村口的三盏路灯坏了一个多月，晚上漆黑一片，老人孩子走路容易摔倒。")
LAMP_AGAIN = ("村口路灯坏了", "村口路灯不亮，晚上漆黑，老人走路摔倒过好几次。")
LAMP_LOOSE = ("路灯有时候闪", "村口路灯有时候闪，晚上看不清。")
RUBBISH = ("垃圾桶满了没人清运", "村委会旁边的垃圾桶满了好几天没人清运，臭味很大，招苍蝇。")


@pytest.fixture
def place():
    town = DivisionFactory(name="城关镇", level=Division.Level.TOWN)
    other_town = DivisionFactory(name="河口镇", level=Division.Level.TOWN)
    return {
        "town": town,
        "village": DivisionFactory(name="杏花村", level=Division.Level.VILLAGE, parent=town),
        "neighbour": DivisionFactory(name="桃园村", level=Division.Level.VILLAGE, parent=town),
        "far": DivisionFactory(name="柳树村", level=Division.Level.VILLAGE, parent=other_town),
    }


def report(text: tuple[str, str], division: Division | None = None, **fields) -> Appeal:
    fields.setdefault("citizen_mobile", mobile())
    fields.setdefault("citizen_name", "李秀英")
    data = actions.AppealInput(
        title=text[0],
        body=text[1],
        division_id=division.pk if division else None,
        **fields,
    )
    return actions.submit(data).appeal


def close(appeal: Appeal, cast) -> Appeal:
    actions.dispatch(appeal.pk, department_id=cast.department.pk, by=cast.dispatcher)
    actions.sign(appeal.pk, by=cast.handler)
    actions.reply(appeal.pk, text="已安排电工更换灯泡，路灯恢复照明，感谢反映。", by=cast.handler)
    actions.record_callback(
        appeal.pk, resolved=True, level=Rating.Level.SATISFIED, by=cast.dispatcher
    )
    return Appeal.objects.get(pk=appeal.pk)


def ids(matches) -> list[int]:
    return [m.appeal.pk for m in matches]


def test_same_problem_in_the_same_village_comes_first(place):
    elsewhere = report(LAMP_AGAIN, place["far"])
    next_village = report(LAMP_AGAIN, place["neighbour"])
    same_village = report(LAMP_AGAIN, place["village"])
    rubbish_here = report(RUBBISH, place["village"])
    appeal = report(LAMP, place["village"])

    matches = similar.similar_to_appeal(appeal)

    assert ids(matches)[:3] == [same_village.pk, next_village.pk, elsewhere.pk]
    assert rubbish_here.pk not in ids(matches)  # the same village, another problem
    assert appeal.pk not in ids(matches)
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert matches[0].same_village and matches[1].same_town and not matches[2].same_town


def test_another_problem_or_nothing_in_common_finds_nothing(place):
    report(LAMP_AGAIN, place["village"])
    assert similar.similar_to_text(*RUBBISH, place["town"].pk, place["village"].pk) == []
    assert similar.similar_to_text("", "", None, None) == []


def test_the_text_query_takes_the_town_from_the_village(place):
    next_village = report(LAMP_AGAIN, place["neighbour"])
    elsewhere = report(LAMP_AGAIN, place["far"])

    matches = similar.similar_to_text(*LAMP, village_id=place["village"].pk)

    assert ids(matches) == [next_village.pk, elsewhere.pk]
    assert matches[0].same_town and "同一乡镇（城关镇）" in matches[0].reason


def test_traditional_characters_find_the_simplified_appeal(place):
    appeal = report(LAMP_AGAIN, place["village"])
    matches = similar.similar_to_text("村口路燈不亮", "晚上漆黑，老人走路摔倒", None, None)
    assert ids(matches) == [appeal.pk]


def test_the_reason_names_the_place_the_shared_words_the_age_and_the_state(place):
    with time_machine.travel(timezone.now() - dt.timedelta(days=3)):
        earlier = report(LAMP_AGAIN, place["village"])
    appeal = report(LAMP, place["village"])

    (match,) = similar.similar_to_appeal(appeal)

    assert match.appeal == earlier
    assert match.reason.startswith("同一村（杏花村），内容相近：")
    assert "路灯" in match.shared_words and "路灯" in match.reason
    assert not set(match.shared_words) & similar.STOP_WORDS
    assert match.reason.endswith("；3天前提交，已受理")


def test_merged_refused_and_long_closed_appeals_are_not_candidates(place):
    cast = make_cast()
    master = report(LAMP_AGAIN, place["village"])
    merged = report(LAMP_AGAIN, place["village"])
    actions.merge(master.pk, [merged.pk], by=cast.dispatcher)
    refused = report(LAMP_AGAIN, place["village"])
    actions.refuse(refused.pk, rule_code="emergency-110", by=cast.dispatcher)
    closed = close(report(LAMP_AGAIN, place["village"]), cast)

    found = ids(similar.similar_to_text(*LAMP, place["town"].pk, place["village"].pk))
    assert master.pk in found and closed.pk in found
    assert merged.pk not in found and refused.pk not in found

    later = timezone.now() + dt.timedelta(days=similar.RECENT_DAYS + 1)
    with time_machine.travel(later):
        found = ids(similar.similar_to_text(*LAMP, place["town"].pk, place["village"].pk))
    assert found == [master.pk]  # still open however old; the closed one is history


def test_an_appeal_merged_once_stays_out_after_following_its_master(place):
    cast = make_cast()
    master = report(LAMP_AGAIN, place["village"])
    merged = report(LAMP_AGAIN, place["village"])
    actions.merge(master.pk, [merged.pk], by=cast.dispatcher)
    actions.dispatch(master.pk, department_id=cast.department.pk, by=cast.dispatcher)
    actions.sign(master.pk, by=cast.handler)
    actions.reply(master.pk, text="已安排电工更换灯泡，路灯恢复照明，感谢反映。", by=cast.handler)
    assert Appeal.objects.get(pk=merged.pk).state == State.REPLIED

    found = ids(similar.similar_to_text(*LAMP, place["town"].pk, place["village"].pk))

    assert found == [master.pk]


def test_merge_suggestions_pair_with_the_older_appeal_as_master(place):
    cast = make_cast()
    with time_machine.travel(timezone.now() - dt.timedelta(days=2)):
        older = report(LAMP_AGAIN, place["village"])
    loose = report(LAMP_LOOSE, place["village"])
    next_village = report(LAMP_AGAIN, place["neighbour"])
    other_town = report(LAMP_AGAIN, place["far"])
    closed = close(report(LAMP_AGAIN, place["village"]), cast)
    appeal = report(LAMP, place["village"])

    found = {m.appeal.pk: m.score for m in similar.similar_to_appeal(appeal, limit=10)}
    suggestions = similar.merge_suggestions(appeal)

    assert [(s.master.pk, s.duplicate.pk) for s in suggestions] == [(older.pk, appeal.pk)]
    assert "同一村（杏花村）" in suggestions[0].reason
    assert suggestions[0].score >= similar.MERGE_SCORE
    # Similar enough to be shown, not to be merged: a looser text, another village or town
    # (two broken lamps), a closed one.
    assert similar.MIN_SCORE <= found[loose.pk] < similar.MERGE_SCORE
    assert found[next_village.pk] >= similar.MERGE_SCORE
    assert other_town.pk in found and closed.pk in found
    # The older appeal is offered the newer one as its duplicate.
    (reverse,) = similar.merge_suggestions(older)
    assert (reverse.master.pk, reverse.duplicate.pk) == (older.pk, appeal.pk)


def test_no_merge_suggestions_for_an_appeal_no_longer_open(place):
    cast = make_cast()
    report(LAMP_AGAIN, place["village"])
    closed = close(report(LAMP, place["village"]), cast)
    assert similar.similar_to_appeal(closed)
    assert similar.merge_suggestions(closed) == []


def test_rare_words_weigh_more_than_common_ones():
    assert similar.weight("路灯") > similar.weight("晚上") > similar.weight("我们")
    assert similar.text_similarity(frozenset({"路灯", "晚上"}), frozenset({"路灯"})) > (
        similar.text_similarity(frozenset({"路灯", "晚上"}), frozenset({"晚上"}))
    )
    assert similar.text_similarity(frozenset({"路灯"}), frozenset({"垃圾"})) == 0.0
