"""Settings for the whole shop, read from the environment (see .env.example)."""

from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from shopsite.bus.versions import send_versions

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# A development key only when DEBUG is on: production must set its own.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "shopsite.console.apps.ShopAdminConfig",  # the admin, with the bus console (see shopsite/console)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "shopsite",
    "accounts",
    "catalog",
    "cart",
    "orders",
    "payments",
    "notifications",
]

MIDDLEWARE = [
    # First, so a request's span covers everything else; gone from the chain when tracing is off.
    "shopsite.tracing.RequestSpanMiddleware",
    # /healthz and /readyz, asked by a pod's or container's address (shopsite/health.py).
    "shopsite.health.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Refuses oversized bodies before anything reads them (DRF never checks).
    "shopsite.middleware.RequestBodyLimitMiddleware",
    "shopsite.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "shopsite.urls"
WSGI_APPLICATION = "shopsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "shopsite" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shopsite.context_processors.shop_navigation",
            ],
        },
    },
]

# --- Databases: one alias per service -------------------------------------
# Each service owns its own database. By default each is a SQLite file under
# var/db/, so a fresh checkout needs no database server; <SERVICE>_DATABASE_URL
# points any of them elsewhere (for example postgres://user@host/shop_orders).
# The accounts service lives in `default`, together with the Django parts it
# owns (users, permissions, sessions, tokens, the admin log).
DATA_DIR = Path(env.str("SHOP_DATA_DIR", default=str(BASE_DIR / "var")))
# The port `manage.py runshop` (bin/run-shop) serves the shop on.
SHOP_PORT = env.int("SHOP_PORT", default=8000)
DB_DIR = DATA_DIR / "db"
DB_DIR.mkdir(parents=True, exist_ok=True)

SERVICES = ["accounts", "catalog", "cart", "orders", "payments", "notifications"]
SERVICE_DATABASES = {service: ("default" if service == "accounts" else service) for service in SERVICES}


# On PostgreSQL, how many runs of a statement on a connection before psycopg prepares it; "off" for none
# (Django's default; needed behind a pooler that cannot keep prepared statements, such as PgBouncer before
# 1.21 or without max_prepared_statements in transaction mode).
_prepare = env.str("DATABASE_PREPARE_THRESHOLD", default="2").strip().lower()
PREPARE_THRESHOLD = None if _prepare in ("off", "none", "") else int(_prepare)


def _database(service: str) -> dict:
    config = env.db_url(f"{service.upper()}_DATABASE_URL", default=f"sqlite:///{DB_DIR / service}.sqlite3")
    if config["ENGINE"].endswith("sqlite3"):
        # Consumers and the web process write to the same files: wait for the
        # lock instead of failing, and let readers run beside the writer.
        config.setdefault("OPTIONS", {}).update(
            {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
        )
    elif config["ENGINE"].endswith("postgresql"):
        # Django's backend with a health check that sends nothing while the server has said nothing (its module).
        config["ENGINE"] = "shopsite.db.postgresql"
    if config["ENGINE"].endswith("postgresql") and PREPARE_THRESHOLD is not None:
        # Prepared statements: PostgreSQL parses and plans each of the few statements a service runs again
        # and again once per connection instead of every time (a third of its CPU per order). psycopg prepares
        # a statement once it has run PREPARE_THRESHOLD times; that needs its server-side binding cursors.
        config.setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": PREPARE_THRESHOLD})
    # Keep connections across requests and deliveries, checked before reuse.
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=600)
    config["CONN_HEALTH_CHECKS"] = True
    # Test databases are independent: a test may ask for one service's alone.
    config["TEST"] = {"DEPENDENCIES": []}
    return config


DATABASES = {alias: _database(service) for service, alias in SERVICE_DATABASES.items()}
DATABASE_ROUTERS = ["shopsite.routers.ServiceRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.passwords.NotBlankPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "DJANGO_PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ],
)
LOGIN_URL = "accounts-login"
LOGIN_REDIRECT_URL = "catalog-home"
LOGOUT_REDIRECT_URL = "catalog-home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The container image collects the static files here when it is built (the
# Dockerfile); a checkout needs no collectstatic step (below).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# The web process serves the admin's and the pages' assets itself, straight
# from the apps' static folders: no CDN, no collectstatic step.
WHITENOISE_USE_FINDERS = True

