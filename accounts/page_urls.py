"""The service's server-rendered pages (its JSON API is in urls.py)."""

urlpatterns = []
