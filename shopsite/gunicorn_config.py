"""Gunicorn's settings beyond its command line (the Procfile's web gives this module with ``--config``).

With ``LOG_FORMAT=json`` gunicorn writes its own lines, the access log among them, through the shop's
logging settings, so they are JSON lines like every other; otherwise it keeps its own format.
"""

import os

from django.conf import settings

from shopsite import jsonlogs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")

# The master and, forked from it, its workers (told apart by their pid).
jsonlogs.identify(service="web", process="gunicorn")
if settings.LOG_FORMAT == "json":
    logconfig_dict = settings.LOGGING
