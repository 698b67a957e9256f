#!/bin/bash
# courier-stop.sh — stop what courier-start.sh (or courier-proxy.sh, courier-login.sh) started
# (by pid file only); authdaemond is shared by the peers running at once and stops with the last
# of them (courier-auth.sh).
ST=${PEERS_STATE:-/tmp/imapd-ts-peers}/courier
f="$ST/couriertcpd.pid"
if [ -f "$f" ]; then
  pid=$(cat "$f")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q couriertcpd "/proc/$pid/cmdline" 2>/dev/null; then
    kill "$pid"; for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "stopped couriertcpd ($pid)"
  fi
  rm -f "$f"
fi
. "$(dirname "$0")/courier-auth.sh"
courier_auth_release "$ST"
exit 0
