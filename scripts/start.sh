#!/usr/bin/env bash
# Sets up porttray (system packages, virtualenv) and starts it in the tray.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/porttray "$@"
