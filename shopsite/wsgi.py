import os

import django
from django.core.handlers.wsgi import WSGIHandler

from shopsite import heap, tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
# What get_wsgi_application does, with tracing set up in between: after the
# settings (they read .env, which may hold the OTEL variables), before the
# handler builds the middleware (the request spans' middleware asks then).
django.setup(set_prefix=False)
tracing.setup("web")
application = WSGIHandler()
heap.settle()  # the app is loaded: what it made lives as long as the worker
