from django.db import migrations


class Migration(migrations.Migration):
    """The status rank becomes the summary's version: the same number, now also sent by orders."""

    dependencies = [
        ("accounts", "0005_user_versions"),
    ]

    operations = [
        migrations.RenameField(model_name="customerorder", old_name="status_rank", new_name="version"),
    ]
