# Salesdesk: `make run` serves the demo, `make test` runs every test.
# Both create the virtualenv, install the pinned packages and compile translations.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
PYBABEL := $(BIN)/pybabel
HOST ?= 127.0.0.1
PORT ?= 5000

# Every feature package has its own message catalog next to its code; the core
# catalog covers the package's top-level modules and the shared templates.
FEATURES := $(notdir $(patsubst %/,%,$(dir $(wildcard salesdesk/*/__init__.py))))
CATALOGS := salesdesk/translations $(foreach f,$(FEATURES),salesdesk/$(f)/translations)
CORE_SOURCES := $(wildcard salesdesk/*.py) $(wildcard templates/*.html) templates/_macros templates/_partials templates/errors

.PHONY: run test lint translations messages clean

run: $(BIN)/.run-deps translations
	$(FLASK) salesdesk demo
	@echo "Salesdesk is at http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	$(FLASK) run --host $(HOST) --port $(PORT)

# Two pytest-xdist workers: the suite takes half as long on two cores (each worker has a
# PostgreSQL database of its own). PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2

# pytest exits 5 when it collects nothing: that is a failure here, with a clear message.
test: $(BIN)/.test-deps translations
	@$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: nothing was checked." >&2; fi; \
	exit $$status

lint: $(BIN)/.test-deps
	$(BIN)/ruff check .

$(BIN)/.run-deps: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(BIN)/.test-deps: requirements-dev.txt $(BIN)/.run-deps
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Compile the catalogs (.po -> .mo); the compiled files are not committed.
translations: $(BIN)/.run-deps
	@for dir in $(CATALOGS); do \
	  if ls $$dir/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then $(PYBABEL) -q compile -d $$dir; fi; \
	done

# Developers: extract new strings into every catalog, then translate the empty ones.
messages: $(BIN)/.run-deps
	mkdir -p salesdesk/translations
	$(PYBABEL) -q extract -F babel.cfg -k _l --no-location --sort-output -o salesdesk/translations/messages.pot $(CORE_SOURCES)
	@for f in $(FEATURES); do \
	  mkdir -p salesdesk/$$f/translations; \
	  $(PYBABEL) -q extract -F babel.cfg -k _l --no-location --sort-output \
	    -o salesdesk/$$f/translations/messages.pot salesdesk/$$f $$(test -d templates/$$f && echo templates/$$f); \
	done
	@for dir in $(CATALOGS); do \
	  $(PYBABEL) -q update --init-missing --no-fuzzy-matching --ignore-obsolete --no-wrap --ignore-pot-creation-date \
	    -l zh_Hans_CN -i $$dir/messages.pot -d $$dir; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
