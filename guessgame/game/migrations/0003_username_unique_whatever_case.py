"""Usernames unique whatever their case, enforced by the database.

The sign-up form checks ``username__iexact`` first, but two sign-ups of ``RaceName`` and
``racename`` at the same moment both passed that check; only a unique index on
``LOWER(username)`` stops the second. auth_user belongs to Django's auth app, so the
index is plain SQL (the same on SQLite and PostgreSQL). SQLite's LOWER folds ASCII
letters only, which is all a sign-up name may hold.

Accounts that already differ only in case (made by that race) are renamed first: the
oldest keeps its name, each later one becomes ``<name>-<id>``, printed so the operator
can tell those players.
"""

from django.db import migrations
from django.db.models import Count
from django.db.models.functions import Lower

INDEX = "game_auth_user_username_lower_uniq"


def _free_name(User, username: str, pk: int, max_length: int) -> str:
    """``<username>-<pk>`` (then ``-2``, ``-3``...) cut to fit, unused in any case."""
    attempt = 1
    while True:
        suffix = f"-{pk}" if attempt == 1 else f"-{pk}-{attempt}"
        name = username[: max_length - len(suffix)] + suffix
        if not User.objects.annotate(folded=Lower("username")).filter(folded=name.lower()).exists():
            return name
        attempt += 1


def rename_case_variants(apps, schema_editor):
    User = apps.get_model("auth", "User")
    max_length = User._meta.get_field("username").max_length
    clashing = (
        User.objects.annotate(folded=Lower("username"))
        .values("folded")
        .annotate(count=Count("pk"))
        .filter(count__gt=1)
        .values_list("folded", flat=True)
    )
    for folded in list(clashing):
        same = User.objects.annotate(folded=Lower("username")).filter(folded=folded)
        later = same.order_by("pk")[1:]
        for user in later:
            new_name = _free_name(User, user.username, user.pk, max_length)
            print(f"\n  Renamed user {user.pk} from {user.username!r} to {new_name!r} (case clash)")
            user.username = new_name
            user.save(update_fields=["username"])


class Migration(migrations.Migration):
    dependencies = [
        ("game", "0002_drawing_not_digit"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(rename_case_variants, migrations.RunPython.noop),
        migrations.RunSQL(
            f"CREATE UNIQUE INDEX {INDEX} ON auth_user (LOWER(username));",
            reverse_sql=f"DROP INDEX {INDEX};",
        ),
    ]
