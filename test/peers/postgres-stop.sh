#!/bin/bash
# postgres-stop.sh DIR — stop the PostgreSQL that postgres-start.sh DIR started (fast: nothing to keep).
set -euo pipefail
DIR=${1:?usage: postgres-stop.sh DIR}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
RUN=()
[ "$(id -u)" = 0 ] && RUN=(runuser -u postgres --)
[ -f "$DIR/data/postmaster.pid" ] && "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null
exit 0
