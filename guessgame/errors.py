"""Error pages that answer JSON to scripts and the game's own fetch() calls.

Some bad requests never reach a view: Django's CSRF middleware reads a POST's form
before any view runs, so a multipart body it cannot parse is answered by ``handler400``.
A script or the game's JavaScript should still get ``{"error": "..."}``, like every other
4xx of the API and the game; a browser page keeps Django's HTML.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults


def wants_json(request: HttpRequest) -> bool:
    """The API, or a client that asks for JSON (the game's fetch() calls do)."""
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if wants_json(request):
        return JsonResponse(
            {"error": "The request could not be read: send a well-formed form or PNG."},
            status=400,
        )
    return defaults.bad_request(request, exception)
