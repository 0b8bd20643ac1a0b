from __future__ import annotations

import pytest

from minsheng.core import tokens


@pytest.fixture
def bearer():
    """``bearer(user)`` → headers for the test client that authenticate with a new token."""

    def make(user, name: str = "测试系统") -> dict[str, str]:
        _token, key = tokens.create_token(user, name)
        return {"Authorization": f"Bearer {key}"}

    return make
