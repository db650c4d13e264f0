"""The admin site: Django's, with bulk actions that refuse unreadable selections, and the
read-only admins the game and review share (what they record is never edited by hand).

Django's changelist filters ``pk__in`` with the posted ``_selected_action`` values as
they come: ``abc`` raised a ValueError (a 500) on every list with an action, ours and
those of auth and axes alike. The site mixes ``CheckedSelection`` into every model
admin registered on it, so no list is left out.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError


class CheckedSelection:
    """A bulk action runs only on ids the model's primary key accepts."""

    def response_action(self, request, queryset):
        primary_key = self.model._meta.pk
        for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
            try:
                primary_key.run_validators(primary_key.to_python(value))
            except ValidationError:
                self.message_user(
                    request,
                    f"The selection could not be read ({value[:40]!r} is not the id of "
                    f"a {self.model._meta.verbose_name}); nothing was changed.",
                    messages.ERROR,
                )
                return None  # the changelist redirects back to itself, showing the message
        return super().response_action(request, queryset)


class AdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, CheckedSelection):
            admin_class = type(admin_class.__name__, (CheckedSelection, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)


class ViewOnly:
    """Listed and opened, never added or changed by hand; deleting stays each admin's
    choice (a game may be deleted, an audit row may not)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ViewOnly, admin.ModelAdmin):
    """An audit trail: listed and opened, never added, changed or deleted by hand."""

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ViewOnly, admin.TabularInline):
    """A record's history beside it (a game's rounds, a drawing's decisions), as it is."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields
