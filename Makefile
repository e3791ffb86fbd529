# Every target sets itself up on a fresh machine: a .venv with the pinned Python packages
# and the pinned CDK CLI from package-lock.json. Nothing here needs AWS credentials.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

# jsii prints a large banner on Node 20; the CDK still works on it.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# Offline: never wait on the EC2 metadata endpoint for credentials or a region.
export AWS_EC2_METADATA_DISABLED := true

.PHONY: help setup test synth lint clean

help:
	@echo "make test   install everything (first run), then run the whole test suite"
	@echo "make synth  synthesize dev, staging and prod into cdk.out/ (offline, no credentials)"
	@echo "make lint   synth, then cfn-lint every template"
	@echo "make clean  remove cdk.out/ and caches (keeps .venv and node_modules)"

$(PY_STAMP): requirements.txt requirements-ml.txt requirements-dev.txt
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-ml.txt -r requirements-dev.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(PY_STAMP) $(NODE_STAMP)

test: setup
	$(PY) -m pytest -n 2

synth: setup
	rm -rf cdk.out
	npx cdk synth --quiet
	@echo "Templates:" && ls cdk.out/assembly-*/*.template.json

lint: synth
	$(VENV)/bin/cfn-lint cdk.out/assembly-*/*.template.json

clean:
	rm -rf cdk.out .pytest_cache
	find . -name __pycache__ -not -path "./.venv/*" -not -path "./node_modules/*" -prune -exec rm -rf {} +
