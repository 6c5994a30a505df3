# The webhook server. Build: docker build -t compliance-bot .
# Run: docker run -p 3000:3000 -e APP_ID=... -e PRIVATE_KEY_PATH=/run/secrets/key.pem -e WEBHOOK_SECRET=... compliance-bot
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY rules ./rules
# The project's own wheel only: its dependencies come from the lock file below, never from here.
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 app
# Every runtime dependency pinned with its hashes (requirements.lock, made by pip-compile from
# pyproject.toml): a file that differs from the one locked, or a dependency not in the lock, fails
# the build. Wheels only, so no package's build code runs here.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --require-hashes --only-binary=:all: -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-deps /wheels/* && rm -rf /wheels && pip check
USER app
EXPOSE 3000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz')"
CMD ["compliance-bot", "serve", "--host", "0.0.0.0", "--port", "3000"]
