# Visnyk in a container: `docker build -t visnyk .` then
#   docker run -d --name visnyk -e VISNYK_TELEGRAM_TOKEN=... \
#     -v visnyk-data:/data -v $PWD/config.toml:/config/config.toml:ro visnyk
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home --home-dir /data visnyk \
    && mkdir -p /data /config \
    && chown visnyk /data
COPY config.example.toml /config/config.toml

USER visnyk
# The default storage URL (sqlite+aiosqlite:///visnyk.db) is relative: the database lives here.
WORKDIR /data
VOLUME ["/data"]

# The bot touches this file every 30 seconds; `visnyk health` fails when it goes stale.
ENV VISNYK_HEARTBEAT_FILE=/data/heartbeat
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
    CMD ["visnyk", "health", "--max-age", "120"]

ENTRYPOINT ["visnyk"]
CMD ["run", "--config", "/config/config.toml"]
