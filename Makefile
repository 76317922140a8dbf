# Two commands for a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
GOLDEN := $(firstword $(wildcard ../shared/data/golden-2022) demo/golden-2022)
DEMO_YEAR := 2022
# System packages from Debian: WeasyPrint's font subsetting and fonts, pdftotext for PDF tests,
# Chromium and its driver for the browser test, nginx to check deploy/nginx/ipep.conf. Installed when missing (needs root or sudo).
SYSTEM_PACKAGES := libharfbuzz-subset0 fonts-dejavu-core poppler-utils chromium chromium-driver nginx-light

.PHONY: demo test lint venv system-packages clean-demo worker

$(VENV)/.installed-runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed-runtime
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed-dev

system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

test: lint system-packages
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest -q -p no:cacheprovider

demo: $(VENV)/.installed-runtime system-packages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py demo_setup --bundle $(GOLDEN) --year $(DEMO_YEAR)
	$(PY) manage.py runserver 127.0.0.1:8000

worker: $(VENV)/.installed-runtime
	$(VENV)/bin/celery -A ipep_site worker -l info --concurrency 2

clean-demo:
	rm -f db.sqlite3
	rm -rf media
