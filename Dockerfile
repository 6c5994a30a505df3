# The App's image: `compliance-bot serve` by default, `compliance-bot worker` by argument.
#   docker build -t compliance-bot .
#   docker run -p 127.0.0.1:3000:3000 -v bot-data:/data compliance-bot     no App yet: open the
#                                              :3000/setup?token=... address it logs (/data/setup-token)
#   docker run -v bot-data:/data -e REDIS_URL=redis://redis:6379/0 compliance-bot worker
# Credentials: /setup stores them in /data/app.env (mode 0600), read on the next start; or pass
# APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH to a mounted secret) and WEBHOOK_SECRET.
# docker-compose.yml runs web, worker and Redis together.
#
# Base image: pinned by tag, not yet by digest. Where this file was written no container registry
# was reachable, so no digest could be verified, and a digest not read from the registry could
# name any image or none. To pin it (and have each rebuild use exactly the same base):
#   docker buildx imagetools inspect python:3.11-slim        (copy the top-level "Digest: sha256:...")
# then set PYTHON_IMAGE below to python:3.11-slim@sha256:<that digest>, or build with
#   docker build --build-arg PYTHON_IMAGE=python:3.11-slim@sha256:<digest> .
ARG PYTHON_IMAGE=python:3.11-slim

# -- build: wheels only; nothing of this stage but /wheels reaches the image ----------------------
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
# Every runtime dependency exactly as locked (requirements.lock, made by pip-compile from
# pyproject.toml) and checked against its hashes: a file that differs from the one locked, or a
# dependency not in the lock, fails the build. Binary wheels only, so no package's build code runs.
COPY requirements.lock ./
RUN pip wheel --no-cache-dir --require-hashes --only-binary=:all: --wheel-dir /wheels -r requirements.lock
# The project's own wheel, without dependencies: those come from the lock above, never from here.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY rules ./rules
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels/project .

# -- the image: the wheels installed, no compiler, no pip, no git, not root ----------------------
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/data \
    APP_MANIFEST=/app/app.yml
RUN useradd --system --uid 10001 --user-group --home-dir /home/app --create-home --shell /usr/sbin/nologin app \
    && install -d -o 10001 -g 10001 -m 0700 /data
# The wheels are mounted from the build stage, not copied, so no layer keeps them. pip installs
# from them alone (--no-index) and checks the same hashes again; then pip, setuptools and wheel,
# the only build tooling the base image has, are removed.
COPY requirements.lock /tmp/requirements.lock
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels --require-hashes -r /tmp/requirements.lock \
    && pip install --no-cache-dir --no-index --no-deps /wheels/project/*.whl \
    && pip check \
    && rm /tmp/requirements.lock \
    && python -m pip uninstall --yes --quiet pip setuptools wheel
WORKDIR /app
COPY app.yml /app/app.yml
VOLUME ["/data"]
USER 10001:10001
EXPOSE 3000
# Liveness of `serve` (/healthz answers while the process does). A `worker` has no HTTP port:
# docker-compose.yml turns this check off for it (its liveness is its heartbeat in Redis).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["compliance-bot"]
CMD ["serve"]
