from django.contrib import admin
from django.urls import include, path

from guessgame.health import healthz, readyz
from guessgame.metrics import metrics_view

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("inference.urls")),
    path("staff/", include("guessgame.review.urls")),
    path("accounts/", include("guessgame.accounts.urls")),
    path("", include("guessgame.game.urls")),
]

handler400 = "guessgame.errors.bad_request"
