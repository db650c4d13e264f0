"""The API docs page: Swagger UI from the app's own files, within the CSP."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shoot

pytestmark = [pytest.mark.browser]


@pytest.mark.django_db(transaction=True)
def test_the_api_docs_page_shows_the_predict_endpoint_without_csp_violations(page, live_server):
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith((live_server.url, "data:", "blob:"))
            else None
        ),
    )
    page.goto(live_server.url + "/api/v1/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("guessgame prediction API")
    expect(page.locator(".opblock-summary-path").first).to_contain_text("/predict")
    expect(page.locator(".swagger-ui .info")).to_contain_text("12000/m")
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".swagger-ui")).to_contain_text("not_digit")
    shoot(page, "api-docs")
    assert refused == []
    assert outside == []
