from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_openapi_document_is_valid_openapi_3(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    validate(document)
    assert "/api/v1/staff/{staff_id}" in document["paths"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["responses"], f"{method} {path} documents no response"
            # The one error shape is documented on every operation.
            assert operation["responses"]["default"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }
    assert {"TokenAuth", "SessionAuth"} <= set(document["components"]["securitySchemes"])


# Opened on purpose with auth=None: what the public may read or ask without an account.
PUBLIC_OPERATIONS = {
    ("get", "/api/v1/catalog/matters"),
    ("get", "/api/v1/catalog/matters/{code}"),
    ("post", "/api/v1/guide/ask"),
    ("get", "/api/v1/projects/public/batches"),
    ("get", "/api/v1/projects/public/batches/{batch_id}"),
}


def test_every_operation_requires_authentication_by_default(client):
    document = client.get("/api/v1/openapi.json").json()

    public = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not operation.get("security"):
                public.add((method, path))
    assert public == PUBLIC_OPERATIONS


def test_docs_page_loads_only_local_static_files_under_the_strict_csp(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls
    for url in urls:
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), f"{url} is not a static file"
    # Every script is a file or inert JSON data: nothing inline for the CSP to block.
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
        assert "src=" in attributes or 'type="application/json"' in attributes
        assert "src=" not in attributes or not body.strip()
