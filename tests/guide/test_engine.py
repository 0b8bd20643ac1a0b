from __future__ import annotations

from minsheng.guide.engine import Document, Index, Synonym
from minsheng.guide.normalise import initials, normalise, pinyin_key, to_simplified


def codes(engine: Index, question: str) -> list[str]:
    return [r.code for r in engine.search(question).results]


# -- normalisation ------------------------------------------------------------------------


def test_traditional_to_simplified() -> None:
    assert to_simplified("身份證補辦") == "身份证补办"
    assert to_simplified("戶口本") == "户口本"


def test_full_width_punctuation_and_case() -> None:
    assert normalise("ＹＹＺＺ，补办！") == "yyzz 补办"
    assert normalise("  社保卡？？丢了  ") == "社保卡 丢了"


def test_pinyin_helpers() -> None:
    assert pinyin_key("公基金") == pinyin_key("公积金")
    assert pinyin_key("身分证") == pinyin_key("身份证")
    assert initials("营业执照") == "yyzz"


# -- matching -----------------------------------------------------------------------------


def test_traditional_question(engine: Index) -> None:
    assert codes(engine, "社保卡丟了想補一張")[0] == "T21"


def test_homophones(engine: Index) -> None:
    answer = engine.search("身分正过期了咋换")
    assert answer.results[0].code == "T30"
    assert any(m.source == "同音字" for m in answer.results[0].matches)
    assert codes(engine, "租房提取公基金")[0] == "T11"


def test_pinyin_initials(engine: Index) -> None:
    answer = engine.search("yyzz补办")
    assert answer.results[0].code == "T04"
    assert answer.results[0].matches[0].source in {"拼音首字母", "同义词"}
    assert any(m.source == "拼音首字母" and m.said == "yyzz" for m in answer.results[0].matches)


def test_synonyms_colloquial_to_official(engine: Index) -> None:
    assert codes(engine, "我想开个饭馆")[0] == "T05"
    assert codes(engine, "孩子刚生下来，上户口要带啥")[0] == "T31"
    assert codes(engine, "俺儿子想领结婚证")[0] == "T40"


def test_typo_falls_back_to_characters(engine: Index) -> None:
    # 营业执找: no word matches, the characters still do.
    assert codes(engine, "营业执找遗失")[0] == "T04"


def test_long_story(engine: Index) -> None:
    story = (
        "恁好，俺是西王村的，今年六十七了，前阵子去镇上拿药，社保卡刷不出来，人家说卡坏了，"
        "让俺到县里换一张新的，俺不认字，孩子都在外地，天又这么冷"
    )
    assert codes(engine, story)[0] == "T21"


def test_explanation_names_words_and_fields(engine: Index) -> None:
    result = engine.search("公积金 租房 提取").results[0]
    assert result.code == "T11"
    text = result.explanation()
    assert "名称" in text and "租赁住房" in text


def test_clarify_within_a_family(engine: Index) -> None:
    answer = engine.search("公积金怎么提取")
    assert answer.kind == "clarify"
    assert {r.code for r in answer.candidates} >= {"T10", "T11", "T12"}
    # The ranking is still there for the evaluation contract.
    assert len(answer.results) >= 3


def test_clear_question_is_not_clarified(engine: Index) -> None:
    answer = engine.search("退休了公积金能全取出来吗")
    assert answer.kind == "match"
    assert answer.best is not None and answer.best.code == "T12"


def test_no_match(engine: Index) -> None:
    answer = engine.search("今天天气怎么样")
    assert answer.kind == "none"
    assert answer.best is None
    assert engine.search("").kind == "none"
    assert engine.search("？？！").kind == "none"


def test_at_least_three_results_when_there_are_candidates(engine: Index) -> None:
    assert len(engine.search("登记").results) >= 3


def test_synonyms_are_data() -> None:
    docs = [Document("X1", "食品经营许可证核发"), Document("X2", "结婚登记")]
    plain = Index(docs, [])
    assert plain.search("撸串店").kind == "none"
    taught = Index(docs, [Synonym("撸串店", "食品经营许可")])
    assert taught.search("开个撸串店").results[0].code == "X1"


def test_aliases_field(engine: Index) -> None:
    docs = [
        Document("A1", "城乡居民基本养老保险参保登记", aliases=("新农保",)),
        Document("A2", "结婚登记"),
    ]
    index = Index(docs, [])
    result = index.search("新农保").results[0]
    assert result.code == "A1"
    assert "别名" in result.explanation()


def test_high_frequency_order() -> None:
    docs = [
        Document("H2", "结婚登记", high_frequency=True, hf_order=2),
        Document("H1", "离婚登记", high_frequency=True, hf_order=1),
        Document("H3", "收养登记"),
    ]
    assert [d.code for d in Index(docs, []).high_frequency()] == ["H1", "H2"]


def test_empty_catalogue() -> None:
    assert Index([], []).search("社保卡").kind == "none"
