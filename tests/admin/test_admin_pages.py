"""Every model of every service is in the admin, and its pages render for a superuser."""

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from .conftest import make_row

pytestmark = pytest.mark.django_db(databases="__all__")

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
IDS = [model._meta.label for model, _ in REGISTERED]
# Django's and DRF's own admins (groups, tokens) are theirs to shape.
OURS = [(model, model_admin) for model, model_admin in REGISTERED if model._meta.app_label in settings.SERVICES]


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def a_row(model, superuser):
    if model is get_user_model():
        return superuser
    # Seen through the model the admin serves, as a proxy may name its pk differently.
    return model._default_manager.get(pk=make_row(model).pk)


def test_every_model_of_every_service_is_registered():
    from django.apps import apps

    missing = [
        model._meta.label
        for service in settings.SERVICES
        for model in apps.get_app_config(service).get_models()
        if model not in admin.site._registry
    ]
    assert missing == []


@pytest.mark.parametrize("model, model_admin", OURS, ids=[model._meta.label for model, _ in OURS])
def test_the_services_admins_are_searchable_and_filterable(model, model_admin):
    assert model_admin.search_fields, "no search box"
    assert model_admin.list_filter or model_admin.date_hierarchy, "nothing to filter by"


@pytest.mark.parametrize("model, model_admin", REGISTERED, ids=IDS)
def test_the_changelist_renders_lists_and_searches(staff_client, superuser, model, model_admin):
    row = a_row(model, superuser)

    listed = staff_client.get(url(model, "changelist"))
    searched = staff_client.get(url(model, "changelist"), {"q": "no such thing"})

    assert listed.status_code == 200
    assert listed.context["cl"].result_count == model._default_manager.count() >= 1
    assert searched.status_code == 200
    assert str(row.pk) not in [str(r.pk) for r in searched.context["cl"].result_list]


@pytest.mark.parametrize("model, model_admin", REGISTERED, ids=IDS)
def test_the_change_page_renders(staff_client, superuser, model, model_admin):
    row = a_row(model, superuser)

    response = staff_client.get(url(model, "change", row.pk))

    assert response.status_code == 200
    assert response.context["original"].pk == row.pk


@pytest.mark.parametrize("model, model_admin", REGISTERED, ids=IDS)
def test_the_add_page_renders_only_where_adding_is_allowed(rf, staff_client, superuser, model, model_admin):
    request = rf.get("/")
    request.user = superuser

    response = staff_client.get(url(model, "add"))

    assert response.status_code == (200 if model_admin.has_add_permission(request) else 403)
