#!/usr/bin/env bash
# Install the project into .venv from the lock file (uv.lock). Idempotent and quick when
# nothing changed. Usage: scripts/setup.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
  echo "==> installing uv (Python package manager) with pip"
  python3 -m pip install --quiet --disable-pip-version-check uv
  export PATH="$HOME/.local/bin:$PATH"
fi
if [ ! -x .venv/bin/python ]; then
  uv venv --quiet --python "$(command -v python3)" .venv
fi
if [ "${1:-}" = "--dev" ]; then
  uv sync --quiet --frozen --extra dev
else
  uv sync --quiet --frozen --inexact
fi
