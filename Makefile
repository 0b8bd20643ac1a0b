# Developer workflow. On a fresh machine `make run` and `make test` are all you need.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MINSHENG := $(VENV)/bin/minsheng
# pip runs again only when pyproject.toml changes; npm ci only when package-lock.json does.
INSTALL_STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-16)
NPM_STAMP := node_modules/.installed-$(shell [ -f package-lock.json ] && sha256sum package-lock.json | cut -c1-16)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help install static run test e2e-deps lint bench

help:
	@echo "make run      set up .venv and var/, load the demo county, serve http://127.0.0.1:8000"
	@echo "make test     the whole suite on SQLite, then on PostgreSQL when one is reachable"
	@echo "make lint     ruff check, ruff format --check, mypy"
	@echo "make bench    minsheng bench --all"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALL_STAMP): | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(INSTALL_STAMP)

# Browser libraries come from npm (package-lock.json) and are served as static files.
static: install
	@if [ -f package-lock.json ] && [ ! -f $(NPM_STAMP) ]; then \
	  command -v npm >/dev/null || { echo "npm is needed for the browser libraries: apt-get install npm" >&2; exit 1; }; \
	  npm ci --no-audit --no-fund; \
	  touch $(NPM_STAMP); \
	fi
	@if [ -f scripts/vendor_static.py ]; then $(PY) scripts/vendor_static.py >/dev/null; fi

run: static
	$(MINSHENG) migrate --no-input
	$(MINSHENG) demo --if-empty
	$(MINSHENG) serve

test: static e2e-deps
	scripts/ci_test.sh

# Debian's Chromium for the end-to-end tests and a TrueType CJK font for the PDF documents
# (reportlab embeds only TrueType outlines; Noto CJK is CFF). Installed when missing where
# apt-get may run (CI, root, password-less sudo); elsewhere it says what to install.
e2e-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	for pkg in fonts-noto-cjk fonts-arphic-uming; do \
	  dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$${CI:-}" = "true" ] || [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; then \
	    $(SUDO) apt-get update; \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $$missing; \
	  else \
	    echo "missing:$$missing (apt-get install$$missing): without chromium the end-to-end tests skip;"; \
	    echo "without fonts-arphic-uming (a TrueType CJK font) the PDF documents cannot be made"; \
	  fi; \
	fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: install
	$(MINSHENG) migrate --no-input -v 0
	$(MINSHENG) bench --all
