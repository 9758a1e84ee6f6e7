"""Pages that compose several services: checkout (and the notifications inbox)."""

urlpatterns = []
