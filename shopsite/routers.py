"""Each service's models live in that service's own database."""

from django.conf import settings

# Django's own apps belong to the accounts service: users, their groups and
# permissions, sessions, tokens, the admin's log and the failed logins (axes)
# all live beside the users.
_ACCOUNTS_PARTS = {"auth", "contenttypes", "sessions", "admin", "axes", "accounts"}


def database_for(app_label: str) -> str | None:
    if app_label in _ACCOUNTS_PARTS:
        return settings.SERVICE_DATABASES["accounts"]
    return settings.SERVICE_DATABASES.get(app_label)


class ServiceRouter:
    def db_for_read(self, model, **hints):
        return database_for(model._meta.app_label)

    def db_for_write(self, model, **hints):
        return database_for(model._meta.app_label)

    def allow_relation(self, obj1, obj2, **hints):
        # Relations only inside one service's database.
        return database_for(obj1._meta.app_label) == database_for(obj2._meta.app_label)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return database_for(app_label) == db
