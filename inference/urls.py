from django.urls import path

from inference import views

app_name = "inference"
urlpatterns = [
    path("predict", views.predict, name="predict"),
    path("openapi.json", views.openapi, name="openapi"),
    path("docs", views.api_docs, name="docs"),
]
