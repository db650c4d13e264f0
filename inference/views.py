"""The prediction API: POST a PNG drawing, get the model's guess as JSON.

Every answer is JSON, errors included (``{"error": "a sentence for a person"}``), so a
script never has to parse an HTML error page. The contract is ``inference/openapi.json``.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from django_ratelimit.core import get_usage

from guessgame.errors import Refusal, rate_or_none
from inference.client import predict_png
from inference.preprocess import MAX_BYTES, DrawingError

log = logging.getLogger(__name__)

OPENAPI_FILE = Path(__file__).with_name("openapi.json")

RAW_TYPES = {"image/png", "application/octet-stream"}


def api_rate_wait(request: HttpRequest) -> int | None:
    """Count this request against its client's budget (settings.API_RATE, "off" = none);
    the seconds until the client may send again when it is over, else None.

    Read at request time, so tests and operators can change the rate without a reload.
    """
    rate = rate_or_none(settings.API_RATE)
    if rate is None:
        return None
    usage = get_usage(
        request, group="inference.predict", key="ip", rate=rate, method="POST", increment=True
    )
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, int(usage["time_left"]))


def read_png(request: HttpRequest) -> bytes:
    """The PNG's bytes from a multipart field ``image`` or from a raw image/png body."""
    content_type = request.content_type or ""
    if content_type == "multipart/form-data":
        try:
            upload = request.FILES.get("image")
        except (MultiPartParserError, SuspiciousOperation) as exc:
            raise DrawingError("The multipart form is malformed and cannot be read.") from exc
        if upload is None:
            raise DrawingError(
                "The form has no file field named 'image': send the PNG as image=@file.png."
            )
        if upload.size > MAX_BYTES:
            raise DrawingError(
                f"The drawing is too large: {upload.size:,} bytes, the limit is {MAX_BYTES:,}.",
                status=413,
            )
        return upload.read()
    if content_type in RAW_TYPES:
        return request.body
    raise DrawingError(
        "Send the drawing as a PNG: a multipart form with a file field 'image', or the raw "
        f"PNG bytes with Content-Type: image/png (got {content_type or 'no Content-Type'}).",
        status=415,
    )


@csrf_exempt
def predict(request: HttpRequest) -> JsonResponse:
    """POST /api/v1/predict: the digit, confidence, 10 probabilities, blank, model version."""
    if request.method != "POST":
        raise Refusal(
            "Use POST with a PNG drawing to get a prediction.", status=405,
            headers={"Allow": "POST"},
        )  # fmt: skip
    wait = api_rate_wait(request)
    if wait is not None:
        raise Refusal(
            f"Too many predictions from this client: the limit is {settings.API_RATE}; "
            f"try again in {wait} s.",
            status=429,
            retry_after=wait,
        )
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError as exc:
        raise Refusal("The Content-Length header is not a number.") from exc
    # Refuse before reading (guessgame.body_limit already does, in front of Django).
    if length > settings.REQUEST_MAX_BYTES:
        raise Refusal(
            f"The request is too large: {length:,} bytes, the limit is {MAX_BYTES:,}.",
            status=413,
        )
    prediction = predict_png(read_png(request))
    log.info(
        "event=api_predict digit=%s not_digit=%s blank=%s confidence=%.2f model=%s",
        prediction.digit,
        prediction.not_digit,
        prediction.blank,
        prediction.confidence,
        prediction.model_version,
    )
    return JsonResponse(prediction.as_json())


@cache
def openapi_document() -> dict:
    return json.loads(OPENAPI_FILE.read_text())


@csrf_exempt  # it changes nothing: any other method is a JSON 405, not a CSRF page
@cache_control(max_age=300, public=True)
def openapi(request: HttpRequest) -> JsonResponse:
    """GET /api/v1/openapi.json: the OpenAPI 3.1 description of this API."""
    if request.method not in {"GET", "HEAD"}:
        raise Refusal(
            "Use GET to read the API description.", status=405, headers={"Allow": "GET, HEAD"}
        )
    return JsonResponse(openapi_document())


@require_safe
def api_docs(request: HttpRequest) -> HttpResponse:
    """GET /api/docs: Swagger UI over openapi.json, every file served by the app (CSP)."""
    return render(request, "inference/api_docs.html")
