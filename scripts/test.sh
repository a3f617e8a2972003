#!/usr/bin/env bash
# Run every check and every test: lint, types, layering, then the whole pytest suite.
# `make test` calls this after installing; `.ci/run` calls `make test` with CI=true.
# PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) must already run; the S3
# server (moto) is started by the tests themselves; Chromium for browser tests is
# installed here from Debian's packages when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing chromium for the browser tests (apt-get) ..."
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 \
    || echo "warning: chromium could not be installed; browser tests will say so"
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
