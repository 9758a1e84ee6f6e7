import django.db.models.functions.text
import shopsite.validators
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Lower


def refuse_skus_differing_only_in_case(apps, schema_editor):
    """Stop, naming them, rather than rename SKUs that orders, carts and labels already carry.

    Staff decide which product keeps the SKU (a SKU is read-only in the admin: change the other's with
    `manage.py shell`), then run the migration again.
    """
    Product = apps.get_model("catalog", "Product")
    clashes = (
        Product.objects.using(schema_editor.connection.alias).annotate(key=Lower("sku")).values("key")
        .annotate(n=Count("id")).filter(n__gt=1).values_list("key", flat=True)
    )
    if clashes:
        raise RuntimeError(
            "SKUs must be unique whatever their case; give these products different SKUs first: "
            + ", ".join(sorted(clashes))
        )


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0003_staff_permissions'),
    ]

    operations = [
        migrations.AlterField(
            model_name='product',
            name='category',
            field=models.CharField(blank=True, db_index=True, max_length=100, validators=[shopsite.validators.NoControlCharactersValidator()]),
        ),
        migrations.AlterField(
            model_name='product',
            name='name',
            field=models.CharField(max_length=200, validators=[shopsite.validators.NoControlCharactersValidator()]),
        ),
        migrations.AlterField(
            model_name='product',
            name='sku',
            field=models.CharField(max_length=64, unique=True, validators=[shopsite.validators.NoControlCharactersValidator()]),
        ),
        migrations.RunPython(refuse_skus_differing_only_in_case, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='product',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('sku'), name='catalog_product_sku_unique_ignoring_case', violation_error_message='A product with this SKU already exists (SKUs are compared without regard to case).'),
        ),
    ]
