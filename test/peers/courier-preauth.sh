#!/bin/bash
# courier-preauth.sh MAILDIR — Courier-IMAP's imapd on stdin/stdout in PREAUTH mode (differential tests, benchmarks).
# Env from /etc/courier/imapd is exported first (so CAPABILITY etc. match the daemon);
# override any setting by exporting it before calling, e.g. IMAP_ENHANCEDIDLE=1.
set -e
MD=${1:?usage: courier-preauth.sh MAILDIR}
[ -x /usr/bin/imapd ] || { echo "Courier-IMAP is not installed (/usr/bin/imapd): run npm run peers" >&2; exit 69; }
MD=$(cd "$MD" && pwd)
# Kept too: the settings of the Outbox and of the protocol log, which the file also sets.
declare -A keep; for v in $(env | sed -n 's/^\(IMAP_[A-Z_]*\|IMAPDEBUGFILE\|OUTBOX[A-Z_]*\|SENDMAIL\|HEADERFROM\)=.*/\1/p'); do keep[$v]=${!v}; done
set -a; . /etc/courier/imapd; set +a
for v in "${!keep[@]}"; do export "$v=${keep[$v]}"; done
export IMAP_TLS=0 TCPREMOTEIP=127.0.0.1 TCPREMOTEPORT=0 TCPLOCALIP=127.0.0.1 TCPLOCALPORT=0
cd "$MD"
exec /usr/bin/imapd "$MD"
