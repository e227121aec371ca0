#!/usr/bin/env bash
# Sets up everything the test suite needs, then runs lint, types and the whole suite
# (unit, integration, and end-to-end on Xvfb + a private session bus + dunst + Chromium, and on
# real tray hosts: XFCE's panel, tint2, sway + waybar).
#   scripts/test.sh --all-hosts   also on GNOME Shell and KDE Plasma (sets PORTTRAY_ALL_HOSTS=1)
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
setup_args=(--test)
for arg in "$@"; do
  if [[ "$arg" == "--all-hosts" ]]; then
    export PORTTRAY_ALL_HOSTS=1
    setup_args+=(--all-hosts)
  else
    args+=("$arg")
  fi
done
set -- "${args[@]+"${args[@]}"}"
bash scripts/setup.sh "${setup_args[@]}"
export NO_AT_BRIDGE=1
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest "$@"
