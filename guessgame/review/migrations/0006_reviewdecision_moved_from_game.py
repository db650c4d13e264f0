"""ReviewDecision moves from the game app to review, the app that writes it.

State only: the table stays ``game_reviewdecision`` (``Meta.db_table``), no row moves,
and the undo links now point at review's model. ``game.0005`` then drops the game
app's copy from its state.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("game", "0004_guest"),
        ("review", "0005_reviewclaim"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='ReviewDecision',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('decided_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('old_status', models.CharField(choices=[('unreviewed', 'Unreviewed'), ('approved', 'Approved'), ('relabelled', 'Relabelled'), ('rejected', 'Rejected')], max_length=12)),
                        ('new_status', models.CharField(choices=[('unreviewed', 'Unreviewed'), ('approved', 'Approved'), ('relabelled', 'Relabelled'), ('rejected', 'Rejected')], max_length=12)),
                        ('old_label', models.PositiveSmallIntegerField()),
                        ('new_label', models.PositiveSmallIntegerField()),
                        ('drawing', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='decisions', to='game.drawing')),
                        ('reviewer', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'game_reviewdecision',
                        'ordering': ['-decided_at'],
                    },
                ),
                migrations.AlterField(
                    model_name='undonedecision',
                    name='decision',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='undone_by', to='review.reviewdecision'),
                ),
                migrations.AlterField(
                    model_name='undonedecision',
                    name='reversal',
                    field=models.OneToOneField(blank=True, help_text='Empty when another reviewer had changed the drawing since: nothing restored.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='reverses', to='review.reviewdecision'),
                ),
    
            ],
        ),
    ]
