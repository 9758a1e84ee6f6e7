# One image for every process of the shop: the web (the default command), the
# relay and the six consumers; the command picks the process (see compose.yaml
# and deploy/k8s/, which run the Procfile's commands).

# --- build: a virtualenv with every dependency --------------------------------
FROM python:3.11-slim AS build
# Compilers for a dependency that ships no wheel; they stay in this stage.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml ./
# The dependencies only, read from pyproject.toml: the shop's own code is copied
# as a tree into the runtime stage (its templates and static files are no package data).
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -r requirements.txt

# --- runtime: the virtualenv and the code, run as an unprivileged user ---------
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SHOP_DATA_DIR=/var/lib/shop \
    STATIC_ROOT=/app/static \
    PORT=8000
# A fixed numeric id, so that Kubernetes' runAsNonRoot can tell it is not root.
RUN groupadd --system --gid 10001 shop \
    && useradd --system --uid 10001 --gid shop --no-create-home --shell /usr/sbin/nologin shop \
    && install -d -o shop -g shop /var/lib/shop /var/lib/shop/media
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY manage.py pyproject.toml Procfile ./
COPY shopsite ./shopsite
COPY accounts ./accounts
COPY catalog ./catalog
COPY cart ./cart
COPY orders ./orders
COPY payments ./payments
COPY notifications ./notifications
# Bytecode and static files now, while the tree is writable: at run time the root
# filesystem may be read-only. Settings need a secret and a deployment to load;
# these two are for this step only and stay out of the image's environment.
RUN python -m compileall -q /app \
    && DJANGO_SECRET_KEY=collectstatic-only BUS_DEPLOYMENT=collectstatic-only SHOP_DATA_DIR=/tmp/build \
        python manage.py collectstatic --no-input --verbosity 0 \
    && rm -rf /tmp/build
USER 10001:10001
# SHOP_DATA_DIR: uploaded images (mount a volume on /var/lib/shop/media for the
# web), the SQLite files when no database URL is set, and the consumers' ready
# files, which belong to one container and are never shared with another.
EXPOSE 8000
# The process this container runs (PID 1) is checked: the web answers /healthz,
# a consumer holds its ready file, the relay reaches its databases and the broker.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "manage.py", "healthcheck"]
# The Procfile's web, listening on every address of the container.
CMD ["sh", "-c", "exec gunicorn shopsite.wsgi --config python:shopsite.gunicorn_config --bind 0.0.0.0:${PORT:-8000} --workers 2 --threads 4 --no-control-socket --access-logfile -"]
