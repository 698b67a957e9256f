#!/bin/bash
# courier-proxy.sh PORT USER PASSWORD MAILHOST — Courier-IMAP's proxy (IMAP_PROXY=1) on 127.0.0.1:PORT:
# couriertcpd -> imaplogin -> (authdaemond, authuserdb), which finds USER's account option
# mailhost=MAILHOST, logs in there on port 143 with LOGIN and relays (Courier's imap/proxy.C).
# IMAP_PROXY_FOREIGN and PROXY_HOSTNAME are taken from the environment.
# State under $PEERS_STATE/courier (stop with PEERS_STATE=... courier-stop.sh). A running
# authdaemond (another peer script's) is used as it is; otherwise one is started here.
# System-wide bits authlib forces: a userdb entry for USER in /etc/courier/userdb(.dat).
set -euo pipefail
PORT=${1:?usage: courier-proxy.sh PORT USER PASSWORD MAILHOST}
PUSER=${2:?user}; PASS=${3:?password}; MAILHOST=${4:?mailhost}
ST=${PEERS_STATE:-/tmp/imapd-ts-peers}/courier
if [ ! -x /usr/bin/imapd ] || [ ! -x /usr/sbin/couriertcpd ] || [ ! -x /usr/sbin/makeuserdb ]; then
  echo "Courier-IMAP is not installed: run npm run peers" >&2; exit 69
fi
mkdir -p "$ST/home/Maildir/cur" "$ST/home/Maildir/new" "$ST/home/Maildir/tmp"
"$(dirname "$0")/courier-stop.sh" >/dev/null 2>&1 || true

. "$(dirname "$0")/courier-auth.sh"
courier_auth_acquire "$ST" "$PUSER" "$PASS" uid="$(id -u)" gid="$(id -g)" home="$ST/home" mail="$ST/home/Maildir" options="mailhost=$MAILHOST"

env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin ST="$ST" LPORT="$PORT" \
  FOREIGN="${IMAP_PROXY_FOREIGN:-0}" PHOST="${PROXY_HOSTNAME:-}" /bin/sh -c '
  set -a; . /etc/courier/imapd-ssl; . /etc/courier/imapd
  IMAP_STARTTLS=NO; IMAP_TLS_REQUIRED=0; IMAP_PROXY=1; IMAP_PROXY_FOREIGN=$FOREIGN
  if [ -n "$PHOST" ]; then PROXY_HOSTNAME=$PHOST; fi
  DEBUG_LOGIN=1
  set +a
  exec /usr/sbin/couriertcpd -pid="$ST/couriertcpd.pid" -stderr="$ST/imapd.log" \
    -address=127.0.0.1 -maxprocs=10 -maxperip=10 -nodnslookup -noidentlookup "$LPORT" \
    /usr/lib/courier/courier/imaplogin /usr/bin/imapd "$ST/home/Maildir"'
ok=0; for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && { ok=1; break; }; sleep 0.1; done
[ $ok = 1 ] || { echo "courier did not come up on $PORT, see $ST/*.log" >&2; exit 1; }
echo "courier-imap proxy on 127.0.0.1:$PORT ($PUSER -> $MAILHOST:143), state in $ST"
