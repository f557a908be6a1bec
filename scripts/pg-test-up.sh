#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster with trust auth on port ${PGPORT:-55432} (for machines
# where the system cluster is absent or refuses trust logins). Prints the URL to export as
# APOGEE_TEST_PG_URL. Stop it with: su postgres -c "$PGBIN/pg_ctl -D $PGDIR/data -m fast stop"
set -euo pipefail
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGPORT=${PGPORT:-55432}
PGDIR=$(mktemp -d)
chown postgres:postgres "$PGDIR"
su postgres -c "$PGBIN/initdb -D $PGDIR/data --auth=trust -U postgres -E UTF8 --locale=C.UTF-8" >/dev/null
su postgres -c "$PGBIN/pg_ctl -D $PGDIR/data -l $PGDIR/server.log -w start -o '-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300'" >/dev/null
echo "postgres://postgres@127.0.0.1:$PGPORT/postgres"
