"""The API description says what the settings do, and the docs page serves it."""

import re

import pytest
from django.conf import settings

from inference.views import openapi_document


def test_the_description_gives_the_default_rate_of_the_settings():
    description = openapi_document()["info"]["description"]
    assert f"{settings.API_RATE_DEFAULT} by default" in description
    assert "120/m" not in description


def test_the_description_says_a_drawing_may_be_not_a_digit():
    assert "not_digit" in openapi_document()["info"]["description"]


@pytest.mark.django_db
def test_the_docs_page_loads_swagger_ui_from_our_static_files_with_no_inline_script(client):
    page = client.get("/api/v1/docs").content.decode()

    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert 'data-spec-url="/api/v1/openapi.json"' in page
    assert all(re.search(r'src="/static/', tag) for tag in re.findall(r"<script[^>]*>", page))


@pytest.mark.django_db
def test_the_address_people_guess_for_the_docs_leads_to_them(client):
    response = client.get("/api/docs")

    assert response.status_code == 302 and response.url == "/api/v1/docs"
