#!/bin/bash
# slapd-stop.sh DIR — stop the slapd that slapd-start.sh DIR started (by the pid it wrote).
set -euo pipefail
DIR=${1:?usage: slapd-stop.sh DIR}
if [ -f "$DIR/slapd.pid" ]; then
  pid=$(cat "$DIR/slapd.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
exit 0
