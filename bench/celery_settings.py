"""The web of ``bench.celery_saga``: the shop's settings, with the bench's checkout added to its URLs."""

from shopsite.settings import *  # noqa: F403  (everything else as the shop runs it)

ROOT_URLCONF = "bench.celery_web"
