# Every target creates the environment it needs: a bootstrap venv holding uv, then the
# workspace venv from uv.lock. Only Python 3.11+ and make are required.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
RUN := $(UV) run --frozen --no-sync
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: all install demo test lint format proto bench lock clean

all: test

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	$(UV) sync --frozen --all-packages
	touch $@

install: $(VENV)/.synced

demo: install
	$(RUN) ae-demo $(DEMO_ARGS)

test: install
	$(RUN) pytest $(PYTEST_ARGS)

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy libs/core/src libs/devstack/src services/*/src

format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

proto: install
	$(RUN) python tools/gen_proto.py

bench: install
	$(RUN) ae-bench $(BENCH_ARGS)

lock: $(UV)
	$(UV) lock

clean:
	rm -rf $(VENV) $(TOOLS) .devstack
