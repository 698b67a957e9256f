#!/bin/bash
# dovecot-stop.sh — stop the dovecot started by dovecot-start.sh (master pid from its pid file).
# Dovecot's children exit by themselves when their master goes away.
ST=${PEERS_STATE:-/tmp/imapd-ts-peers}/dovecot
f="$ST/dovecot.pid"; [ -f "$f" ] || exit 0
pid=$(cat "$f")
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q dovecot "/proc/$pid/cmdline" 2>/dev/null; then
  kill "$pid"; for i in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"; for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  echo "stopped dovecot ($pid)"
fi
rm -f "$f" "$ST/run/master.pid"
exit 0
