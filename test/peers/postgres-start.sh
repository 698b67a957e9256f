#!/bin/bash
# postgres-start.sh DIR PORT — a private PostgreSQL (Debian's postgresql package) for the account-store
# tests: a cluster in DIR/data, listening on 127.0.0.1:PORT only (its socket in DIR), superuser
# "imapd" with password "secret" (scram-sha-256, also over TCP). Prints the URL to connect with.
# PostgreSQL refuses to run as root: as root, DIR is handed to the "postgres" user the package
# created and the server runs as that user (runuser), so DIR's parents must let it through (a
# directory of its own under /tmp, as mktemp -d makes, does). Stop it with postgres-stop.sh DIR.
set -euo pipefail
DIR=${1:?usage: postgres-start.sh DIR PORT}
PORT=${2:?usage: postgres-start.sh DIR PORT}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$BIN" ] && [ -x "$BIN/initdb" ] || { echo "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb): run npm run peers" >&2; exit 69; }
mkdir -p "$DIR"
RUN=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "no user postgres (the postgresql package creates it): run npm run peers" >&2; exit 69; }
  chown postgres "$DIR"
  RUN=(runuser -u postgres --)
fi
if [ ! -f "$DIR/data/PG_VERSION" ]; then
  printf 'secret\n' > "$DIR/pwfile"
  [ "$(id -u)" = 0 ] && chown postgres "$DIR/pwfile"
  "${RUN[@]}" "$BIN/initdb" -D "$DIR/data" -U imapd --pwfile="$DIR/pwfile" --auth=scram-sha-256 -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; exit 1; }
  rm -f "$DIR/pwfile"
fi
# fsync off: a test cluster thrown away afterwards need not survive a power cut.
"${RUN[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -t 60 \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { cat "$DIR/postgres.log" >&2; exit 1; }
echo "postgres://imapd:secret@127.0.0.1:$PORT/postgres"
