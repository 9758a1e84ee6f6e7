# Replicas known so far were ordered by time; accounts now numbers its messages, and every row starts at 0,
# the version of messages from before (see shopsite/replicas.py).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0007_inbox_handler_keys'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='userrole',
            name='as_of',
        ),
        migrations.AddField(
            model_name='userrole',
            name='version',
            field=models.PositiveIntegerField(default=0),
        ),
    ]
