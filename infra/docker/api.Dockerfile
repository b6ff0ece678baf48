# The API on AWS Lambda: entrypoints.api.lambda_handler.handler behind API Gateway (docs/aws.md).
# checkov:skip=CKV_DOCKER_2: Lambda does not run a HEALTHCHECK; API Gateway and the Errors alarm watch the function
# checkov:skip=CKV_DOCKER_3: the Lambda base image runs the handler as its own unprivileged user
# Build from the repository root: docker build -f infra/docker/api.Dockerfile .
# Base images pinned by tag and digest; Dependabot proposes newer digests (docs/deploy.md).
FROM python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91 AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY domain domain
COPY application application
COPY adapters adapters
COPY entrypoints entrypoints
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM public.ecr.aws/lambda/python:3.11.2023.09.29.09@sha256:d8a8324834a079dbdfc6551831325113512a147bf70003622412565f216e36e0
# The API's own lock: what the handler needs and none of the data libraries (pandas, pyarrow,
# polars, pandera), which it never imports; a smaller image and a faster cold start.
COPY requirements-api.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --no-deps -r /tmp/requirements.lock
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir --no-deps /wheels/*.whl \
    && rm -rf /wheels /tmp/requirements.lock
CMD ["entrypoints.api.lambda_handler.handler"]
