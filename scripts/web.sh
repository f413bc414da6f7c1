#!/usr/bin/env bash
# The web app (web/): build | test | e2e. Non-interactive; safe to run on a fresh machine.
#   build  install npm dependencies from package-lock.json when needed, then build web/dist
#   test   type check + vitest unit tests
#   e2e    ensure Debian's chromium (apt-get, as root), build, then drive the app end to end
#          against a real backend (web/e2e/run.mjs); screenshots in web/test-artifacts/
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WEB="$ROOT/web"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export npm_config_update_notifier=false

need_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "web.sh: Node.js >= 20.19 and npm are required" >&2
    exit 1
  fi
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' || {
    echo "web.sh: Node.js >= 20.19 is required (found $(node -v))" >&2
    exit 1
  }
}

# npm ci when node_modules is missing or package-lock.json changed since the last install.
deps() {
  need_node
  local stamp="$WEB/node_modules/.amarktai-lock.sha256"
  local want
  want="$(sha256sum "$WEB/package-lock.json" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return
  fi
  echo "==> npm ci (web)"
  (cd "$WEB" && npm ci --no-audit --no-fund --prefer-offline)
  echo "$want" >"$stamp"
}

build() {
  deps
  echo "==> build web/dist"
  (cd "$WEB" && npm run --silent build)
}

unit() {
  deps
  echo "==> tsc --noEmit (web)"
  (cd "$WEB" && npx tsc --noEmit)
  echo "==> vitest"
  (cd "$WEB" && npx vitest run)
}

ensure_chromium() {
  local bin="${CHROMIUM_PATH:-/usr/bin/chromium}"
  [[ -x "$bin" ]] && return
  if [[ "$(id -u)" -ne 0 ]]; then
    echo "web.sh: $bin is missing; install Debian's chromium (apt-get install chromium) as root" >&2
    exit 1
  fi
  echo "==> apt-get install chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
}

e2e() {
  ensure_chromium
  if [[ ! -x "$ROOT/.venv/bin/amarktai" ]]; then
    echo "==> backend not installed; running scripts/setup.sh"
    bash "$ROOT/scripts/setup.sh"
  fi
  build
  echo "==> e2e (chromium $(${CHROMIUM_PATH:-/usr/bin/chromium} --version 2>/dev/null | awk '{print $2}'))"
  (cd "$WEB" && node e2e/run.mjs)
}

case "${1:-}" in
  build) build ;;
  test) unit ;;
  e2e) e2e ;;
  *)
    echo "usage: scripts/web.sh build|test|e2e" >&2
    exit 2
    ;;
esac
