#!/usr/bin/env bash
# Run a command with MARKET_TEST_DATABASE_URL pointing at a PostgreSQL server the tests may use
# to create and drop their own databases:
#   1. MARKET_TEST_DATABASE_URL if set;
#   2. else a server on localhost:5432 (user postgres, then the current user);
#   3. else a throwaway cluster started from the installed PostgreSQL binaries;
#   4. else (as root) install Debian's postgresql and do 3.
set -euo pipefail

PY="${PY:-.venv/bin/python}"

can_connect() {
  "$PY" - "$1" <<'PYEOF' >/dev/null 2>&1
import sys, psycopg
with psycopg.connect(sys.argv[1], connect_timeout=3, autocommit=True) as c:
    c.execute("select 1")
PYEOF
}

if [ -n "${MARKET_TEST_DATABASE_URL:-}" ]; then
  exec "$@"
fi

for url in "postgresql://postgres@localhost:5432/postgres" "postgresql://$(id -un)@localhost:5432/postgres"; do
  if can_connect "$url"; then
    echo "with-postgres: using the server at $url"
    MARKET_TEST_DATABASE_URL="$url" exec "$@"
  fi
done

find_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

bindir="$(find_bin || true)"
if [ -z "$bindir" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "with-postgres: no PostgreSQL found; installing Debian's postgresql"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1 || {
      apt-get update -q >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
    }
    bindir="$(find_bin)"
  else
    echo "with-postgres: no PostgreSQL server and no binaries; set MARKET_TEST_DATABASE_URL" >&2
    exit 1
  fi
fi

tmp="$(mktemp -d /tmp/market-pg.XXXXXX)"
port=$(( 20000 + RANDOM % 20000 ))
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb refuses to run as root
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown -R postgres "$tmp"
  run_as=(runuser -u postgres --)
fi
cleanup() {
  "${run_as[@]}" "$bindir/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
"${run_as[@]}" "$bindir/initdb" -D "$tmp/data" -U postgres -A trust --no-sync >/dev/null
"${run_as[@]}" "$bindir/pg_ctl" -D "$tmp/data" -o "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off" \
  -l "$tmp/log" -w start >/dev/null
echo "with-postgres: started a throwaway cluster on 127.0.0.1:$port"
MARKET_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/postgres" "$@"
