"""The reply check: scores and warnings of small hand-written replies, and the CLI."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from minsheng.intelligence import replycheck
from minsheng.intelligence.replycheck import check_reply

SHARED_REPLIES = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "appeals_with_replies.csv"
)

TITLE = "幸福小区门口路灯不亮"
BODY = "城关镇幸福小区东门的三盏路灯坏了一个多月，晚上出行很不方便，老人孩子摔倒过，希望尽快维修。"
GOOD = (
    "王先生您好！感谢您反映幸福小区东门路灯不亮的问题。经城关镇城管站现场核实，东门三盏路灯"
    "因线路老化损坏。我站已安排电工更换线路和灯具，将于6月20日前全部恢复照明。"
    "如有疑问，请联系城管站李工，联系电话0731-84561234。感谢您对我们工作的支持！"
)
TEMPLATE = (
    "您好！您反映的问题已收悉，我们高度重视，已转交相关部门认真研究，"
    "会依法依规妥善处理。感谢您对我们工作的关心和支持！"
)


def test_a_good_reply_passes():
    check = check_reply(TITLE, BODY, GOOD)
    assert check.ok, check.warnings
    assert check.codes == []
    assert check.relevance > 0.8 and check.completeness == 1.0
    assert check.politeness == 1.0 and check.length > 0.9
    assert check.overall >= replycheck.OK_SCORE


def test_a_template_reply_that_fits_any_appeal_is_irrelevant():
    check = check_reply(TITLE, BODY, TEMPLATE)
    assert "irrelevant" in check.codes
    assert not check.ok
    assert check.relevance < replycheck.RELEVANCE_WARN < check_reply(TITLE, BODY, GOOD).relevance


def test_the_same_reply_is_irrelevant_to_another_appeal():
    other = check_reply("拖欠农民工工资", "某建筑工地拖欠我们三个月工资，老板不见人。", GOOD)
    assert "irrelevant" in other.codes


def test_a_too_short_reply():
    check = check_reply(TITLE, BODY, "网友：您好！留言已收悉")
    assert "too_short" in check.codes
    assert not check.ok
    assert check.length < 0.5


def test_a_rude_reply():
    rude = "路灯的事不归我们管，别再反映了，自己想办法。幸福小区东门路灯已安排维修，6月底前修好。"
    check = check_reply(TITLE, BODY, rude)
    assert "rude" in check.codes
    assert check.politeness == 0.0
    assert not check.ok
    message = next(w.message for w in check.warnings if w.code == "rude")
    assert "不归我们管" in message


def test_a_reply_without_contact_or_time():
    reply = (
        "您好！经城管站现场核实，幸福小区东门三盏路灯因线路老化损坏，已安排电工更换线路和灯具。"
        "感谢您的反映。2019年5月9日"  # the sign-off date is no time frame
    )
    check = check_reply(TITLE, BODY, reply)
    assert {"no_contact", "no_timeframe"} <= set(check.codes)
    assert "no_findings" not in check.codes and "no_action" not in check.codes
    assert check.completeness == pytest.approx(
        replycheck.COMPLETENESS_PARTS["findings"] + replycheck.COMPLETENESS_PARTS["action"]
    )


def test_a_reply_without_findings_or_action():
    reply = "您好！关于幸福小区东门路灯不亮的问题，如有疑问请拨打0731-84561234咨询。谢谢！"
    check = check_reply(TITLE, BODY, reply)
    assert {"no_findings", "no_action"} <= set(check.codes)
    assert "no_contact" not in check.codes


def test_a_medical_word_is_not_rude():
    reply = "您好！经核实，申请人患有轻度神经病，已纳入低保，6月起按月发放。联系电话0731-84561234。"
    assert "rude" not in check_reply("申请低保", "家里有病人，申请低保。", reply).codes


def test_a_reply_without_any_courtesy():
    reply = (
        "经现场核实，幸福小区东门三盏路灯线路老化，已安排更换，6月20日前恢复照明，"
        "联系电话0731-84561234。"
    )
    check = check_reply(TITLE, BODY, reply)
    assert "no_courtesy" in check.codes
    assert check.politeness == 0.0


def test_traditional_characters_and_synonyms_are_matched():
    title, body = "小區噪音擾民", "和平小区旁邊的工地晚上施工噪音很大，影响休息。"
    reply = (
        "您好！经现场核查，和平小区旁工地夜间施工噪声超标，已责令施工单位停止夜间作业，"
        "本周内整改到位。联系电话0731-84561234。感谢您的反映！"
    )
    check = check_reply(title, body, reply)
    assert check.relevance > 0.8
    assert check.ok, check.warnings


def test_a_reply_that_misses_the_named_place():
    body = "城关镇幸福小区东门的三盏路灯坏了一个多月，晚上出行很不方便。"
    reply = (
        "您好！经核实，您反映的三盏路灯不亮是因线路老化损坏，已安排电工更换，"
        "6月20日前恢复照明，方便晚上出行。"
        "联系电话0731-84561234。感谢您的反映！"
    )
    check = check_reply(TITLE, body, reply)
    assert "no_place" in check.codes
    assert "irrelevant" not in check.codes
    assert "幸福" in next(w.message for w in check.warnings if w.code == "no_place")


def test_the_audit_record_keeps_scores_and_overridden_codes():
    check = check_reply(TITLE, BODY, TEMPLATE)
    record = check.as_record(overridden=True)
    assert record["overridden"] == check.codes and "irrelevant" in record["overridden"]
    assert set(record) >= {"relevance", "completeness", "politeness", "length", "overall"}
    assert check.as_record()["overridden"] == []


def test_it_is_fast():
    check_reply(TITLE, BODY, GOOD)  # loads jieba's dictionary once
    started = time.perf_counter()
    for _ in range(20):
        check_reply(TITLE, BODY * 5, GOOD * 3)
    assert (time.perf_counter() - started) / 20 < 0.02


# ---------------------------------------------------------------- the CLI


def write_csv(path: Path, rows: list[dict[str, str]], columns=("id", "title", "body", "reply")):
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})


@pytest.mark.django_db
def test_cli_prints_distribution_warnings_and_examples(tmp_path, capsys):
    path = tmp_path / "replies.csv"
    write_csv(
        path,
        [
            {"id": "1", "title": TITLE, "body": BODY, "reply": GOOD},
            {"id": "2", "title": TITLE, "body": BODY, "reply": TEMPLATE},
            {"id": "3", "title": TITLE, "body": BODY, "reply": "已收悉"},
        ],
    )
    call_command("replycheck", str(path), "--examples", "1")
    out = capsys.readouterr().out
    assert "共检查 3 条答复，合格（ok）1 条" in out
    for name in ("相关性", "完整性", "礼貌", "篇幅", "总分"):
        assert f"{name}（" in out
    assert "P50=" in out and "0.9–1.0 █" in out
    assert "irrelevant" in out and "too_short" in out and "2 条  66.7%" in out
    good, bad = out.split("较好的答复：")[1].split("较差的答复（不含过短的）：")
    assert "[1]" in good and "[1]" not in bad
    assert "[2]" in bad and "[3]" not in bad  # the too-short one is only counted


@pytest.mark.django_db
def test_cli_limit(tmp_path, capsys):
    path = tmp_path / "replies.csv"
    write_csv(path, [{"id": str(i), "title": TITLE, "body": BODY, "reply": GOOD} for i in range(5)])
    call_command("replycheck", str(path), "--limit", "2", "--examples", "0")
    out = capsys.readouterr().out
    assert "共检查 2 条答复" in out and "较好的答复" not in out


@pytest.mark.django_db
def test_cli_bad_input(tmp_path):
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("replycheck", str(tmp_path / "none.csv"))
    path = tmp_path / "no_reply.csv"
    write_csv(path, [{"title": TITLE, "body": BODY}], columns=("title", "body"))
    with pytest.raises(CommandError, match="缺少列：reply"):
        call_command("replycheck", str(path))
    with pytest.raises(CommandError, match="--limit"):
        call_command("replycheck", str(path), "--limit", "0")


@pytest.mark.django_db
def test_cli_on_the_real_replies(capsys):
    if not SHARED_REPLIES.exists():
        pytest.skip("../shared/data/appeals_with_replies.csv is not present")
    call_command("replycheck", str(SHARED_REPLIES), "--limit", "200", "--examples", "2")
    out = capsys.readouterr().out
    assert "共检查 200 条答复" in out
    # Real official replies: most are relevant, and "留言已收悉" alone is caught as too short.
    relevance = out.split("相关性（relevance）：")[1].split("\n")[0]
    median = float(relevance.split("P50=")[1].split()[0])
    assert median > 0.5
