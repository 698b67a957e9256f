#!/bin/bash
# courier-login.sh PORT USER PASSWORD — Courier-IMAP on 127.0.0.1:PORT for one userdb account:
# couriertcpd -> imaplogin -> (authdaemond, authuserdb) -> imapd, the account's Maildir under
# the state directory. DEFDOMAIN is taken from the environment (Courier's authlib appends it to
# a login name without "@"). State under $PEERS_STATE/courier (stop with PEERS_STATE=...
# courier-stop.sh). A running authdaemond (another peer script's) is used as it is; otherwise
# one is started here. System-wide bits authlib forces: a userdb entry for USER in
# /etc/courier/userdb(.dat) (remove it with userdb USER del; makeuserdb).
set -euo pipefail
PORT=${1:?usage: courier-login.sh PORT USER PASSWORD}
LUSER=${2:?user}; PASS=${3:?password}
ST=${PEERS_STATE:-/tmp/imapd-ts-peers}/courier
if [ ! -x /usr/bin/imapd ] || [ ! -x /usr/sbin/couriertcpd ] || [ ! -x /usr/sbin/makeuserdb ]; then
  echo "Courier-IMAP is not installed: run npm run peers" >&2; exit 69
fi
mkdir -p "$ST/home/Maildir/cur" "$ST/home/Maildir/new" "$ST/home/Maildir/tmp"
"$(dirname "$0")/courier-stop.sh" >/dev/null 2>&1 || true

. "$(dirname "$0")/courier-auth.sh"
courier_auth_acquire "$ST" "$LUSER" "$PASS" uid="$(id -u)" gid="$(id -g)" home="$ST/home" mail="$ST/home/Maildir"

env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin ST="$ST" LPORT="$PORT" DD="${DEFDOMAIN:-}" /bin/sh -c '
  set -a; . /etc/courier/imapd-ssl; . /etc/courier/imapd
  IMAP_STARTTLS=NO; IMAP_TLS_REQUIRED=0; DEFDOMAIN=$DD
  set +a
  exec /usr/sbin/couriertcpd -pid="$ST/couriertcpd.pid" -stderr="$ST/imapd.log" \
    -address=127.0.0.1 -maxprocs=10 -maxperip=10 -nodnslookup -noidentlookup "$LPORT" \
    /usr/lib/courier/courier/imaplogin /usr/bin/imapd "$ST/home/Maildir"'
ok=0; for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && { ok=1; break; }; sleep 0.1; done
[ $ok = 1 ] || { echo "courier did not come up on $PORT, see $ST/*.log" >&2; exit 1; }
echo "courier-imap on 127.0.0.1:$PORT ($LUSER, DEFDOMAIN=${DEFDOMAIN:-}), state in $ST"
