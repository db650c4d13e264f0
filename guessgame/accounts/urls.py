from django.contrib.auth import views as auth_views
from django.urls import path

from guessgame.accounts import views

urlpatterns = [
    path("signup", views.signup, name="signup"),
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path("delete", views.account_delete, name="account_delete"),
    path("password", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]
