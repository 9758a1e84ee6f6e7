"""Settings for the test suite: the real settings, made fast and isolated."""

import atexit
import os
import shutil
import tempfile
import uuid

# Every run is a deployment of its own, with its own names on the shared broker
# and its own data folder; so is every pytest-xdist worker of a run (a worker
# inherits the environment its controller set here, so it makes its own once;
# the processes a worker starts inherit the worker's).
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if os.environ.get("SHOP_TEST_ENVIRONMENT_OF") != _worker:
    os.environ["SHOP_TEST_ENVIRONMENT_OF"] = _worker
    for _name in ["BUS_DEPLOYMENT", "BUS_PREFIX", "SHOP_DATA_DIR"]:
        os.environ.pop(_name, None)
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret")
os.environ.setdefault("BUS_DEPLOYMENT", f"test-{uuid.uuid4().hex[:12]}")
os.environ.setdefault("BUS_PREFIX", f"test-{uuid.uuid4().hex[:12]}")
os.environ.setdefault("BUS_RETRY_DELAYS", "0.05,0.1,0.2")
if "SHOP_DATA_DIR" not in os.environ:
    # Made by this process (the run's, or a worker's), so it goes when this process ends.
    os.environ["SHOP_DATA_DIR"] = tempfile.mkdtemp(prefix=f"shop-test-{_worker}")
    atexit.register(shutil.rmtree, os.environ["SHOP_DATA_DIR"], ignore_errors=True)
# Otherwise production-like (DEBUG off), but the test client speaks plain http.
os.environ.setdefault("DJANGO_SSL_REDIRECT", "false")

from .settings import *  # noqa: E402,F403

# Suites post many logins and registrations from one address; a test of the
# limits sets its own rates.
THROTTLE_RATES = dict.fromkeys(THROTTLE_RATES, "100000/minute")  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
