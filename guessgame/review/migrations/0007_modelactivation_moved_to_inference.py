"""ModelActivation now belongs to inference (``inference.0002``): state only, the table
``review_modelactivation`` and its rows stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0006_reviewdecision_moved_from_game"),
        ("inference", "0002_modelactivation_moved_from_review"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="ModelActivation")],
        ),
    ]
