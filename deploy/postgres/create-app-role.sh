#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d): the
# role the app and the worker connect as. It owns nothing; `market db grant market_app` (the
# compose file's `migrate` step, as the owner, after every upgrade) gives it what it needs.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v app_password="$MARKET_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE market_app LOGIN PASSWORD :'app_password';
SQL
