from django.apps import AppConfig
from django.conf import settings


class ShopsiteConfig(AppConfig):
    name = "shopsite"
    verbose_name = "Shop platform"

    def ready(self) -> None:
        if settings.LOG_FORMAT == "json":
            from shopsite import jsonlogs

            jsonlogs.log_uncaught_exceptions()
