from django.contrib import admin
from django.urls import include, path

from guessgame.health import healthz, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("inference.urls")),
    path("staff/", include("guessgame.review.urls")),
    path("", include("guessgame.game.urls")),
]

handler400 = "guessgame.errors.bad_request"
