"""Every user's email is stored lower-case, and the database now holds everyone to it.

Logins and the duplicate-email check find a user by equality through the
unique index (a case-insensitive match cannot use it and reads every user).
Every write path has stored normalized addresses from the start; a row that
came in some other way is lowered first, so the constraint can be added.
"""

from django.db import migrations, models
from django.db.models.functions import Lower


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0007_outbox_traceparent"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunSQL("UPDATE accounts_user SET email = LOWER(email) WHERE email <> LOWER(email)",
                          reverse_sql=migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(condition=models.Q(email=Lower("email")),
                                              name="accounts_user_email_lower"),
        ),
    ]
