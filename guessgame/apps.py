from django.contrib.admin import apps as admin_apps


class AdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with guessgame's site (``guessgame.admin.AdminSite``)."""

    default = False  # not the configuration of the ``guessgame`` app itself
    default_site = "guessgame.admin.AdminSite"
