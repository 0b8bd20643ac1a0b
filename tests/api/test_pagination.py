from __future__ import annotations

import pytest

from minsheng.core.models import Role
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client):
    client.force_login(UserFactory(role=Role.DISPATCHER))
    DepartmentFactory.create_batch(25)
    return client


def test_first_page(api):
    body = api.get("/api/v1/departments", {"page_size": 10}).json()

    assert body["count"] == 25
    assert len(body["results"]) == 10
    assert body["previous"] is None
    assert body["next"] == "http://testserver/api/v1/departments?page_size=10&page=2"


def test_middle_and_last_page(api):
    middle = api.get("/api/v1/departments", {"page_size": 10, "page": 2}).json()
    last = api.get("/api/v1/departments", {"page_size": 10, "page": 3}).json()

    assert middle["previous"] == "http://testserver/api/v1/departments?page_size=10&page=1"
    assert middle["next"].endswith("page=3")
    assert len(last["results"]) == 5
    assert last["next"] is None
    ids = [
        d["id"]
        for page in (1, 2, 3)
        for d in api.get("/api/v1/departments", {"page_size": 10, "page": page}).json()["results"]
    ]
    assert len(set(ids)) == 25


def test_filters_are_kept_in_page_links(api):
    body = api.get("/api/v1/departments", {"page_size": 10, "kind": "county"}).json()

    assert "kind=county" in body["next"]


def test_page_past_the_end_is_empty_and_points_back(api):
    body = api.get("/api/v1/departments", {"page_size": 10, "page": 9}).json()

    assert body["count"] == 25
    assert body["results"] == []
    assert body["next"] is None
    assert body["previous"].endswith("page=3")


def test_default_page_size(api):
    body = api.get("/api/v1/departments").json()

    assert len(body["results"]) == 20
