# Visnyk in a container. With compose (compose.yaml beside this file): `docker compose up -d`.
# By hand: `docker build -t visnyk .` then
#   docker run -d --name visnyk -e VISNYK_TELEGRAM_TOKEN=... \
#     -v visnyk-data:/data -v $PWD/config.toml:/config/config.toml:ro visnyk
# The base image is pinned to a Python patch release: bump it on purpose, for its fixes.
FROM python:3.11.17-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The dependencies, in a layer of their own: it is rebuilt only when pyproject.toml changes,
# not at each change to the code.
COPY pyproject.toml ./
COPY deploy/requirements.py ./deploy/
RUN python deploy/requirements.py pyproject.toml > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code: Visnyk alone, its dependencies and build tools already there.
COPY README.md ./
COPY bot ./bot
COPY storage ./storage
RUN pip install --no-deps --no-build-isolation . \
    && useradd --system --uid 10001 --no-create-home --home-dir /data visnyk \
    && mkdir -p /data /config \
    && chown visnyk /data
COPY config.example.toml /config/config.toml

USER visnyk
# The default storage URL (sqlite+aiosqlite:///visnyk.db) is relative: the database lives here.
WORKDIR /data
VOLUME ["/data"]

# The bot's HTTP server (webhook, /metrics, /healthz, /readyz) when the config turns it on;
# in a container it listens on all its interfaces: [server] listen = "0.0.0.0:8080".
EXPOSE 8080

# `visnyk health` asks /healthz when the config has [server] listen, and otherwise reads the
# heartbeat file, which the bot touches every 30 seconds (stale after 120).
ENV VISNYK_HEARTBEAT_FILE=/data/heartbeat
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
    CMD ["visnyk", "health", "--config", "/config/config.toml"]

# Exec form: the bot is PID 1 and receives `docker stop`'s SIGTERM itself.
ENTRYPOINT ["visnyk"]
CMD ["run", "--config", "/config/config.toml"]
