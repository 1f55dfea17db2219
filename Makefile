# The commands people type. Each one sets up .venv by itself on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_STAMP := $(VENV)/.demo-stamp

.PHONY: demo try test lint bench interop regions clean

# The demo needs awsrun and moto's server only, not the linters and test runner; the test
# tools go on top of it.
$(DEMO_STAMP): pyproject.toml
	@echo "make: installing awsrun and moto (the local STS) into .venv (once; about a minute)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	touch $(DEMO_STAMP)

$(STAMP): $(DEMO_STAMP)
	@echo "make: installing the test tools into .venv (once; a minute or two)"
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# A local STS and the lines to paste into another shell, to try awsrun by hand; Ctrl-C ends it.
try: $(DEMO_STAMP)
	@$(BIN)/python tools/localsts.py

demo: $(DEMO_STAMP)
	@# byte-compiled as `pip install` leaves it, even where PYTHONDONTWRITEBYTECODE is set
	$(BIN)/python -m compileall -q src
	$(BIN)/python tools/demo.py

lint: $(STAMP)
	$(BIN)/ruff check src tests tools benchmarks interop
	$(BIN)/ruff format --check src tests tools benchmarks interop
	$(BIN)/mypy

# Two workers, one per core: each starts its own moto server on a free loopback port.
test: lint
	tools/test-prerequisites.sh
	$(BIN)/python -m pytest -n 2

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

# The region list of `--region <TAB>`, from the installed botocore.
regions: $(STAMP)
	$(BIN)/python tools/generate_regions.py

# Real clients (boto3, the AWS CLI v1 and v2, the JS and Go SDKs, Terraform) through
# awsrun against moto; installs what it can (Debian's packages need root), skips the rest.
interop: $(STAMP)
	interop/setup.sh
	$(BIN)/python interop/run.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache interop/build interop/node_modules
