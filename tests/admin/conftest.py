import itertools
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import models, router
from django.test import Client
from django.utils import timezone

_numbers = itertools.count(1)


@pytest.fixture
def superuser():
    return get_user_model().objects.create_superuser(email="root@example.com", password="x", name="Root")


@pytest.fixture
def staff_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


def _value(field: models.Field):
    n = next(_numbers)
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    if isinstance(field, models.EmailField):
        return f"row{n}@example.com"
    if isinstance(field, models.DecimalField):
        return Decimal("12.50")
    if isinstance(field, models.FileField):
        return ""  # no file: the admin shows the row without one
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, (models.IntegerField, models.PositiveIntegerField)):
        return n
    if isinstance(field, models.TextField):
        return f'{{"row": {n}}}'
    if isinstance(field, models.CharField):
        return f"r{n}"[: field.max_length]
    raise NotImplementedError(f"no sample value for {field!r}")


def _needs_value(field: models.Field) -> bool:
    if field.auto_created:
        return False
    if field.primary_key:
        return not field.has_default()
    filled_in = field.has_default() or field.null or getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    return not filled_in


def make_row(model):
    """A saved row of ``model`` with every required field filled, parents included.

    Written against the fields rather than per model, so a model added later
    is covered by the admin tests without anyone remembering to add it.
    """
    model = model._meta.concrete_model
    values = {}
    for field in filter(_needs_value, model._meta.concrete_fields):
        if field.is_relation:
            if field.related_model is get_user_model():
                values[field.name] = get_user_model().objects.create_user(
                    email=f"owner{next(_numbers)}@example.com", password="x", name="Owner")
            else:
                values[field.name] = make_row(field.related_model)
            continue
        values[field.name] = _value(field)
    return model.objects.using(router.db_for_write(model)).create(**values)
