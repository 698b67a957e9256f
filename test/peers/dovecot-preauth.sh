#!/bin/bash
# dovecot-preauth.sh MAILDIR — Dovecot's imap binary on stdin/stdout in PREAUTH mode (no master,
# no auth). Prints "* PREAUTH [CAPABILITY ...] Logged in as bench". Index files go into MAILDIR.
# Dovecot refuses mail access as root ("Mail access not allowed for root", mail_uid=0 does not help),
# so a root-owned MAILDIR is chowned to mail:mail (uid 8) and imap runs as that user via setpriv.
# Config and base_dir: $DOVECOT_BENCH_STATE (default /tmp/bench-dovecot), one per MAILDIR.
# The Maildir and its parent folders must be reachable by the mail user (not inside a 0700 mktemp folder).
# Namespace prefix "INBOX." with separator "." (like Courier); DOVECOT_NS_PREFIX= for an empty prefix.
set -e
MD=${1:?usage: dovecot-preauth.sh MAILDIR}
MD=$(cd "$MD" && pwd)
IMAP=${DOVECOT_IMAP:-/opt/peers/dovecot-imapd/usr/lib/dovecot/imap}
[ -x "$IMAP" ] || IMAP=/usr/lib/dovecot/imap
[ -x "$IMAP" ] || { echo "Dovecot's imap is not installed: run npm run peers" >&2; exit 69; }
ST=${DOVECOT_BENCH_STATE:-/tmp/bench-dovecot}/$(echo "$MD" | md5sum | cut -c1-12)
NSPREFIX=${DOVECOT_NS_PREFIX-INBOX.}
RUNAS=mail
if [ "$(id -u)" != 0 ]; then RUNAS=; fi
if [ -n "$RUNAS" ] && [ "$(stat -c %u "$MD")" = 0 ]; then chown -R "$RUNAS:$RUNAS" "$MD"; fi
mkdir -p "$ST/run" "$ST/state"
# DOVECOT_IMAP_PLUGINS="zlib imap_zlib" loads plugins for imap (COMPRESS=DEFLATE). The imap_* ones
# come with dovecot-imapd, unpacked apart from dovecot-core's: one folder of links to both.
IMAP_PLUGINS=${DOVECOT_IMAP_PLUGINS-}
PLUGIN_DIR=/usr/lib/dovecot/modules
if [ -n "$IMAP_PLUGINS" ]; then
  PLUGIN_DIR=$ST/plugins
  mkdir -p "$PLUGIN_DIR"
  ln -sf /usr/lib/dovecot/modules/*.so "$(dirname "$IMAP")"/modules/*.so "$PLUGIN_DIR"/ 2>/dev/null || true
fi
cat > "$ST/dovecot.conf.tmp.$$" <<CONF
mail_location = maildir:$MD
first_valid_uid = 1
first_valid_gid = 1
base_dir = $ST/run
state_dir = $ST/state
log_path = /dev/stderr
ssl = no
mail_plugin_dir = $PLUGIN_DIR
namespace inbox {
  inbox = yes
  separator = .
  prefix = $NSPREFIX
}
protocol imap {
  mail_plugins = $IMAP_PLUGINS
}
CONF
mv -f "$ST/dovecot.conf.tmp.$$" "$ST/dovecot.conf"
chmod 755 "$ST" "$ST/run" "$ST/state"; chmod 644 "$ST/dovecot.conf"
[ -n "$RUNAS" ] && chown "$RUNAS:$RUNAS" "$ST/run" "$ST/state"
cd "$MD"
if [ -n "$RUNAS" ]; then
  exec env -i PATH=/usr/bin:/bin USER=bench HOME="$MD" \
    setpriv --reuid="$RUNAS" --regid="$RUNAS" --clear-groups "$IMAP" -c "$ST/dovecot.conf"
else
  exec env -i PATH=/usr/bin:/bin USER=bench HOME="$MD" "$IMAP" -c "$ST/dovecot.conf"
fi
