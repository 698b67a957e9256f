# courier-auth.sh — sourced by courier-start.sh, courier-proxy.sh and courier-login.sh: the
# system-wide parts of Courier's authentication, shared by every Courier peer that runs at once
# (the tests run two files at a time). authlib's paths are compiled in: one authdaemond socket in
# /run/courier/authdaemon, one /etc/courier/userdb. So:
# - every edit of userdb and authdaemonrc, and every start or stop of authdaemond, holds one
#   lock (flock on $COURIER_AUTH_LOCK);
# - one authdaemond serves all peers; each peer holds a token (its state directory) in
#   $COURIER_AUTH_DIR/users, and the last one to stop stops the daemon (courier_auth_release).
COURIER_AUTH_DIR=${COURIER_AUTH_DIR:-/run/imapd-ts-courier-auth}
COURIER_AUTH_LOCK=$COURIER_AUTH_DIR/lock
COURIER_AUTH_SOCKET=/run/courier/authdaemon/socket

courier_auth_answers() {
  python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.connect('$COURIER_AUTH_SOCKET')" 2>/dev/null
}

# Whether the authdaemond these scripts started is running.
courier_auth_ours_alive() {
  local f=$COURIER_AUTH_DIR/authdaemond.pid pid
  [ -f "$f" ] && pid=$(cat "$f") && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q authdaemond "/proc/$pid/cmdline" 2>/dev/null
}

# courier_auth_token STATE_DIR: the token file of one peer.
courier_auth_token() { echo "$COURIER_AUTH_DIR/users/$(echo -n "$1" | md5sum | cut -c1-16)"; }

# courier_auth_acquire STATE_DIR USER PASSWORD userdb-field=value...: USER in userdb with
# PASSWORD and the fields given, authuserdb in authdaemonrc, authdaemond answering; this peer's
# token taken. Logs go to STATE_DIR.
courier_auth_acquire() {
  local st=$1 user=$2 pass=$3; shift 3
  mkdir -p "$COURIER_AUTH_DIR/users" "$st"
  (
    flock -w 60 9 || { echo "courier-auth: lock $COURIER_AUTH_LOCK busy" >&2; exit 1; }
    local rc=/etc/courier/authdaemonrc
    [ -f "$rc.peers-orig" ] || cp -p "$rc" "$rc.peers-orig"
    grep -q '^authmodulelist="authuserdb' "$rc" || sed -i 's/^authmodulelist="/authmodulelist="authuserdb /' "$rc"
    touch /etc/courier/userdb; chmod 600 /etc/courier/userdb
    /usr/sbin/userdb "$user" del >/dev/null 2>&1 || true
    /usr/sbin/userdb "$user" set "$@"
    echo "$pass" | /usr/sbin/userdbpw -md5 | /usr/sbin/userdb "$user" set systempw
    /usr/sbin/makeuserdb
    # A daemon not started here (the system's, from the package) may lack authuserdb: ours replaces its socket.
    if ! courier_auth_ours_alive || ! courier_auth_answers; then
      mkdir -p /run/courier/authdaemon
      chown daemon:daemon /run/courier/authdaemon 2>/dev/null || true
      # A stopped authdaemond leaves its socket file behind: waiting for the file alone would let
      # the first login in before the daemon listens ("authdaemon: s_connect() failed").
      rm -f "$COURIER_AUTH_SOCKET" "$COURIER_AUTH_SOCKET.lock"
      # (9>&-: the daemon must not inherit the lock.)
      setsid /usr/lib/courier/courier-authlib/authdaemond >>"$st/authdaemond.log" 2>&1 </dev/null 9>&- &
      echo $! > "$COURIER_AUTH_DIR/authdaemond.pid"
      for i in $(seq 100); do courier_auth_answers && break; sleep 0.1; done
      courier_auth_answers || { echo "authdaemond did not come up, see $st/authdaemond.log" >&2; exit 1; }
    fi
    echo "$st" > "$(courier_auth_token "$st")"
  ) 9>"$COURIER_AUTH_LOCK"
}

# courier_auth_release STATE_DIR: this peer's token given back; authdaemond stopped when it was
# the last (only the daemon these scripts started, by its pid file).
courier_auth_release() {
  local st=$1
  [ -d "$COURIER_AUTH_DIR/users" ] || return 0
  (
    flock -w 60 9 || exit 0
    rm -f "$(courier_auth_token "$st")"
    [ -z "$(ls -A "$COURIER_AUTH_DIR/users")" ] || exit 0
    local f=$COURIER_AUTH_DIR/authdaemond.pid pid
    if courier_auth_ours_alive; then
      pid=$(cat "$f")
      kill "$pid"; for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      echo "stopped authdaemond ($pid)"
    fi
    rm -f "$f"
  ) 9>"$COURIER_AUTH_LOCK"
}
