#!/bin/bash
# install.sh — install the reference peers the differential tests and benchmarks run:
# Courier-IMAP (courier-imap) and Dovecot (dovecot-core, with dovecot-imapd unpacked beside it,
# because Debian's dovecot-imapd and courier-imap conflict: both provide imap-server), and
# Postfix, which the LMTP tests run as a private instance (never the system's /etc/postfix),
# PostgreSQL and OpenLDAP's slapd (with ldap-utils), which the account-store tests run as private
# instances on a free port in a temporary directory (test/peers/postgres-start.sh, slapd-start.sh).
# zbar-tools decodes the GUI's QR codes in the e2e tests.
# As root it installs them with apt; otherwise it prints the commands to run as root.
# Usage: npm run peers  (or test/peers/install.sh). Safe to run again.
set -euo pipefail
DEST=${PEERS_DOVECOT_DIR:-/opt/peers/dovecot-imapd}
POP3DEST=${PEERS_DOVECOT_POP3_DIR:-/opt/peers/dovecot-pop3d}
if [ "$(id -u)" != 0 ]; then
  cat <<MSG
Installing the peers needs root. Run:
  sudo apt-get update
  sudo sh -c 'echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections'
  sudo sh -c 'echo "slapd slapd/no_configuration boolean true" | debconf-set-selections'
  sudo apt-get install -y courier-imap dovecot-core isync curl python3 openssl chromium postfix zbar-tools postgresql slapd ldap-utils
  sudo sh -c 'mkdir -p /opt/peers && cd /opt/peers && apt-get download dovecot-imapd && dpkg-deb -x dovecot-imapd_*.deb $DEST'
  sudo sh -c 'cd /opt/peers && apt-get download dovecot-pop3d && dpkg-deb -x dovecot-pop3d_*.deb $POP3DEST'
MSG
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# "No configuration": Postfix installs without asking and without a main.cf, so the system's
# own instance stays stopped; the tests give theirs a config_directory of its own.
echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
# slapd the same way: no system directory is configured (the tests write their own slapd.conf).
echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
# Dovecot's processes (user mail) die at start with "open(/dev/null) failed" when /dev/null is
# not writable by all, as it was once found (0644) on one of our machines after package installs.
if [ ! -c /dev/null ]; then rm -f /dev/null; mknod -m 666 /dev/null c 1 3; fi
chmod 666 /dev/null
need=()
for p in courier-imap dovecot-core isync curl python3 openssl chromium postfix zbar-tools postgresql slapd ldap-utils; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q >/dev/null
  apt-get install -y -q -o DPkg::Lock::Timeout=600 "${need[@]}" >/dev/null
fi
if [ ! -x "$DEST/usr/lib/dovecot/imap" ]; then
  mkdir -p "$(dirname "$DEST")"
  tmp=$(mktemp -d); chmod 755 "$tmp"
  (cd "$tmp" && apt-get download -q dovecot-imapd >/dev/null 2>&1 && dpkg-deb -x dovecot-imapd_*.deb "$DEST")
  rm -rf "$tmp"
fi
# dovecot-pop3d the same way (the POP3 provider of the mail-source tests).
if [ ! -x "$POP3DEST/usr/lib/dovecot/pop3" ]; then
  mkdir -p "$(dirname "$POP3DEST")"
  tmp=$(mktemp -d); chmod 755 "$tmp"
  (cd "$tmp" && apt-get download -q dovecot-pop3d >/dev/null 2>&1 && dpkg-deb -x dovecot-pop3d_*.deb "$POP3DEST")
  rm -rf "$tmp"
fi
echo "peers installed: Courier $(dpkg-query -W -f='${Version}' courier-imap), Dovecot $(dpkg-query -W -f='${Version}' dovecot-core) (imap in $DEST, pop3 in $POP3DEST), Postfix $(dpkg-query -W -f='${Version}' postfix), PostgreSQL $(dpkg-query -W -f='${Version}' postgresql), slapd $(dpkg-query -W -f='${Version}' slapd)"