# --- Uploaded files: product images --------------------------------------------
# The catalog keeps the images staff upload (checked and re-encoded, with a
# thumbnail, see catalog/images.py) in the default storage: files under
# MEDIA_ROOT, named by MEDIA_URL in every page and message. The web process
# serves MEDIA_URL itself (whitenoise serves only static files) unless
# DJANGO_SERVE_MEDIA is off; in production let the proxy serve MEDIA_ROOT, or
# keep the images in object storage (MEDIA_STORAGE, django-storages), see
# docs/production.md.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
SERVE_MEDIA = env.bool("DJANGO_SERVE_MEDIA", default=True)
STORAGES = {
    "default": {
        "BACKEND": env.str("MEDIA_STORAGE", default="django.core.files.storage.FileSystemStorage"),
        "OPTIONS": env.json("MEDIA_STORAGE_OPTIONS", default={}),
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# What one product image may be: bytes of the file, and pixels (width times
# height) of the picture, checked before it is decoded (a decompression bomb).
CATALOG_IMAGE_MAX_BYTES = env.int("CATALOG_IMAGE_MAX_BYTES", default=5 * 1024 * 1024)
CATALOG_IMAGE_MAX_PIXELS = env.int("CATALOG_IMAGE_MAX_PIXELS", default=25_000_000)
# The shop's address as customers reach it, for the links and images in emails
# (sent by the notifications consumer, which has no request to ask).
SHOP_PUBLIC_URL = env.str("SHOP_PUBLIC_URL", default="http://127.0.0.1:8000")

# --- Mail -----------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(DATA_DIR / "mail"))
# A real mail server, as one URL: smtp+tls://user:password@mail.example.com:587
# (django-environ's form; it sets the backend, host, port, login and TLS).
if env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
# A mail server that stops answering is an error after this long, and the
# message is retried, instead of holding the notifications consumer for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT_SECONDS", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Shop <shop@localhost>")

# --- API ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's parsers, with a JSON one that refuses over-deep nesting (a RecursionError otherwise).
    "DEFAULT_PARSER_CLASSES": [
        "shopsite.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Only views that name a throttle_scope are limited (shopsite.throttling).
    "DEFAULT_THROTTLE_CLASSES": ["shopsite.throttling.ScopedRateThrottle"],
    # Throttles count per client address as the login lockout does (accounts.lockout.client_address).
    "NUM_PROXIES": env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0),
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "shopsite.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "shopsite.autoschema.ShopAutoSchema",
    # OPTIONS answers without describing request bodies (our views have no serializer_class).
    "DEFAULT_METADATA_CLASS": "shopsite.openapi.ApiMetadata",
}

# An API token from /api/accounts/token/ works this long, unless revoked
# sooner (logout, "log out everywhere", a password change or reset).
API_TOKEN_TTL = timedelta(hours=env.float("API_TOKEN_TTL_HOURS", default=24))
# Requests per client address (per user once signed in) for the operations
# worth abusing, as "<n>/<second|minute|hour|day>"; past it the answer is 429
# with Retry-After. Counted in the cache below: per process unless CACHE_URL
# names a cache they share (a file cache on one machine, memcached, ...).
THROTTLE_RATES = {
    "login": env.str("THROTTLE_LOGIN_RATE", default="10/minute"),  # token API and login page
    "register": env.str("THROTTLE_REGISTER_RATE", default="10/hour"),  # API and page
    "checkout": env.str("THROTTLE_CHECKOUT_RATE", default="10/minute"),  # API and page
}
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

SPECTACULAR_SETTINGS = {
    "TITLE": "Shop API",
    "DESCRIPTION": (
        "The customer flow and the staff operations of the event-driven shop. Sign in with a token from "
        "/api/accounts/token/ sent as `Authorization: Token <key>`, or with a session. A token expires (see its "
        "`expires_at`) and ends sooner at logout or a password change. Every error answer is "
        "`{message, extra}`; every list is paginated with `?page=`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The API browser's assets come from the project, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Without this the API browser would ask validator.swagger.io to check the schema.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Every PATCH has its own input serializer that already says what is optional.
    "COMPONENT_SPLIT_PATCH": False,
    # Orders and charges both have a "status"; each gets its own named enum.
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.Order.Status",
        "ChargeStatusEnum": "payments.models.Charge.Status",
        "OrderEventKindEnum": "orders.models.OrderEvent.Kind",
    },
}

# --- The bus --------------------------------------------------------------
# This installation's name on the broker, e.g. shop-3f9c1a2b. No default: a
# default shared by two shops on one broker is how they took each other's
# messages. bin/run-shop writes a random one into .env on the first run.
_DEPLOYMENT = env.str("BUS_DEPLOYMENT")
BUS = {
    "URL": env.str("BUS_URL", default="amqp://guest:guest@127.0.0.1:5672/%2F?heartbeat=30&connection_attempts=1&socket_timeout=5"),
    # Every message carries it; a consumer parks another deployment's message
    # unhandled (shopsite/bus/deployment.py).
    "DEPLOYMENT": _DEPLOYMENT,
    # Exchange and queue names start with this, so test runs never meet; by
    # default the deployment, so two installations share no queue either.
    "PREFIX": env.str("BUS_PREFIX", default=_DEPLOYMENT),
    "QUEUE_TYPE": env.str("BUS_QUEUE_TYPE", default="classic"),
    "PREFETCH": env.int("BUS_PREFETCH", default=64),
    # Deliveries already waiting are handled together, up to this many in one
    # transaction; see shopsite/bus/consumer.py.
    "BATCH": env.int("BUS_BATCH", default=32),
    # PostgreSQL: seconds a batch waits for a row lock that another copy's
    # transaction holds before it gives way and handles its messages one by one
    # (two batches locking the same rows in another order would deadlock);
    # 0 takes the limit away.
    "BATCH_LOCK_TIMEOUT": env.float("BUS_BATCH_LOCK_TIMEOUT", default=0.1),
    # Seconds to wait before each retry of a failed handler; after the last
    # one the message is parked in the service's dead-letter queue.
    "RETRY_DELAYS": [float(d) for d in env.list("BUS_RETRY_DELAYS", default=["1", "5", "30"])],
    # How often the relay sweeps the outboxes for rows nobody published yet.
    "RELAY_INTERVAL": env.float("BUS_RELAY_INTERVAL", default=1.0),
    # Publish outbox rows right after commit from the process that wrote them
    # (the web from a background thread: no request waits on the broker).
    "PUBLISH_ON_COMMIT": env.bool("BUS_PUBLISH_ON_COMMIT", default=True),
    # Rows a web process holds for its background publisher; past that they wait for the relay.
    "PUBLISH_QUEUE": env.int("BUS_PUBLISH_QUEUE", default=1000),
    # Fault-injection switches for the reliability suite (see shopsite/bus/faults.py):
    # publish every message twice; make named handlers raise, crash or stall.
    "PUBLISH_TWICE": env.bool("BUS_PUBLISH_TWICE", default=False),
    "FAULTS": env.str("BUS_FAULTS", default=""),
    # Days manage.py prune_bus keeps sent outbox rows and inbox rows (shopsite/bus/retention.py): longer
    # than any consumer may stay stopped, since an inbox row is what makes a message's second copy a no-op.
    "RETENTION_DAYS": env.float("BUS_RETENTION_DAYS", default=30),
    # Bigger deliveries are dead-lettered unread.
    "MAX_MESSAGE_BYTES": env.int("BUS_MAX_MESSAGE_BYTES", default=256 * 1024),
    # Quorum queues only: deliveries of one message before the broker drops it
    # to the dead-letter queue (a consumer that crashes on it every time).
    "DELIVERY_LIMIT": env.int("BUS_DELIVERY_LIMIT", default=10),
    # Each consumer keeps <service>-<pid>.ready here while it is consuming.
    "READY_DIR": env.str("BUS_READY_DIR", default=str(DATA_DIR / "run")),
    # Types this process sends as their previous version while a rollout is under way, e.g.
    # "cart.checked_out=1,order.confirmed=1"; every other type goes as its current version (docs/messages.md).
    "SEND_VERSIONS": send_versions(env.str("BUS_SEND_VERSIONS", default="")),
}

PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="payments.gateway.TestGateway")

