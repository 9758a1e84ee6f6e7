"""New ids are time-ordered UUIDs (shopsite/ids.py).

Only the Python-side default changes, so the database is left alone: an AlterField would make SQLite
copy the whole table for nothing.
"""

from django.db import migrations, models

import shopsite.ids


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0003_outbox_traceparent'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='charge',
                name='id',
                field=models.UUIDField(default=shopsite.ids.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='paymentmethod',
                name='id',
                field=models.UUIDField(default=shopsite.ids.uuid7, editable=False, primary_key=True, serialize=False),
            ),
            migrations.AlterField(
                model_name='refund',
                name='id',
                field=models.UUIDField(default=shopsite.ids.uuid7, editable=False, primary_key=True, serialize=False),
            ),
        ]),
    ]
