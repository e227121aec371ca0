#!/usr/bin/env bash
# Sets up everything the test suite needs, then runs lint, types and the whole suite
# (unit, integration, and end-to-end on Xvfb + a private session bus + dunst + Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export NO_AT_BRIDGE=1
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest "$@"