# How each line is written: keyvalue (ts=... level=... lines) or json (one JSON
# object a line, for a log collector: shopsite/jsonlogs.py, docs/operating.md).
# Every line logged while a message is handled carries the correlation id of its flow.
_LOG_FORMATTERS = {
    "keyvalue": {
        "format": "ts=%(asctime)s level=%(levelname)s logger=%(name)s "
        "correlation_id=%(correlation_id)s msg=%(message)r"
    },
    "json": {"()": "shopsite.jsonlogs.JsonFormatter"},
}
LOG_FORMAT = env.str("LOG_FORMAT", default="keyvalue")
if LOG_FORMAT not in _LOG_FORMATTERS:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is not a log format: write keyvalue (the default) or json")

# --- Metrics for Prometheus (shopsite/metrics.py, docs/operating.md) -----------------------------------------
# A consumer or the relay serves /metrics on METRICS_PORT (unset: no metrics server), on METRICS_ADDRESS
# (0.0.0.0 in a container, so the scraper can reach it). Each process on one host needs its own port.
# The web serves /metrics itself, to the addresses in METRICS_ALLOWED_ADDRESSES only (IPs or networks,
# the connection's own address, never X-Forwarded-For); anyone else gets a 404.


def _networks(name: str, default: list[str]) -> tuple:
    try:
        return tuple(ip_network(address, strict=False) for address in env.list(name, default=default))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from exc


