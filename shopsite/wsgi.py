import os

from django.core.wsgi import get_wsgi_application

from shopsite import heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
application = get_wsgi_application()
heap.settle()  # the app is loaded: what it made lives as long as the worker
