#!/usr/bin/env bash
# Benchmark-only: a separate venv with nautilus_trader for benchmarks/backtest.py.
#
# nautilus_trader 1.221.0 pins pandas < 3 and an older uvloop than the platform does, so
# it cannot live in the project venv; benchmarks/backtest.py runs
# benchmarks/peers/nautilus_sma.py with this venv's interpreter in a subprocess instead.
# Nothing in the test suite or CI uses it. Idempotent: does nothing when the pinned
# version is already installed.
set -euo pipefail

VERSION="1.221.0"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv-nautilus"
PY="$VENV/bin/python"

installed() {
    [ -x "$PY" ] && "$PY" -c "import sys, nautilus_trader as n; sys.exit(n.__version__ != '$VERSION')" \
        >/dev/null 2>&1
}

if installed; then
    echo "nautilus_trader $VERSION already installed in $VENV"
    exit 0
fi
if ! command -v uv >/dev/null 2>&1; then
    echo "uv is required (https://docs.astral.sh/uv/)" >&2
    exit 1
fi
[ -x "$PY" ] || uv venv -p 3.11 "$VENV"
VIRTUAL_ENV="$VENV" uv pip install "nautilus_trader==$VERSION"
installed
echo "nautilus_trader $VERSION installed in $VENV"
