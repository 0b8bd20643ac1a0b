"""Hot issues: grouping, places, growth and ranking, the CLI on a CSV file, the staff page."""

from __future__ import annotations

import csv
import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from minsheng.core.models import Division, Role
from minsheng.core.navigation import menu_for
from minsheng.intelligence.hotissues import Record, extract_places, find_hot_issues, score
from tests.appeals.factories import submit
from tests.factories import PASSWORD, DivisionFactory, UserFactory

UNTIL = dt.datetime(2024, 6, 30, 12, 0)

NOISE = [
    "丽发新城小区附近搅拌站噪音扰民",
    "投诉丽发新城附近搅拌站夜间施工噪音",
    "丽发新城搅拌站噪音灰尘污染严重",
    "丽发新城小区旁搅拌站噪音太大晚上睡不着",
]
PARKING = [
    "伊景园滨河苑捆绑销售车位",
    "投诉伊景园滨河苑开发商捆绑销售车位",
    "伊景园滨河苑买房被强制捆绑车位销售",
]
OTHERS = [
    "春华镇金鼎村自来水什么时候通到户",
    "孩子上小学的学区划分咨询",
    "公积金贷款额度如何计算",
]


def rec(n: int, title: str, days_ago: float, likes: int = 0, place: str = "") -> Record:
    return Record(
        id=str(n),
        title=title,
        body=title + "，希望有关部门尽快处理。",
        created_at=UNTIL - dt.timedelta(days=days_ago),
        place=place,
        likes=likes,
    )


def sample() -> list[Record]:
    texts = [(t, 3 + i) for i, t in enumerate(NOISE)] + [(t, 20 + i) for i, t in enumerate(PARKING)]
    texts += [(t, 10) for t in OTHERS]
    return [rec(i, t, d) for i, (t, d) in enumerate(texts)]


def member_titles(report_group: object) -> set[str]:
    return {r.title for r in report_group.members}  # type: ignore[attr-defined]


def test_same_problems_are_grouped_and_different_ones_kept_apart() -> None:
    report = find_hot_issues(sample(), until=UNTIL, window_days=30)
    groups = [member_titles(g) for g in report.groups]
    assert set(NOISE) in groups
    assert set(PARKING) in groups
    assert len(report.groups) == 2  # the unrelated singletons form no group
    noise = next(g for g in report.groups if member_titles(g) == set(NOISE))
    assert "搅拌站" in noise.terms
    assert len(noise.representatives) == 3
    assert {r.title for r in noise.representatives} <= set(NOISE)


def test_words_cut_earlier_are_used_instead_of_the_body() -> None:
    # The body says nothing; the stored words (as an appeal's search_tokens) say it all.
    records = [
        Record(
            id=str(i),
            title=f"第{i}件",
            body="",
            created_at=UNTIL - dt.timedelta(days=1),
            words=tuple(words.split()),
        )
        for i, words in enumerate(["搅拌站 噪音 丽发 新城"] * 3 + ["车位 捆绑 销售"] * 2)
    ]
    report = find_hot_issues(records, until=UNTIL, window_days=30)
    assert sorted(g.size for g in report.groups) == [2, 3]
    assert "搅拌站" in report.groups[0].terms


def test_window_leaves_out_older_and_later_records() -> None:
    records = [*sample(), rec(99, NOISE[0], 45), rec(98, NOISE[1], -1)]
    report = find_hot_issues(records, until=UNTIL, window_days=30)
    assert report.records == len(sample())
    ids = {r.id for g in report.groups for r in g.members}
    assert not {"98", "99"} & ids


