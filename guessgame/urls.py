from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from guessgame.health import healthz, readyz
from guessgame.metrics import metrics_view

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("inference.urls")),
    # The address people guess for the API's documentation.
    path("api/docs", RedirectView.as_view(pattern_name="inference:docs")),
    path("staff/", include("guessgame.review.urls")),
    path("accounts/", include("guessgame.accounts.urls")),
    path("", include("guessgame.game.urls")),
]

handler400 = "guessgame.errors.bad_request"
