#!/bin/bash
# slapd-start.sh DIR PORT — a private OpenLDAP slapd (Debian's slapd package) for the LDAP account
# tests: an mdb database in DIR for dc=example,dc=com, admin "cn=admin,dc=example,dc=com" with
# password "secret", listening on ldap://127.0.0.1:PORT only, with the core, cosine, nis and
# inetorgperson schemas, Courier's authldap attributes (CourierMailAccount: mailbox, quota, ...)
# and the argon2 password module (so {ARGON2} hashes can be made with slappasswd). The base entry
# and ou=people are created. Prints the URL. Stop it with slapd-stop.sh DIR.
set -euo pipefail
DIR=${1:?usage: slapd-start.sh DIR PORT}
PORT=${2:?usage: slapd-start.sh DIR PORT}
[ -x /usr/sbin/slapd ] || { echo "slapd is not installed (/usr/sbin/slapd): run npm run peers" >&2; exit 69; }
command -v ldapadd >/dev/null || { echo "ldap-utils is not installed (ldapadd): run npm run peers" >&2; exit 69; }
mkdir -p "$DIR/db"
# Courier's authldap.schema (courier-authlib), the attributes the account store reads.
cat > "$DIR/courier.schema" <<'SCHEMA'
attributetype ( 1.3.6.1.4.1.10018.1.1.1 NAME 'mailbox'
  DESC 'The absolute path to the mailbox for a mail account in a non-default location'
  EQUALITY caseExactIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.10018.1.1.2 NAME 'quota'
  DESC 'A string that represents the quota on a mailbox'
  EQUALITY caseExactIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.10018.1.1.3 NAME 'clearPassword'
  DESC 'A separate text that stores the mail account password in clear text'
  EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40{128} )
attributetype ( 1.3.6.1.4.1.10018.1.1.8 NAME 'defaultdelivery'
  DESC 'Default mail delivery instructions'
  EQUALITY caseExactIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )
attributetype ( 1.3.6.1.4.1.10018.1.1.9 NAME 'disableimap'
  DESC 'Set this attribute to 1 to disable IMAP access'
  EQUALITY caseExactIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )
objectclass ( 1.3.6.1.4.1.10018.1.2.1 NAME 'CourierMailAccount' SUP top AUXILIARY
  DESC 'Mail account object as used by the Courier mail server'
  MUST ( mail $ homeDirectory )
  MAY ( uidNumber $ gidNumber $ mailbox $ uid $ cn $ gecos $ description $ loginShell $ quota $ userPassword $ clearPassword $ defaultdelivery $ disableimap ) )
SCHEMA
ARGON2=
[ -e /usr/lib/ldap/argon2.so ] && ARGON2="moduleload argon2"
cat > "$DIR/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
include $DIR/courier.schema
modulepath /usr/lib/ldap
moduleload back_mdb
$ARGON2
pidfile $DIR/slapd.pid
argsfile $DIR/slapd.args
database mdb
maxsize 67108864
suffix "dc=example,dc=com"
rootdn "cn=admin,dc=example,dc=com"
rootpw secret
directory $DIR/db
CONF
[ -f "$DIR/slapd.pid" ] && kill "$(cat "$DIR/slapd.pid")" 2>/dev/null && sleep 0.5 || true
/usr/sbin/slapd -f "$DIR/slapd.conf" -h "ldap://127.0.0.1:$PORT/" >"$DIR/slapd.log" 2>&1 || { cat "$DIR/slapd.log" >&2; exit 1; }
for _ in $(seq 100); do
  ldapsearch -x -H "ldap://127.0.0.1:$PORT/" -b '' -s base >/dev/null 2>&1 && break
  sleep 0.1
done
ldapadd -x -H "ldap://127.0.0.1:$PORT/" -D 'cn=admin,dc=example,dc=com' -w secret >/dev/null <<'LDIF' || true
dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people
LDIF
echo "ldap://127.0.0.1:$PORT/"
