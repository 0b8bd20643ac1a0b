"""The classifier in the dispatcher's work: automatic routing above the county's confidence
threshold, the advice on the appeal's page, and corrections recorded when the dispatcher
sends an appeal elsewhere."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from minsheng.appeals import actions as appeal_actions
from minsheng.appeals.models import Appeal, Category, RoutingRule
from minsheng.appeals.states import State
from minsheng.core.models import Department
from minsheng.intelligence import routing
from minsheng.intelligence.models import IntelligenceSettings, RoutingCorrection
from tests.appeals.factories import Cast, make_cast, submit
from tests.factories import DepartmentFactory
from tests.intelligence.factories import PENSION, SCHOOL, TRAFFIC, train_version

pytestmark = pytest.mark.django_db

IMMEDIATE = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "ENQUEUE_ON_COMMIT": False,
    }
}
BUS = ("公交车不按站停车", "3路公交车司机经常不到站就开走，乘客在站台等车很久。")


@dataclass
class County:
    cast: Cast
    transport: Department
    education: Department


@pytest.fixture
def county(settings) -> County:
    settings.TASKS = IMMEDIATE
    routing._settings.clear()
    cast = make_cast()
    transport = DepartmentFactory(name="县交通运输局")
    education = DepartmentFactory(name="县教育局")
    for i, (label, department) in enumerate(
        [(TRAFFIC, transport), (SCHOOL, education), (PENSION, cast.other_department)]
    ):
        category = Category.objects.create(code=f"c{i}", name=label)
        RoutingRule.objects.create(category=category, department=department)
    train_version()
    return County(cast, transport, education)


def _configure(auto: bool, confidence: float) -> None:
    IntelligenceSettings.objects.update_or_create(
        pk=1, defaults={"auto_route": auto, "auto_route_confidence": confidence}
    )
    routing._settings.clear()


def _submit_bus(django_capture_on_commit_callbacks) -> Appeal:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        appeal = submit(BUS[0])
    return Appeal.objects.get(pk=appeal.pk)


def test_the_suggestion_maps_to_the_routing_catalogue(county: County) -> None:
    appeal = submit(BUS[0])
    best = routing.suggestions(appeal)[0]
    assert best.label == TRAFFIC
    assert best.department_id == county.transport.pk
    assert 0 < best.confidence <= 1


def test_confident_appeals_are_routed_automatically(
    county: County, django_capture_on_commit_callbacks
) -> None:
    _configure(True, 0.0)
    appeal = _submit_bus(django_capture_on_commit_callbacks)
    assert appeal.state == State.DISPATCHED
    assert appeal.auto_routed and appeal.lead_department == county.transport
    assert appeal.events.filter(kind="dispatched").exists()


def test_below_the_threshold_the_dispatcher_decides(
    county: County, django_capture_on_commit_callbacks
) -> None:
    confidence = routing.suggestions(submit(BUS[0]))[0].confidence
    _configure(True, min(1.0, confidence + 0.01))
    appeal = _submit_bus(django_capture_on_commit_callbacks)
    assert appeal.state == State.RECEIVED and not appeal.auto_routed
    # Exactly at the threshold it goes.
    _configure(True, confidence - 1e-9)
    assert _submit_bus(django_capture_on_commit_callbacks).state == State.DISPATCHED


def test_nothing_is_routed_when_the_county_has_not_turned_it_on(
    county: County, django_capture_on_commit_callbacks
) -> None:
    _configure(False, 0.0)
    assert _submit_bus(django_capture_on_commit_callbacks).state == State.RECEIVED


def test_an_appeal_a_dispatcher_already_routed_is_left_alone(county: County) -> None:
    _configure(True, 0.0)
    appeal = submit(BUS[0])
    appeal_actions.dispatch(appeal.pk, department_id=county.education.pk, by=county.cast.dispatcher)
    assert routing.auto_route(appeal.pk) is False
    appeal.refresh_from_db()
    assert appeal.lead_department == county.education and not appeal.auto_routed


def test_the_dispatcher_sees_the_advice_and_the_form_preselects_it(county: County) -> None:
    appeal = submit(BUS[0])
    twin = submit(BUS[0])
    client = Client()
    client.force_login(county.cast.dispatcher)
    page = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    advice = page.split('id="dispatch-advice"')[1].split("</section>")[0]
    assert TRAFFIC in advice and county.transport.name in advice and "置信度" in advice
    assert twin.number in advice  # the same problem, reported again
    form = page.split('id="action-dispatch"')[1].split("</form>")[0]
    assert f'<option value="{county.transport.pk}" selected>' in form
    # A handler of a department does not route: no advice.
    client.force_login(county.cast.handler)
    appeal_actions.dispatch(
        appeal.pk, department_id=county.cast.department.pk, by=county.cast.dispatcher
    )
    other = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert 'id="dispatch-advice"' not in other


def test_sending_it_elsewhere_records_a_correction(county: County) -> None:
    client = Client()
    client.force_login(county.cast.dispatcher)
    followed = submit(BUS[0])
    client.post(
        reverse("appeals:act", args=[followed.pk, "dispatch"]),
        {"version": followed.version, "department": county.transport.pk},
    )
    assert Appeal.objects.get(pk=followed.pk).lead_department == county.transport
    assert not RoutingCorrection.objects.exists()

    corrected = submit(BUS[0])
    client.post(
        reverse("appeals:act", args=[corrected.pk, "dispatch"]),
        {"version": corrected.version, "department": county.education.pk},
    )
    (correction,) = RoutingCorrection.objects.all()
    assert correction.appeal_id == corrected.pk and correction.suggested_label == TRAFFIC
    assert correction.chosen_department == county.education
    assert correction.by == county.cast.dispatcher
