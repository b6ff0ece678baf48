# The Fargate worker: python -m entrypoints.worker.fargate (docs/aws.md).
# checkov:skip=CKV_DOCKER_2: the worker serves no port to probe; ECS watches the process, and failed tasks raise an alarm
# Build from the repository root: docker build -f infra/docker/processor.Dockerfile .
# Base images pinned by tag and digest; Dependabot proposes newer digests (docs/deploy.md).
FROM python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91 AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY domain domain
COPY application application
COPY adapters adapters
COPY entrypoints entrypoints
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91
# The worker's own lock first (a layer that changes only with the lock; none of the API's web
# stack, which the worker never imports), then the wheel.
COPY requirements-worker.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --no-deps -r /tmp/requirements.lock
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir --no-deps /wheels/*.whl \
    && rm -rf /wheels /tmp/requirements.lock \
    && useradd --create-home --uid 10001 servicepipe
USER 10001
WORKDIR /home/servicepipe
# ECS sends SIGTERM, then SIGKILL 30 s later: the worker finishes or releases its file in 25 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "entrypoints.worker.fargate"]