METRICS = {
    "PORT": env.int("METRICS_PORT", default=None),
    "ADDRESS": env.str("METRICS_ADDRESS", default="127.0.0.1"),
    "ALLOWED_NETWORKS": _networks("METRICS_ALLOWED_ADDRESSES", ["127.0.0.1", "::1"]),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"correlation": {"()": "shopsite.bus.logs.CorrelationFilter"}},
    "formatters": {LOG_FORMAT: _LOG_FORMATTERS[LOG_FORMAT]},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["correlation"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # pika reports every failed connection attempt with a traceback; the bus
        # logs those failures itself, once, with what it does about them.
        "pika": {"level": "CRITICAL"},
        # In JSON every line is JSON: the loggers that write through handlers of
        # their own (Django's console, gunicorn's error and access logs, when
        # gunicorn takes these settings: shopsite/gunicorn_config.py) write through ours.
        **({name: {"handlers": [], "propagate": True}
            for name in ("django", "django.server", "gunicorn.error", "gunicorn.access")}
           if LOG_FORMAT == "json" else {}),
    },
}

# --- Security: bad input, login lockout, production mode ---------------------
# With DEBUG off
# the shop assumes HTTPS (served directly or behind a proxy that sets
# X-Forwarded-Proto); each part can be turned off by the environment, as the
# end-to-end tests do to run the real processes over plain http on loopback.

_HTTPS = not DEBUG
SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=_HTTPS)
# An orchestrator probes the process, and Prometheus scrapes it, over plain http from inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# Behind a TLS-terminating proxy the request reaches us as http; the proxy
# says what the client used. Only safe when that proxy sets the header itself.
if env.bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=_HTTPS):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=_HTTPS)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=_HTTPS)
SECURE_CONTENT_TYPE_NOSNIFF = True
# The debug page (bin/run-shop runs with DEBUG on) and error mails show the
# settings and the environment, but no password, even one inside a URL.
DEFAULT_EXCEPTION_REPORTER_FILTER = "shopsite.reporting.CredentialFilter"
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"


def _origin(url: str) -> str:
    """``https://media.example.com`` of an absolute URL; nothing of a path on the shop itself."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# What a page may load, and from where: only the shop itself (see
# shopsite.middleware.ContentSecurityPolicyMiddleware), and the product images
# from MEDIA_URL's host when it is another one; the API browser's images are
# data: URLs. An empty DJANGO_CSP sends none.
_IMG_SRC = " ".join(filter(None, ["'self'", "data:", _origin(MEDIA_URL)]))
CONTENT_SECURITY_POLICY = env.str(
    "DJANGO_CSP",
    default="default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    f"img-src {_IMG_SRC}; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
# Origins allowed to post forms when a proxy changes the host, e.g. https://shop.example.com
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# The biggest request body read at all; a bigger one is answered 413 before
# any view runs (shopsite.middleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_MAX_BODY_BYTES", default=64 * 1024)
# Except a multipart form posted to a view that takes uploads (the product
# image in the admin and the staff API): up to this many bytes, so that a file
# somewhat over CATALOG_IMAGE_MAX_BYTES is told so by the form rather than cut off.
UPLOAD_MAX_BODY_BYTES = env.int("DJANGO_MAX_UPLOAD_BODY_BYTES", default=20 * 1024 * 1024)

# Login lockout (django-axes) for the login page, the admin's and the token
# API: after AXES_FAILURE_LIMIT failures for one email from one address, that
# pair is refused (429), even with the right password, until the cool-off has
# passed; a successful login clears the count. After LOGIN_ACCOUNT_FAILURE_LIMIT
# failures for one email from any addresses, the account is refused from
# everywhere until the cool-off has passed (accounts.lockout.AccountLockoutHandler). Attempts live in the accounts
# database (shopsite.routers). `manage.py axes_reset` unlocks everyone.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(seconds=env.int("LOGIN_COOLOFF_SECONDS", default=15 * 60))
LOGIN_ACCOUNT_FAILURE_LIMIT = env.int("LOGIN_ACCOUNT_FAILURE_LIMIT", default=20)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "accounts.lockout.AccountLockoutHandler"
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.lockout.login_email"
# Behind reverse proxies the connection comes from the nearest proxy: set how
# many proxies of yours stand in front of the shop, and the client's address
# is read from X-Forwarded-For (accounts.lockout.client_address).
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Successful logins are not kept one row each: the count of failures is what matters.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False  # no banner in every process's log at start
# The admin is run from shopsite/console; a lockout is lifted with axes_reset.
AXES_ENABLE_ADMIN = False
