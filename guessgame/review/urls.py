from django.urls import path

from guessgame.review import views

app_name = "review"

urlpatterns = [
    path("review/", views.review_queue, name="queue"),
    path("review/decide", views.review_decide, name="decide"),
    path("review/undo", views.review_undo, name="undo"),
    path("review/skip", views.review_skip, name="skip"),
    path("drawings/<int:pk>/drawing.png", views.drawing_image, name="drawing_image"),
    path("drawings/<int:pk>/pixels.png", views.drawing_pixels, name="drawing_pixels"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("models/", views.model_list, name="models"),
    path("models/rollback", views.model_rollback, name="model_rollback"),
    path("models/<int:pk>/activate", views.model_activate, name="model_activate"),
    path("models/<int:pk>/plots/<str:name>", views.model_plot, name="model_plot"),
]
