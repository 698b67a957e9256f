#!/bin/bash
# courier-start.sh MAILDIR — Courier-IMAP on 127.0.0.1:11143, LOGIN alice / secret.
# couriertcpd -> imaplogin -> (authdaemond, authuserdb) -> imapd MAILDIR.
# State (pid files, logs) under $PEERS_STATE/courier (default /tmp/imapd-ts-peers). System-wide bits that authlib forces
# (compiled-in paths): /etc/courier/authdaemonrc gets authuserdb prepended (backup kept),
# /etc/courier/userdb(.dat) gets an "alice" entry, socket lives in /run/courier/authdaemon.
set -euo pipefail
MD=${1:?usage: courier-start.sh MAILDIR}
[ -d "$MD/cur" ] || { echo "$MD is not a Maildir" >&2; exit 1; }
MD=$(cd "$MD" && pwd)
PORT=${COURIER_PORT:-11143}
ST=${PEERS_STATE:-/tmp/imapd-ts-peers}/courier
# IMAPD_BIN: the last command of the daisy chain (default Courier's own imapd); any imapd that
# honours IMAPLOGINTAG can stand there.
IMAPD_BIN=${IMAPD_BIN:-/usr/bin/imapd}
mkdir -p "$ST"
if [ ! -x /usr/bin/imapd ] || [ ! -x /usr/sbin/couriertcpd ] || [ ! -x /usr/sbin/makeuserdb ]; then
  echo "Courier-IMAP is not installed: run npm run peers" >&2; exit 69
fi
"$(dirname "$0")/courier-stop.sh" >/dev/null 2>&1 || true

# --- auth: userdb entry for alice (uid/gid of the Maildir owner), authdaemond (courier-auth.sh) ---
U=$(stat -c %u "$MD"); G=$(stat -c %g "$MD")
. "$(dirname "$0")/courier-auth.sh"
courier_auth_acquire "$ST" alice secret uid="$U" gid="$G" home="$(dirname "$MD")" mail="$MD"

# --- couriertcpd + imaplogin + imapd, env as /usr/lib/courier/imapd would set it ---
env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin ST="$ST" LPORT="$PORT" MD="$MD" IMAPD_BIN="$IMAPD_BIN" \
  IMAP_OVR="$(env | grep -E '^(IMAP_[A-Z_]*|MAXPERIP|MAXDAEMONS|IDLE)=' || true)" /bin/sh -c '
  set -a; . /etc/courier/imapd-ssl; . /etc/courier/imapd
  IMAP_STARTTLS=NO; IMAP_TLS_REQUIRED=0
  if [ -n "$IMAP_OVR" ]; then eval "$(printf "%s\n" "$IMAP_OVR" | sed "s/=\(.*\)/=\"\1\"/")"; fi
  set +a
  exec /usr/sbin/couriertcpd -pid="$ST/couriertcpd.pid" -stderr="$ST/imapd.log" \
    -address=127.0.0.1 -maxprocs="$MAXDAEMONS" -maxperip="$MAXPERIP" \
    -nodnslookup -noidentlookup "$LPORT" \
    /usr/lib/courier/courier/imaplogin "$IMAPD_BIN" "$MD"'
ok=0; for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && { ok=1; break; }; sleep 0.1; done
[ $ok = 1 ] || { echo "courier did not come up on $PORT, see $ST/*.log" >&2; exit 1; }
echo "courier-imap listening on 127.0.0.1:$PORT (alice/secret, Maildir $MD), state in $ST"
