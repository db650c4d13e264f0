"""ModelActivation moves from the review app to inference, beside ModelVersion: the
model lifecycle and its audit trail have one owner (``inference.lifecycle``).

State only: the table stays ``review_modelactivation`` (``Meta.db_table``) and no row
moves. ``review.0007`` then drops the review app's copy from its state.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inference', '0001_initial'),
        ('review', '0006_reviewdecision_moved_from_game'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='ModelActivation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('activate', 'Activated by staff'), ('override', 'Activated by staff over the gate'), ('rollback', 'Rolled back by staff'), ('retrain', 'Activated by retrain'), ('shipped', 'Shipped model, activated at migrate')], max_length=10)),
                        ('changed_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ('note', models.TextField(blank=True, help_text="Why, e.g. the retrain rule's decision.")),
                        ('changed_by', models.ForeignKey(blank=True, help_text='Empty for a retrain run from the command line or the shipped model.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('from_version', models.ForeignKey(blank=True, help_text='Active before; empty when none was.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='inference.modelversion')),
                        ('to_version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='activations', to='inference.modelversion')),
                    ],
                    options={
                        'verbose_name': 'model activation',
                        'db_table': 'review_modelactivation',
                        'ordering': ['-changed_at', '-pk'],
                    },
                ),
            ],
        ),
    ]
