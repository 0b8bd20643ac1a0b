from __future__ import annotations

import pytest

from tests.factories import UserFactory


@pytest.fixture
def make_user(db):
    """``make_user(role=..., department=...)`` creates a user who can log in with PASSWORD."""
    return UserFactory


@pytest.fixture
def logged_in(client, make_user):
    """A test client logged in as a fresh user of the given role."""

    def login(role: str = "handler", **kwargs):
        user = make_user(role=role, **kwargs)
        client.force_login(user)
        return client, user

    return login
