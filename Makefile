# servicepipe: `make run` and `make test` set themselves up on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp

.PHONY: setup run test lint unit integration lock clean glue-bundle bench sandbox browser audit openapi docs

setup: $(STAMP)

$(STAMP): requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# checkov lives in its own environment: it pins networkx<2.7, which cfn-lint's pin excludes.
CHECKOV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV)/.setup-stamp

$(CHECKOV_STAMP): requirements-checkov.lock
	$(PYTHON) -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.lock
	touch $(CHECKOV_STAMP)

run: setup
	$(BIN)/servicepipe run

lint: setup $(CHECKOV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/bandit --quiet --recursive --severity-level medium domain application adapters entrypoints infra
	$(BIN)/shellcheck infra/*.sh .ci/run
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	$(CHECKOV)/bin/checkov --directory infra --framework cloudformation dockerfile --quiet --compact --skip-download

# The insights report's test opens it in a real headless Chromium (Debian's package).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

test: lint browser
	$(BIN)/pytest

# Known vulnerabilities in the locked dependencies (CI runs it after the tests). It asks PyPI's
# JSON API: where that cannot be reached, each package is listed as skipped and it passes.
# One lock at a time: each is its own environment (checkov's pins differ from the others').
audit: setup
	for lock in requirements.lock requirements-api.lock requirements-worker.lock requirements-dev.lock requirements-checkov.lock; do \
		$(BIN)/pip-audit --disable-pip --no-deps --progress-spinner off -r $$lock || exit 1; done

unit: setup
	$(BIN)/pytest tests/unit

integration: setup
	$(BIN)/pytest tests/integration

# Re-pin every dependency (needs network): edit requirements*.in, then run this. Every pin
# carries its files' hashes: pip installs nothing that differs from what was locked.
lock: setup
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes requirements.in -o requirements.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes requirements-dev.in -o requirements-dev.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes requirements-api.in -c requirements.lock -o requirements-api.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes requirements-worker.in -c requirements.lock -o requirements-worker.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes requirements-checkov.in -o requirements-checkov.lock

clean:
	rm -rf $(VENV) $(CHECKOV) .servicepipe-data .test-artifacts .pytest_cache .mypy_cache .ruff_cache *.egg-info

# The API's published contract, committed: rerun after changing a route or a body model
# (make test fails while the committed copy differs from what the app serves).
openapi: setup
	$(BIN)/python -m entrypoints.api.openapi_file docs/openapi.json

# Every document written from the code: the API's contract and the report's SQL in docs/analytics.md.
docs: openapi
	$(BIN)/python -m entrypoints.cli.query_docs docs/analytics.md

# The AWS Glue Python shell bundle for the loader (see docs/aws.md).
glue-bundle: setup
	$(BIN)/python infra/build_glue_bundle.py dist/servicepipe-glue.zip

# Benchmarks (not part of `make test`): fixed-seed data, medians, ratios to a pyarrow baseline.
bench: setup
	$(BIN)/python -m bench.run

# The deployed shape on one machine: infra/template.yaml on a moto server, the pipeline run
# on its outputs (see docs/deploy.md). Ctrl-C stops it.
sandbox: setup
	$(BIN)/python -m infra.sandbox
