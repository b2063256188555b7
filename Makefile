# Kuasheng: the two commands of the README.
#   make demo   the main job on the embedded default (SQLite, eager Celery; no services needed)
#   make test   the whole test suite (embedded default, or PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
# Both create .venv (Python 3.11) on first use and reinstall only when pyproject.toml changes.

PYTHON_BOOT ?= $(shell command -v python3.11 || command -v python3)
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
DEMO_ARGS   ?=
PYTEST_ARGS ?=

.PHONY: demo test coverage lint typecheck venv messages

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	@echo "Installing Kuasheng and its dependencies into $(VENV) (1-2 minutes the first time; pip lists each package)"
	$(PY) -m pip install --disable-pip-version-check --progress-bar on -e '.[dev]'
	@touch $@

demo: $(STAMP)
	$(PY) manage.py ensure_database
	$(PY) manage.py migrate --no-input
	$(PY) manage.py import_reference data/examples
	@if $(PY) manage.py help demo >/dev/null 2>&1; then \
		$(PY) manage.py demo $(DEMO_ARGS); \
	else \
		$(PY) manage.py selfcheck; \
	fi

test: $(STAMP)
	$(VENV)/bin/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# Branch coverage of the five packages (about twice as slow as `make test`, so not its default).
coverage: $(STAMP)
	$(VENV)/bin/pytest --cov=core --cov=accounts --cov=settlement --cov=clearing --cov=cardholder \
		--cov-branch --cov-report=term-missing:skip-covered $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Every top-level package (a directory with __init__.py), so a new app is checked from its first day.
PACKAGES = $(filter-out tests bench,$(patsubst %/__init__.py,%,$(wildcard */__init__.py)))

typecheck: $(STAMP)
	$(VENV)/bin/mypy $(PACKAGES)

# Re-extract the message catalogues and recompile the committed .mo files (needs GNU gettext:
# apt-get install gettext). Translate the new entries in locale/zh_Hans/LC_MESSAGES/django.po first.
messages: $(STAMP)
	$(PY) manage.py makemessages -l zh_Hans -l en --no-location --ignore='.venv/*' --ignore='tests/*' --ignore='var/*'
	$(PY) manage.py compilemessages --ignore='.venv/*'
