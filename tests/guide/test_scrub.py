from __future__ import annotations

from minsheng.guide.scrub import scrub


def test_mobile_and_id_numbers() -> None:
    text = scrub("我电话是13712345678，身份证号370102199001011234，座机0537-1234567")
    assert "13712345678" not in text and "370102199001011234" not in text
    assert "1234567" not in text
    assert "［手机号］" in text and "［身份证号］" in text


def test_names_with_cues() -> None:
    assert "张三" not in scrub("我叫张三，想办社保卡")
    assert "王建国" not in scrub("姓名：王建国")
    assert "李" not in scrub("李大爷的社保卡丢了")
    assert "老赵" not in scrub("我是鹿洼村种粮大户老赵，今年买了收割机")


def test_ordinary_words_survive() -> None:
    question = "我是开个体店的，没单位，自己能交公积金吗"
    assert scrub(question) == question
    assert scrub("身份证丢了怎么补办") == "身份证丢了怎么补办"
