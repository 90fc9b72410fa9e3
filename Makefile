# The two commands of the README: `make demo` and `make test`. Both build .venv first.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_WORKERS ?= 2

.PHONY: demo test bench proto clean screenshots node-otel

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PY) >/dev/null || { echo "error: $(PY) not found; ben needs Python 3.11 (set PY=...)" >&2; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ben demo

# Debian packages the tests need (clickhouse-server): installed when missing (root), else a clear error.
# ben's byte-code is compiled once first: with PYTHONDONTWRITEBYTECODE set (as on CI) every process the tests
# start (hundreds of spines, sidecars, store processes, CLI calls) would otherwise compile the source again.
test: $(STAMP)
	bash scripts/debian-deps.sh
	$(MAKE) node-otel
	$(BIN)/python -m compileall -q -j 0 src
	@# ADR 0048: on $(TEST_WORKERS) workers (a module's tests on one; the slowest modules first), then the tests marked serial alone.
	@# Byte-code written while they run (PYTHONDONTWRITEBYTECODE emptied): pytest keeps the test modules it rewrote, and
	@# the serial phase, which collects every module again, reads them (4 s of CPU instead of 12 on the critical path).
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --order slow-first -m "not serial"; a=$$?; \
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -p no:xdist -m serial; b=$$?; \
	test $$a -eq 0 && test $$b -eq 0

# The pinned OpenTelemetry JS SDK the OTLP tests drive (tests/otlp/node, ADR 0036): `npm ci` from the
# committed lockfile, only when the lockfile changed; a test installs it the same way when this was skipped.
NODE_OTEL := tests/otlp/node/node_modules/.installed
node-otel: $(NODE_OTEL)
$(NODE_OTEL): tests/otlp/node/package-lock.json
	cd tests/otlp/node && npm ci --no-audit --no-fund --ignore-scripts --prefer-offline
	touch $(NODE_OTEL)

bench: $(STAMP)
	$(BIN)/ben bench ingest
	$(BIN)/ben bench lanes
	$(BIN)/ben bench detect
	$(BIN)/ben bench detect-quality
	$(BIN)/ben bench redact

# A PNG of each page of the web interface in docs/images/ (Debian's headless Chromium; see ADR 0037).
screenshots: $(STAMP)
	bash scripts/debian-deps.sh
	$(BIN)/python scripts/screenshots.py

# Regenerate the checked-in protobuf/gRPC code after editing proto/ (tests fail when it is stale).
proto: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -I proto --python_out=src --pyi_out=src --grpc_python_out=src proto/ben/v1/*.proto

clean:
	rm -rf $(VENV) build src/*.egg-info
