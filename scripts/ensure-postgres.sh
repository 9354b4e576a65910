#!/usr/bin/env bash
# Makes sure the PostgreSQL that the integration tests use is up, starting the local cluster if
# it is not, and fails loudly if it cannot be reached.
#   scripts/ensure-postgres.sh URL                        check / start
#   scripts/ensure-postgres.sh URL --drop-test-databases  also drop freshbot_test_* databases
set -euo pipefail
url="${1:?usage: ensure-postgres.sh postgres://user@host:port/db [--drop-test-databases]}"

reachable() { psql "$url" -Atqc 'select 1' >/dev/null 2>&1; }

if ! command -v psql >/dev/null 2>&1; then
  echo "psql not found: install PostgreSQL (apt-get install postgresql) or set FRESHBOT_TEST_POSTGRES to a reachable server" >&2
  exit 1
fi

if ! reachable; then
  echo "PostgreSQL at $url is not answering; trying to start the local cluster" >&2
  if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then
    for v in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
    done
  fi
  for _ in $(seq 1 30); do
    reachable && break
    sleep 1
  done
fi

if ! reachable; then
  echo "ERROR: PostgreSQL at $url is unreachable; the PostgreSQL test suite cannot run" >&2
  exit 1
fi
echo "PostgreSQL is up: $(psql "$url" -Atqc 'show server_version')"

if [ "${2:-}" = "--drop-test-databases" ]; then
  for db in $(psql "$url" -Atqc "select datname from pg_database where datname like 'freshbot_test_%'"); do
    psql "$url" -qc "drop database if exists \"$db\"" >/dev/null || true
  done
  echo "dropped leftover test databases"
fi
