from django.db import migrations, models
from django.db.models import F


def stock_as_new_as_details(apps, schema_editor):
    # Until now one version guarded the whole row, so the stored availability is as new as it.
    ProductReplica = apps.get_model("cart", "ProductReplica")
    ProductReplica.objects.using(schema_editor.connection.alias).update(stock_version=F("version"))


class Migration(migrations.Migration):

    dependencies = [
        ("cart", "0005_inbox_handler_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="productreplica",
            name="stock_version",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(stock_as_new_as_details, migrations.RunPython.noop),
    ]
