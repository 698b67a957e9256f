#!/bin/bash
# courier-stop.sh — stop what courier-start.sh started (by pid file only).
ST=${PEERS_STATE:-/tmp/imapd-ts-peers}/courier
for p in couriertcpd authdaemond; do
  f="$ST/$p.pid"; [ -f "$f" ] || continue
  pid=$(cat "$f")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q -e couriertcpd -e authdaemond "/proc/$pid/cmdline" 2>/dev/null; then
    kill "$pid"; for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "stopped $p ($pid)"
  fi
  rm -f "$f"
done
exit 0