def test_window_ends_at_the_newest_record_by_default() -> None:
    report = find_hot_issues(sample(), window_days=30)
    assert report.until == UNTIL - dt.timedelta(days=3)


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("反映A7县春华镇金鼎村水泥路、自来水到户的问题", "A7县春华镇金鼎村"),
        ("A市A5区劳动东路魅力之城小区临街门面油烟扰民", "A市A5区劳动东路魅力之城小区"),
        ("投诉丽发新城小区附近违建搅拌站噪音扰民", "丽发新城小区"),
        ("我住在青山铺镇天华村，村里的路坏了", "青山铺镇天华村"),
    ],
)
def test_places_are_found_in_the_text(text: str, place: str) -> None:
    assert extract_places(text)[0] == place


def test_no_place_in_a_text_without_one() -> None:
    assert extract_places("公积金贷款额度如何计算") == []
    assert extract_places("A市的道路都很堵") == []  # a bare city code is not a place


def test_group_place_prefers_the_records_own_place() -> None:
    records = [rec(i, t, 3, place="城关镇东街村") for i, t in enumerate(NOISE)]
    report = find_hot_issues(records, until=UNTIL, window_days=30)
    assert report.groups[0].place == "城关镇东街村"


def test_growth_counts_the_later_half_against_the_earlier() -> None:
    # 4 noise reports in the last 7 days (later half), 3 parking ones 20+ days ago.
    report = find_hot_issues(sample(), until=UNTIL, window_days=30)
    noise = next(g for g in report.groups if member_titles(g) == set(NOISE))
    parking = next(g for g in report.groups if member_titles(g) == set(PARKING))
    assert (noise.recent, noise.earlier) == (4, 0)
    assert (parking.recent, parking.earlier) == (0, 3)
    assert noise.growth == 5.0
    assert parking.growth == 0.25


def test_score_rises_with_size_growth_and_votes() -> None:
    assert score(4, 2, 2, 0) > score(3, 2, 1, 0)
    assert score(3, 3, 0, 0) > score(3, 0, 3, 0)
    assert score(3, 2, 1, 100) > score(3, 2, 1, 0)
    assert score(3, 2, 1, 0) == pytest.approx(3 * (3 / 2) ** 0.5)  # (2+1)/(1+1)


def test_ranking_by_size_growth_then_votes() -> None:
    # Without votes the larger, growing noise group leads the fading parking group.
    plain = find_hot_issues(sample(), until=UNTIL, window_days=30)
    assert [member_titles(g) for g in plain.groups] == [set(NOISE), set(PARKING)]
    assert plain.groups[0].score > plain.groups[1].score
    # Parking growing as fast (all in the later half) but smaller: still second...
    recent = [rec(int(r.id), r.title, 5 if r.title in PARKING else 3) for r in sample()]
    report = find_hot_issues(recent, until=UNTIL, window_days=30)
    assert member_titles(report.groups[0]) == set(NOISE)
    # ...until the public votes for it: 500 likes on each of its reports put it first.
    voted = [
        rec(int(r.id), r.title, 5 if r.title in PARKING else 3, likes=500 * (r.title in PARKING))
        for r in sample()
    ]
    report = find_hot_issues(voted, until=UNTIL, window_days=30)
    assert member_titles(report.groups[0]) == set(PARKING)
    assert report.groups[0].likes == 1500


def test_top_limits_the_groups() -> None:
    assert len(find_hot_issues(sample(), until=UNTIL, window_days=30, top=1).groups) == 1


# --- the CLI ---------------------------------------------------------------------------


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def csv_rows() -> list[dict[str, object]]:
    return [
        {
            "id": r.id,
            "title": r.title,
            "submitted_at": r.created_at.isoformat(),
            "body": r.body,
            "dislikes": 0,
            "likes": 7 if r.title in NOISE else 0,
        }
        for r in sample()
    ]


@pytest.mark.django_db
def test_cli_prints_the_top_groups(tmp_path: Path) -> None:
    out = StringIO()
    path = write_csv(tmp_path / "appeals.csv", csv_rows())
    call_command("hotissues", str(path), "--window-days", "30", "--top", "1", stdout=out)
    text = out.getvalue()
    # Progress (intermediate steps are shown at most every half second, so only the end
    # is certain on a fast machine).
    assert "热点问题分析" in text and "100%" in text
    assert "1. " in text and "2. " not in text
    assert "丽发新城" in text
    assert "点赞：28" in text  # 4 reports × 7 likes
    assert "数量：4" in text


