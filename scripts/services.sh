#!/usr/bin/env bash
# Make the local PostgreSQL and Redis the tests use available: install them with apt-get
# when they are missing and this runs as root (as Chromium is for the browser tests),
# start them when they are down. Never fails: without them the storage tests skip with
# the reason (in CI they must run, and tests/conftest.py fails them instead).
cd "$(dirname "$0")/.."

as_root() { [ "$(id -u)" -eq 0 ]; }

install_missing() {
  local wanted=()
  command -v pg_ctlcluster >/dev/null 2>&1 || wanted+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || wanted+=(redis-server)
  [ ${#wanted[@]} -eq 0 ] && return 0
  if ! as_root || ! command -v apt-get >/dev/null 2>&1; then
    echo "services.sh: ${wanted[*]} missing; install them (as root: apt-get install ${wanted[*]})," \
      "or point AMARKTAI_TEST_POSTGRES_URL / AMARKTAI_TEST_REDIS_URL at servers you have" >&2
    return 0
  fi
  echo "==> apt-get install ${wanted[*]} (for the storage and Redis tests)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null || {
    echo "services.sh: apt-get install ${wanted[*]} failed" >&2
    return 0
  }
  if [[ " ${wanted[*]} " == *" postgresql "* ]]; then
    # A cluster we just created for tests: trust local TCP connections, as CI expects
    # (postgres@127.0.0.1:5432, database `test`). Never done to a cluster we found.
    local hba
    hba=$(ls /etc/postgresql/*/main/pg_hba.conf 2>/dev/null | head -n1)
    if [ -n "$hba" ]; then
      printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' >"$hba"
    fi
    NEW_POSTGRES=1
  fi
}

start_postgres() {
  command -v pg_isready >/dev/null 2>&1 || return 0
  command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] || return 0
  local version action=start
  version=$(ls /etc/postgresql | head -n1)
  if [ "${NEW_POSTGRES:-0}" = 1 ]; then
    action=restart # the package may have started it before its pg_hba.conf was ours
  elif pg_isready -q -h 127.0.0.1 -p 5432; then
    return 0
  fi
  echo "==> starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$version" main "$action" ||
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
}

create_test_database() {
  [ "${NEW_POSTGRES:-0}" = 1 ] || return 0
  command -v psql >/dev/null 2>&1 || return 0
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" 2>/dev/null |
    grep -q 1 || psql -h 127.0.0.1 -U postgres -qc 'CREATE DATABASE test' || true
}

start_redis() {
  command -v redis-cli >/dev/null 2>&1 || return 0
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return 0
  if command -v redis-server >/dev/null 2>&1; then
    echo "==> starting Redis"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
  fi
}

install_missing
start_postgres
create_test_database
start_redis
exit 0
