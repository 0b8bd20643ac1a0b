"""The appeal classifier: training, versions and rollback, routing suggestions, corrections."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse

from minsheng.core.models import AuditEvent, Role
from minsheng.intelligence import actions, classifier
from minsheng.intelligence.classifier import Classifier, build_lexicon
from minsheng.intelligence.models import ClassifierVersion, RoutingCorrection
from tests.appeals.factories import CategoryFactory, RoutingRuleFactory, make_cast, submit
from tests.factories import DepartmentFactory, UserFactory
from tests.intelligence.factories import (
    EXAMPLES,
    PENSION,
    SCHOOL,
    TAXONOMY,
    TRAFFIC,
    rows,
    train_version,
)

pytestmark = pytest.mark.django_db

BUS = ("公交车太挤", "早高峰公交车太挤，希望增加公交班次。")


@pytest.fixture(autouse=True)
def _forget_loaded_model(monkeypatch):
    monkeypatch.setattr(classifier, "_loaded", None)


def test_a_fitted_classifier_ranks_the_right_class_first_on_new_messages():
    data = rows()
    model = Classifier(build_lexicon(TAXONOMY)).fit(data.texts, data.labels)
    assert model.labels == sorted({TRAFFIC, SCHOOL, PENSION})
    assert model.rank(*BUS)[0][0] == TRAFFIC
    assert model.rank("孩子上学收费", "小学老师要求学生交补课费。")[0][0] == SCHOOL
    ranked = model.rank(*BUS, k=3)
    assert [c for _label, c in ranked] == sorted((c for _label, c in ranked), reverse=True)
    assert sum(c for _label, c in ranked) == pytest.approx(1.0)


def test_the_lexicon_gives_a_term_shared_by_classes_to_each_of_them():
    lexicon = build_lexicon([("甲", "园林绿化环卫"), ("乙", "城市环卫")])
    assert lexicon["园林绿化环卫"] == ("甲",)  # the whole name
    assert lexicon["园林绿化"] == ("甲",)  # and the words it is made of
    assert lexicon["环卫"] == ("乙", "甲")


def test_traditional_characters_are_read_as_simplified():
    assert classifier.normalise("公車誤點") == "公车误点"


def test_the_model_survives_pickling_in_the_database():
    version = train_version()
    loaded = Classifier.loads(bytes(ClassifierVersion.objects.get(pk=version.pk).model_blob))
    assert loaded.rank(*BUS)[0][0] == TRAFFIC


def test_training_stores_a_numbered_active_version_with_its_report():
    first = train_version()
    assert (first.number, first.active, first.row_count) == (1, True, len(EXAMPLES))
    report = first.metrics
    assert report["evaluated_on"] == "inline"
    assert report["confusion"]["labels"] == sorted({TRAFFIC, SCHOOL, PENSION})
    assert sum(map(sum, report["confusion"]["matrix"])) == len(EXAMPLES)
    assert set(report["per_class"][TRAFFIC]) == {"precision", "recall", "f1", "support"}
    assert 0.0 <= report["macro_f1"] <= 1.0
    assert AuditEvent.objects.filter(action="classifier.trained").count() == 1


def test_without_test_rows_the_report_comes_from_cross_validation():
    version = train_version(evaluation=None)
    assert "交叉验证" in version.metrics["evaluated_on"]
    assert version.metrics["rows"] == len(EXAMPLES)


def test_activating_an_older_version_rolls_back_and_only_one_is_active():
    first = train_version()
    second = train_version()
    assert list(ClassifierVersion.objects.filter(active=True)) == [second]
    assert classifier.active_classifier()[0] == second.pk

    actions.activate(first.pk, by=None)

    assert list(ClassifierVersion.objects.filter(active=True)) == [first]
    assert classifier.active_classifier()[0] == first.pk  # reloaded after the change
    event = AuditEvent.objects.filter(action="classifier.activated").latest("pk")
    assert event.before == {"active": [2]} and event.after == {"active": 1}


def test_a_version_trained_without_activation_leaves_the_current_one():
    first = train_version()
    second = train_version(activate_it=False)
    assert not ClassifierVersion.objects.get(pk=second.pk).active
    assert ClassifierVersion.objects.get(pk=first.pk).active


def test_the_database_refuses_two_active_versions():
    train_version()
    second = train_version(activate_it=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        ClassifierVersion.objects.filter(pk=second.pk).update(active=True)


def test_only_an_administrator_may_train_or_activate():
    dispatcher = UserFactory(role=Role.DISPATCHER)
    with pytest.raises(PermissionDenied):
        train_version(by=dispatcher)
    version = train_version(by=UserFactory(role=Role.ADMIN), activate_it=False)
    with pytest.raises(PermissionDenied):
        actions.activate(version.pk, by=dispatcher)


def test_no_active_version_means_no_classifier():
    assert classifier.active_classifier() is None


def test_a_suggestion_carries_the_category_and_the_department_of_the_closest_rule():
    transport = DepartmentFactory(name="县交通运输局")
    top = CategoryFactory(code="jt", name=TRAFFIC)
    RoutingRuleFactory(category=top, department=transport)
    CategoryFactory(code="jt-gj", name="公共交通", parent=top)
    CategoryFactory(code="jy", name=SCHOOL)  # no routing rule anywhere up its tree
    train_version()
    model = classifier.active_classifier()[1]

    best, *others = model.suggest(*BUS)

    assert (best.label, best.category_id, best.department_id) == (TRAFFIC, top.pk, transport.pk)
    school = next(s for s in others if s.label == SCHOOL)
    assert school.department_id is None and school.category_id is not None
    pension = next(s for s in others if s.label == PENSION)
    assert (pension.category_id, pension.department_id) == (None, None)


def test_the_lexicon_in_production_comes_from_the_category_tree():
    top = CategoryFactory(code="jt", name=TRAFFIC, keywords="黑车，拉客")
    middle = CategoryFactory(code="jt-gj", name="公共交通", parent=top)
    CategoryFactory(code="jt-gj-1", name="出租车管理", parent=middle, keywords="拒载 绕路、打表")
    hidden = CategoryFactory(code="old", name="旧分类", active=False)
    CategoryFactory(code="old-1", name="停用分支", parent=hidden, keywords="不该出现")
    entries = classifier.category_tree_entries()
    assert sorted(entries) == sorted(
        [
            (TRAFFIC, "公共交通"),
            (TRAFFIC, "出租车管理"),
            (TRAFFIC, "黑车"),
            (TRAFFIC, "拉客"),
            (TRAFFIC, "拒载"),
            (TRAFFIC, "绕路"),
            (TRAFFIC, "打表"),
        ]
    )


def test_the_built_in_dictionary_covers_every_class_of_the_national_catalogue():
    entries = classifier.keyword_entries()
    classes = {level1 for level1, _term in entries}
    assert len(classes) == 15 and {TRAFFIC, SCHOOL, PENSION} <= classes
    assert (PENSION, "欠薪") in entries and (TRAFFIC, "拒载") in entries


def test_everyday_words_from_the_dictionary_classify_messages_the_training_never_saw():
    # Nothing in the training rows speaks of 快递 or 驿站; only the dictionary does, and
    # without it 收费 pulls the message to the school class (学校乱收费).
    message = ("快递驿站乱收费", "快递驿站取件每件收一元。")
    data = rows()
    with_words = Classifier(classifier.county_lexicon(keywords=classifier.BUILTIN_KEYWORDS))
    without = Classifier(build_lexicon([]))
    assert with_words.fit(data.texts, data.labels).rank(*message)[0][0] == TRAFFIC
    assert without.fit(data.texts, data.labels).rank(*message)[0][0] != TRAFFIC


def test_long_terms_are_found_anywhere_even_overlapping_and_at_the_end():
    model = Classifier({"公交线路": (TRAFFIC,), "线路改造": (PENSION,), "补课费": (SCHOOL,)})
    model.labels = [PENSION, SCHOOL, TRAFFIC]
    text = "新开公交线路改造好了还收补课费"
    evidence = model._lexicon_evidence([classifier.words(text)], [text])[0]
    assert evidence.tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3])


def test_a_term_found_in_most_training_texts_weighs_less_than_a_rare_one():
    model = Classifier({"问题": (PENSION,), "拒载": (TRAFFIC,)})
    model.labels = [PENSION, TRAFFIC]
    training = ["社保的问题", "工资的问题", "退休的问题", "司机拒载的问题"]
    model._fit_term_idf([classifier.words(t) for t in training], training)
    assert model.term_idf["问题"] < model.term_idf["拒载"] < model.unseen_term_idf
    text = "拒载的问题"
    pension, traffic = model._lexicon_evidence([classifier.words(text)], [text])[0]
    assert traffic > pension > 0
    assert pension + traffic == pytest.approx(1.0)


def test_a_version_trained_before_the_term_weights_weighs_every_term_one():
    data = rows()
    model = Classifier(build_lexicon(TAXONOMY)).fit(data.texts, data.labels)
    assert model.term_idf
    state = model.__getstate__()
    del state["term_idf"], state["unseen_term_idf"]  # what a pickle of the earlier code holds
    old = Classifier.__new__(Classifier)
    old.__dict__.update(state)
    old = Classifier.loads(old.dumps())
    unweighted = Classifier(model.lexicon)
    unweighted.labels = model.labels
    texts = [classifier.appeal_text("出租车收费太高", "出租车司机不打表，收费太高。")]
    tokens = [classifier.words(texts[0])]
    evidence = old._lexicon_evidence(tokens, texts)[0]
    assert evidence.tolist() == pytest.approx(unweighted._lexicon_evidence(tokens, texts)[0])
    assert evidence.tolist() != pytest.approx(model._lexicon_evidence(tokens, texts)[0])
    assert old.predict_proba(texts) == pytest.approx(old.model.predict_proba(old._features(texts)))


def test_a_keyword_file_without_words_is_refused(tmp_path):
    path = tmp_path / "words.csv"
    path.write_text("level1,topic,keywords\n交通运输,出租车,\n", encoding="utf-8")
    with pytest.raises(ValueError, match="词典中没有词"):
        classifier.keyword_entries(path)


def test_corrections_are_recorded_and_used_by_retraining():
    cast = make_cast()
    school = CategoryFactory(code="jy", name=SCHOOL)
    sub = CategoryFactory(code="jy-xq", name="学前教育", parent=school)
    train_version()
    appeal = submit(title="幼儿园收费太高")

    correction = actions.record_correction(
        appeal.pk,
        suggested_label=TRAFFIC,
        confidence=0.41,
        chosen_category_id=sub.pk,
        chosen_department_id=cast.department.pk,
        by=cast.dispatcher,
    )

    assert correction.version == ClassifierVersion.objects.get(active=True)
    assert RoutingCorrection.objects.get().by == cast.dispatcher
    assert AuditEvent.objects.filter(action="classifier.corrected").exists()
    people = actions.correction_rows()
    assert people.labels == [SCHOOL]  # the top-level name of the chosen category
    assert "幼儿园收费太高" in people.texts[0]

    version = actions.retrain_from_corrections(by=None, file_rows=rows(), file_source="inline")
    assert version.row_count == len(EXAMPLES) + 1
    assert version.active and "纠正记录 1 条" in version.source


def test_a_handler_may_not_record_corrections():
    cast = make_cast()
    appeal = submit()
    with pytest.raises(PermissionDenied):
        actions.record_correction(
            appeal.pk,
            suggested_label=TRAFFIC,
            confidence=0.5,
            chosen_category_id=None,
            chosen_department_id=None,
            by=cast.handler,
        )


def test_retraining_with_nothing_to_learn_from_is_refused():
    with pytest.raises(actions.ClassifierError):
        actions.retrain_from_corrections(by=None)


def test_the_admin_shows_the_report_and_rolls_back(client):
    admin_client = client
    admin_client.force_login(UserFactory(role=Role.ADMIN, is_staff=True))
    first = train_version()
    train_version()
    page = admin_client.get(reverse("admin:intelligence_classifierversion_change", args=[first.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "混淆矩阵" in html and f"<th>{PENSION}</th>" in html

    response = admin_client.post(
        reverse("admin:intelligence_classifierversion_changelist"),
        {"action": "make_current", "_selected_action": [first.pk]},
    )

    assert response.status_code == 302
    assert ClassifierVersion.objects.get(active=True) == first


def test_a_dispatcher_does_not_see_the_classifier_admin(client):
    client.force_login(UserFactory(role=Role.DISPATCHER, is_staff=True))
    response = client.get(reverse("admin:intelligence_classifierversion_changelist"))
    assert response.status_code in {302, 403}


@pytest.mark.parametrize("labels", [(TRAFFIC, SCHOOL), (TRAFFIC, SCHOOL, PENSION)])
def test_probabilities_are_those_of_the_fitted_logistic_regression(labels):
    data = rows([e for e in EXAMPLES if e[2] in labels])
    model = Classifier(build_lexicon(TAXONOMY)).fit(data.texts, data.labels)
    texts = [
        classifier.appeal_text(*BUS),
        classifier.appeal_text("学校收费", "补课费太高，补课费太高"),  # repeated grams
        "𠀀𠀁",  # no known word or character: empty TF-IDF rows
    ]
    expected = model.model.predict_proba(model._features(texts))
    assert model.predict_proba(texts) == pytest.approx(expected)


def test_the_title_is_read_apart_from_the_whole_text():
    text = classifier.appeal_text("出租车拒载", "晚上打车")
    head_words, head = classifier.headline(classifier.words(text), text)
    assert (head_words, head) == (["出租车", "拒载"], "出租车拒载")
    assert classifier.headline(["没有", "标题"], "没有标题") == (["没有", "标题"], "没有标题")
    model = Classifier({"拒载": (TRAFFIC,), "学校": (SCHOOL,)})
    model.labels = [SCHOOL, TRAFFIC]
    body_only = classifier.appeal_text("投诉", "司机拒载")
    both = classifier.appeal_text("拒载", "司机拒载")
    # whole-text evidence for 交通运输 in both; title evidence only where the title says it
    assert model._lexicon_features([classifier.words(body_only)], [body_only])[0].tolist() == [
        0.0,
        1.0,
        0.0,
        0.0,
    ]
    assert model._lexicon_features([classifier.words(both)], [both])[0].tolist() == [
        0.0,
        1.0,
        0.0,
        1.0,
    ]


def test_a_version_trained_before_the_title_block_still_predicts():
    data = rows()
    old = Classifier(build_lexicon(TAXONOMY))
    old.headline_lexicon = False
    old.fit(data.texts, data.labels)
    state = old.__getstate__()
    del state["headline_lexicon"]  # what a pickle of the earlier code holds
    loaded = Classifier.__new__(Classifier)
    loaded.__dict__.update(state)
    loaded = Classifier.loads(loaded.dumps())
    texts = [classifier.appeal_text(*BUS)]
    assert loaded.predict_proba(texts) == pytest.approx(
        loaded.model.predict_proba(loaded._features(texts))
    )
    assert loaded.rank(*BUS)[0][0] == TRAFFIC