@pytest.mark.django_db
def test_cli_until_moves_the_window(tmp_path: Path) -> None:
    out = StringIO()
    path = write_csv(tmp_path / "appeals.csv", csv_rows())
    # Up to 2024-06-20: only the parking reports (20–22 days before UNTIL) are in the window.
    call_command("hotissues", str(path), "--until", "2024-06-12", "--window-days", "10", stdout=out)
    assert "伊景园滨河苑" in out.getvalue()
    assert "搅拌站" not in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("title,body\n甲,乙\n", [], "缺少列"),
        ("title,body,submitted_at\n甲,乙,昨天\n", [], "不是日期时间"),
        ("title,body,submitted_at,likes\n甲,乙,2024-01-01,很多\n", [], "不是数字"),
        ("title,body,submitted_at\n", [], "没有数据行"),
        ("title,body,submitted_at\n甲,乙,2024-01-01\n", ["--until", "6月"], "--until"),
        ("title,body,submitted_at\n甲,乙,2024-01-01\n", ["--window-days", "0"], "--window-days"),
    ],
)
def test_cli_refuses_bad_input(tmp_path: Path, content: str, args: list[str], message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        call_command("hotissues", str(path), *args, stdout=StringIO())


@pytest.mark.django_db
def test_cli_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("hotissues", str(tmp_path / "none.csv"), stdout=StringIO())


# --- the staff page --------------------------------------------------------------------

NOW = dt.datetime(2024, 6, 30, 10, 0, tzinfo=dt.UTC)
CITIZEN_NAME = "王建国"
CITIZEN_MOBILE = "13912345678"


def login(role: str) -> Client:
    client = Client()
    user = UserFactory(role=role)
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def hot_appeals(db: None) -> list[int]:
    town = DivisionFactory(name="城关镇")
    village = DivisionFactory(name="东街村", level=Division.Level.VILLAGE, parent=town)
    ids = []
    with time_machine.travel(NOW - dt.timedelta(days=2), tick=False):
        for title in NOISE:
            appeal = submit(
                title=title,
                division_id=village.pk,
                citizen_name=CITIZEN_NAME,
                citizen_mobile=CITIZEN_MOBILE,
            )
            ids.append(appeal.pk)
        submit(title=f"我的电话{CITIZEN_MOBILE}，丽发新城搅拌站噪音扰民", division_id=village.pk)
    return ids


@pytest.mark.django_db
def test_page_shows_the_groups_to_a_leader_without_personal_data(hot_appeals: list[int]) -> None:
    client = login(Role.LEADER)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("intelligence:hot"), {"days": "7"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "热点问题" in html
    assert "搅拌站" in html
    assert "城关镇" in html
    assert "东街村" not in html  # a leader may not see below the town
    assert reverse("appeals:detail", args=[hot_appeals[0]]) in html or any(
        reverse("appeals:detail", args=[pk]) in html for pk in hot_appeals
    )
    assert CITIZEN_NAME not in html
    assert CITIZEN_MOBILE not in html


@pytest.mark.django_db
def test_the_leaders_dashboard_loads_this_weeks_hot_issues(hot_appeals: list[int]) -> None:
    client = login(Role.LEADER)
    with time_machine.travel(NOW, tick=False):
        dashboard = client.get(reverse("appeals:kpi")).content.decode()
        panel = client.get(reverse("intelligence:hot_panel")).content.decode()
    assert reverse("intelligence:hot_panel") in dashboard  # htmx fetches it after the page
    assert "近 7 天热点问题" in panel and "搅拌站" in panel and "城关镇" in panel
    assert "东街村" not in panel and CITIZEN_MOBILE not in panel and CITIZEN_NAME not in panel
    with time_machine.travel(NOW + dt.timedelta(days=10), tick=False):
        later = client.get(reverse("intelligence:hot_panel")).content.decode()
    assert "没有形成热点" in later and "days=30" in later


@pytest.mark.django_db
def test_the_dashboard_has_no_hot_issues_for_a_department_head() -> None:
    client = login(Role.DEPT_HEAD)
    dashboard = client.get(reverse("appeals:kpi"))
    assert dashboard.status_code == 200
    assert reverse("intelligence:hot_panel") not in dashboard.content.decode()
    assert client.get(reverse("intelligence:hot_panel")).status_code == 403


@pytest.mark.django_db
def test_page_window_leaves_out_older_appeals(hot_appeals: list[int]) -> None:
    client = login(Role.SUPERVISOR)
    with time_machine.travel(NOW + dt.timedelta(days=10), tick=False):
        week = client.get(reverse("intelligence:hot"), {"days": "7"})
        month = client.get(reverse("intelligence:hot"), {"days": "30"})
    assert "搅拌站" not in week.content.decode()
    assert "搅拌站" in month.content.decode()
    assert "东街村" in month.content.decode()  # a supervisor may see the village


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.CITIZEN, Role.HANDLER, Role.DEPT_HEAD])
def test_page_is_refused_without_the_right(role: str) -> None:
    response = login(role).get(reverse("intelligence:hot"))
    assert response.status_code == 403


