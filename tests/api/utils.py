from __future__ import annotations

import json


def error_of(response) -> dict:
    """The body's ``error`` object, after checking the one shape every error has."""
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    return body["error"]
