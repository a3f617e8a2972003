#!/usr/bin/env bash
# Run every check and every test: lint, types, layering, then the whole pytest suite.
# `make test` calls this after installing; `.ci/run` calls `make test` with CI=true.
# PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) must already run; the S3
# server (moto) is started by the tests themselves; Chromium and asciinema are
# installed here from Debian's packages when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

# Debian packages the tests drive: Chromium (browser tests) and the asciinema CLI (a
# real recording imported, an export played back).
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v asciinema >/dev/null 2>&1 || missing="$missing asciinema"
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing$missing for the tests (apt-get) ..."
  apt-get update -qq >/dev/null 2>&1 || true
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null 2>&1 \
    || echo "warning:$missing could not be installed; the tests that need them will say so"
fi

echo "== ruff"
$BIN/ruff check src tests bench scripts
$BIN/ruff format --check src tests bench scripts
echo "== mypy"
$BIN/mypy
echo "== import layers"
$BIN/lint-imports
echo "== pytest"
$BIN/pytest -n "${PYTEST_WORKERS:-2}" --dist loadgroup -p no:cacheprovider "$@"
