#!/bin/bash
# dovecot-start.sh MAILDIR — Dovecot IMAP on 127.0.0.1:12143, LOGIN alice / secret, no SSL.
# Optional: DOVECOT_POP3_PORT=N adds POP3 (dovecot-pop3d unpacked in /opt/peers/dovecot-pop3d);
# DOVECOT_SSL_CERT and DOVECOT_SSL_KEY (PEM files) turn TLS on (STARTTLS / STLS), with implicit
# TLS on DOVECOT_IMAPS_PORT and DOVECOT_POP3S_PORT when given.
# Self-contained config + base_dir under $PEERS_STATE/dovecot (default /tmp/imapd-ts-peers). Uses Maildir++ layout (default).
# Note: Debian's courier-imap and dovecot-imapd conflict (both Provide imap-server), so
# dovecot-core is installed via apt and dovecot-imapd's binaries are unpacked (dpkg-deb -x)
# into /opt/peers/dovecot-imapd and referenced from the config.
set -euo pipefail
MD=${1:?usage: dovecot-start.sh MAILDIR}
[ -d "$MD/cur" ] || { echo "$MD is not a Maildir" >&2; exit 1; }
MD=$(cd "$MD" && pwd)
PORT=${DOVECOT_PORT:-12143}
# Folder names: "INBOX." prefix by default so LIST matches Courier (INBOX.Sent); DOVECOT_NS_PREFIX= for Sent
NSPREFIX=${DOVECOT_NS_PREFIX-INBOX.}
ST=${PEERS_STATE:-/tmp/imapd-ts-peers}/dovecot
IMAPD=/opt/peers/dovecot-imapd/usr/lib/dovecot
POP3D=/opt/peers/dovecot-pop3d/usr/lib/dovecot
POP3_PORT=${DOVECOT_POP3_PORT:-0}
IMAPS_PORT=${DOVECOT_IMAPS_PORT:-0}
POP3S_PORT=${DOVECOT_POP3S_PORT:-0}
mkdir -p "$ST"
[ -x /usr/sbin/dovecot ] || { echo "Dovecot is not installed (/usr/sbin/dovecot): run npm run peers" >&2; exit 69; }
if [ -x /usr/lib/dovecot/imap ] && [ -x /usr/lib/dovecot/imap-login ]; then
  IMAPD=/usr/lib/dovecot            # real dovecot-imapd package installed (no courier-imap)
elif [ ! -x "$IMAPD/imap" ]; then
  echo "Dovecot's imap is not unpacked in $IMAPD: run npm run peers" >&2; exit 69
fi
PROTOCOLS=imap
if [ "$POP3_PORT" != 0 ] || [ "$POP3S_PORT" != 0 ]; then
  if [ -x /usr/lib/dovecot/pop3 ] && [ -x /usr/lib/dovecot/pop3-login ]; then POP3D=/usr/lib/dovecot
  elif [ ! -x "$POP3D/pop3" ]; then echo "Dovecot's pop3 is not unpacked in $POP3D: run npm run peers" >&2; exit 69; fi
  PROTOCOLS="imap pop3"
fi
SSL="ssl = no"
if [ -n "${DOVECOT_SSL_CERT:-}" ]; then
  SSL="ssl = yes
ssl_cert = <$DOVECOT_SSL_CERT
ssl_key = <$DOVECOT_SSL_KEY"
fi
"$(dirname "$0")/dovecot-stop.sh" >/dev/null 2>&1 || true
# Dovecot refuses to serve mail as UID 0: a root-owned Maildir is handed to the "mail" user (uid 8).
if [ "$(stat -c %u "$MD")" = 0 ]; then chown -R mail:mail "$MD"; fi
U=$(stat -c %U "$MD"); G=$(stat -c %G "$MD"); UID_=$(stat -c %u "$MD"); GID_=$(stat -c %g "$MD")
# passwd-file: user:{scheme}pass:uid:gid::home::extra
echo "alice:{PLAIN}secret:$UID_:$GID_::$(dirname "$MD")::" > "$ST/passwd"
cat > "$ST/dovecot.conf" <<CONF
base_dir = $ST/run
state_dir = $ST/state
instance_name = peers-dovecot
protocols = $PROTOCOLS
listen = 127.0.0.1
$SSL
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = $ST/dovecot.log
info_log_path = $ST/dovecot.log
mail_location = maildir:$MD
mail_uid = $UID_
mail_gid = $GID_
first_valid_uid = 1
first_valid_gid = 1
mail_plugin_dir = /usr/lib/dovecot/modules
passdb {
  driver = passwd-file
  args = scheme=PLAIN $ST/passwd
}
userdb {
  driver = passwd-file
  args = $ST/passwd
}
namespace inbox {
  inbox = yes
  separator = .
  prefix = $NSPREFIX
}
service imap-login {
  executable = $IMAPD/imap-login
  inet_listener imap {
    address = 127.0.0.1
    port = $PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service imap {
  executable = $IMAPD/imap
}
service imap-hibernate {
  executable = $IMAPD/imap-hibernate
}
service imap-urlauth {
  executable = $IMAPD/imap-urlauth
}
service imap-urlauth-login {
  executable = $IMAPD/imap-urlauth-login
}
service imap-urlauth-worker {
  executable = $IMAPD/imap-urlauth-worker
}
service pop3-login {
  executable = $POP3D/pop3-login
  inet_listener pop3 {
    address = 127.0.0.1
    port = $POP3_PORT
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $POP3S_PORT
    ssl = yes
  }
}
service pop3 {
  executable = $POP3D/pop3
}
service submission-login {
  inet_listener submission {
    port = 0
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0
  }
}
protocol imap {
  mail_plugins =
}
CONF
mkdir -p "$ST/run" "$ST/state"
/usr/sbin/dovecot -c "$ST/dovecot.conf"
for i in $(seq 50); do [ -s "$ST/run/master.pid" ] && break; sleep 0.1; done
cp "$ST/run/master.pid" "$ST/dovecot.pid"
ok=0; for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && { ok=1; break; }; sleep 0.1; done
[ $ok = 1 ] || { echo "dovecot did not come up on $PORT, see $ST/dovecot.log" >&2; exit 1; }
echo "dovecot listening on 127.0.0.1:$PORT (alice/secret, Maildir $MD), state in $ST"
