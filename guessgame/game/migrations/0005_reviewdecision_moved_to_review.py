"""ReviewDecision now belongs to the review app (``review.0006``): state only, the
table ``game_reviewdecision`` and its rows stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("game", "0004_guest"),
        ("review", "0006_reviewdecision_moved_from_game"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="ReviewDecision")],
        ),
    ]
