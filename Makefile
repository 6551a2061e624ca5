# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app campus
HOST ?= 127.0.0.1
PORT ?= 5000
# The address the campus advertises (badge links, share links, LTI configuration) follows HOST
# and PORT, unless CAMPUS_BASE_URL says otherwise (production: the public https address).
BASE_URL_DEFAULT := http://$(HOST):$(PORT)

.PHONY: run test lint validator peers setup install translations translations-update check bench bench-http clean \
	print-base-url

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# The official 1EdTech Open Badges 2.0 validator, for the interop tests only. Its own pins are
# stale, so it lives in a venv of its own with the working set from shared/notes/badges.md.
VALIDATOR := .venv-obvalidator
$(VALIDATOR)/.installed:
	$(PYTHON) -m venv $(VALIDATOR)
	$(VALIDATOR)/bin/pip install --quiet --upgrade pip
	$(VALIDATOR)/bin/pip install --quiet --no-deps openbadges==1.1.2
	$(VALIDATOR)/bin/pip install --quiet aniso8601 "click>=7" future==1.0.0 jsonschema==2.6.0 \
		language-tags==0.4.3 openbadges-bakery==2.0.0 rfc3986==2.0.0 pycryptodome==3.23.0 \
		pydux==0.2.2 PyLD==0.7.1 python-jose==3.2.0 python-mimeparse==2.0.0 "pytz>=2023.3" \
		"requests>=2.13" requests-cache==0.4.13 "six>=1.16" validators==0.11.2
	touch $@

validator: $(VALIDATOR)/.installed

translations: install
	$(BIN)/pybabel -q compile -d campus/translations

# After changing user-facing strings: re-extract, merge into fi/sv, then translate the new entries.
translations-update: install
	$(FLASK) translate update

setup: install translations
	$(FLASK) db upgrade
	$(FLASK) lti keys ensure
	$(FLASK) content sync
	$(FLASK) auth demo
	$(FLASK) assessments demo
	$(FLASK) network demo

run: export CAMPUS_BASE_URL ?= $(BASE_URL_DEFAULT)
run: setup
	@echo "Serving at http://$(HOST):$(PORT)/, advertised as $$CAMPUS_BASE_URL  (Ctrl+C stops)"
	$(FLASK) run --host $(HOST) --port $(PORT)

print-base-url: export CAMPUS_BASE_URL ?= $(BASE_URL_DEFAULT)
print-base-url:
	@echo "$$CAMPUS_BASE_URL"

# Independent peers from the npm registry, pinned by the lockfiles kept in tests/
# (the OpenID Provider for the SSO tests, the DCC verifier for Open Badges 3.0).
NODE_PEERS := tests/oidc/node_modules/.installed tests/ob3/node_modules/.installed
tests/%/node_modules/.installed: tests/%/package-lock.json
	npm ci --silent --no-audit --no-fund --prefix tests/$*
	touch $@

peers: $(NODE_PEERS)

# The suite on SQLite; with CAMPUS_TEST_SUITE_DATABASE_URL (a PostgreSQL database of its own,
# wiped; `.ci/run` sets it) every test that uses the app's database runs on PostgreSQL as well,
# at the same time on the other core, after the browser tests (SQLite, 7 minutes), which that
# process takes over so that the two finish together. Its report follows the SQLite one.
PG_PASS_LOG := instance/pytest-postgres.log
test: setup validator peers
	$(BIN)/ruff check campus tests bench
	@mkdir -p instance; status=0; second=; only_here=; \
	if [ -n "$$CAMPUS_TEST_SUITE_DATABASE_URL" ]; then \
	  echo "Browser tests, then the PostgreSQL pass, run alongside; their report: $(PG_PASS_LOG)"; \
	  ( env -u CAMPUS_TEST_SUITE_DATABASE_URL $(BIN)/python -m pytest -p no:cacheprovider \
	      --durations=5 tests/browser; browser=$$?; \
	    $(BIN)/python -m pytest -p no:cacheprovider --durations=15; postgres=$$?; \
	    exit $$((browser | postgres)) ) > $(PG_PASS_LOG) 2>&1 & second=$$!; \
	  only_here=--ignore=tests/browser; \
	fi; \
	env -u CAMPUS_TEST_SUITE_DATABASE_URL $(BIN)/python -m pytest --durations=15 $$only_here \
	  || status=1; \
	if [ -n "$$second" ]; then \
	  wait $$second || status=1; \
	  echo "=== browser tests (SQLite), then the suite on PostgreSQL ($$CAMPUS_TEST_SUITE_DATABASE_URL) ==="; \
	  cat $(PG_PASS_LOG); \
	fi; \
	exit $$status

lint: install
	$(BIN)/ruff check campus tests bench
	$(BIN)/ruff format --check campus tests bench

check: install
	$(FLASK) content check

bench: setup
	$(BIN)/python bench/run.py
	$(BIN)/python bench/badges.py
	$(BIN)/python bench/lti.py
	$(BIN)/python bench/security.py
	$(BIN)/python bench/outbox.py
	$(BIN)/python bench/assessments.py $(if $(BENCH_POSTGRES_URL),--postgres $(BENCH_POSTGRES_URL))
	$(BIN)/python bench/network.py
	$(BIN)/python bench/ob_documents.py

# Issue 16: gunicorn + wrk at a whole country's scale, interleaved with a bare Flask hello; writes
# bench/results.md. PostgreSQL too when CAMPUS_BENCH_POSTGRES_URL names a database of its own.
bench-http: setup
	$(BIN)/python bench/http_bench.py
	$(if $(CAMPUS_BENCH_POSTGRES_URL),$(BIN)/python bench/http_bench.py --output bench/results-postgres.md)

clean:
	rm -rf $(VENV) $(VALIDATOR) instance *.egg-info
