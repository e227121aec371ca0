#!/usr/bin/env bash
# Sets up porttray (system packages, virtualenv) and starts it in the tray. After the first run
# the set-up is a quick check that needs no network; `porttray` is also linked into ~/.local/bin.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/porttray "$@"
