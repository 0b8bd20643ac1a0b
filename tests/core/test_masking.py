from __future__ import annotations

import pytest
from django.template import Context, Template

from minsheng.core.masking import mask_address, mask_email, mask_id_number, mask_mobile, mask_name
from minsheng.core.models import Division
from tests.factories import DivisionFactory


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812341234", "138****1234"),
        (" 13812341234 ", "138****1234"),
        ("+8613812341234", "+86*******1234"),
        ("0571-8888123", "057*****8123"),
        ("8888123", "***8123"),
        ("1234", "****"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_mobile(value, masked):
    assert mask_mobile(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧***"),  # compound surnames are not kept whole
        ("买买提·艾力", "买*****"),
        ("张", "*"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_name(value, masked):
    assert mask_name(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("110101199003071234", "110101********1234"),
        ("11010119900307123x", "110101********123X"),
        ("110101900307123", "110101******123"),
        ("E12345678", "*****5678"),
        ("G1234", "*****"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(value, masked):
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("zhangsan@example.com", "z***@example.com"),
        ("a.b@gov.cn", "a***@gov.cn"),
        ("z@qq.com", "***@qq.com"),
        ("@qq.com", "***@qq.com"),
        ("not-an-address", "n***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_email(value, masked):
    assert mask_email(value) == masked


@pytest.fixture
def county_town_village(db):
    county = DivisionFactory(code="330100", name="民生县", level=Division.Level.COUNTY)
    town = DivisionFactory(code="330101", name="城关镇", level=Division.Level.TOWN, parent=county)
    village = DivisionFactory(
        code="330101001", name="东村", level=Division.Level.VILLAGE, parent=town
    )
    return county, town, village


def test_mask_address_stops_at_the_town(county_town_village):
    county, town, village = county_town_village

    assert mask_address(village) == "民生县城关镇"
    assert mask_address(town) == "民生县城关镇"
    assert mask_address(county) == "民生县"
    assert mask_address(None) == ""


@pytest.mark.django_db
def test_mask_address_without_parents():
    orphan_village = DivisionFactory(name="孤村", level=Division.Level.VILLAGE)
    lone_town = DivisionFactory(name="新镇", level=Division.Level.TOWN)

    assert mask_address(orphan_village) == ""
    assert mask_address(lone_town) == "新镇"


def test_template_filters(county_town_village):
    _county, _town, village = county_town_village
    template = Template(
        "{% load minsheng_mask %}"
        "{{ mobile|mask_mobile }}|{{ name|mask_name }}|{{ id|mask_id_number }}|"
        "{{ email|mask_email }}|{{ division|mask_address }}|"
        "{{ missing|mask_mobile }}|{{ none|mask_name }}"
    )
    context = Context(
        {
            "mobile": 13812341234,
            "name": "<张三>",
            "id": "110101199003071234",
            "email": "li@example.com",
            "division": village,
            "none": None,
        }
    )

    assert template.render(context) == (
        "138****1234|&lt;***|110101********1234|l***@example.com|民生县城关镇||"
    )
