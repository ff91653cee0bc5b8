#!/usr/bin/env bash
# make format: ruff format + ruff's safe fixes, as checked by make test-static.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
sit_init
sit_venv
cd "$REPO_DIR"
"$(dirname "$VPY")/ruff" check --fix . || true
"$(dirname "$VPY")/ruff" format .