@pytest.mark.django_db
def test_page_asks_anonymous_visitors_to_log_in() -> None:
    response = Client().get(reverse("intelligence:hot"))
    assert response.status_code == 302


@pytest.mark.django_db
def test_menu_entry_for_the_roles_who_may_open_the_page() -> None:
    url = reverse("intelligence:hot")
    for role, shown in [(Role.LEADER, True), (Role.DISPATCHER, True), (Role.HANDLER, False)]:
        urls = [item["url"] for item in menu_for(UserFactory(role=role))]
        assert (url in urls) is shown, role


def test_titles_on_the_page_have_phone_and_id_numbers_masked() -> None:
    from minsheng.intelligence.views import mask_title

    masked = mask_title("我电话13912345678，身份证110101199003071234，噪音扰民")
    assert "13912345678" not in masked and "139****5678" in masked
    assert "110101199003071234" not in masked and "110101********1234" in masked
    assert mask_title("2019年3月路灯不亮") == "2019年3月路灯不亮"


@pytest.mark.django_db
def test_page_figures_are_kept_for_ten_minutes(hot_appeals: list[int]) -> None:
    client = login(Role.DISPATCHER)
    url = reverse("intelligence:hot")
    with time_machine.travel(NOW, tick=False):
        assert "车位" not in client.get(url).content.decode()
        for title in PARKING:
            submit(title=title)
        assert "车位" not in client.get(url).content.decode()  # the cached figures
    with time_machine.travel(NOW + dt.timedelta(minutes=11), tick=False):
        assert "车位" in client.get(url).content.decode()


REAL_VOTES = Path(__file__).resolve().parents[3] / "shared" / "data" / "appeals_with_votes.csv"


@pytest.mark.django_db
def test_real_messages_put_the_known_hot_issue_first() -> None:
    if not REAL_VOTES.exists():
        pytest.skip("../shared/data/appeals_with_votes.csv is not here")
    out = StringIO()
    # The last 90 days of the file (to 2020-01-26): the mixing plant by 丽发新城 is the
    # issue of that winter, ahead of anything else by far.
    call_command("hotissues", str(REAL_VOTES), "--window-days", "90", "--top", "3", stdout=out)
    first = out.getvalue().split("\n1. ")[1].split("\n2. ")[0]
    assert "搅拌站" in first
    assert "丽发新城" in first
