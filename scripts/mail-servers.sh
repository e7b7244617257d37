#!/usr/bin/env bash
# Real mail servers on loopback for the tests of crates/frontdesk-mail (and of any
# crate that talks to mail): Dovecot for IMAP, an aiosmtpd sink for SMTP.
#
#   scripts/mail-servers.sh start   <dir>             start both, write <dir>/ports.env
#   scripts/mail-servers.sh stop    <dir>             stop both (idempotent)
#   scripts/mail-servers.sh deliver <dir> <file.eml>  put one message into the INBOX
#   scripts/mail-servers.sh status  <dir>             exit 0 when both are running
#   scripts/mail-servers.sh doveadm <dir> ARGS...     doveadm with this instance's config
#                                  (e.g. doveadm <dir> search -u support@example.test mailbox INBOX SEEN)
#
# Everything lives in <dir>: a private dovecot.conf (never /etc/dovecot), a self-signed
# certificate for localhost/127.0.0.1, a passwd-file with one user, its Maildir, the
# sockets (base_dir), logs and pids; so any number of instances can run side by side.
#
# <dir>/ports.env (shell syntax, KEY=value):
#   IMAP_PORT   IMAP, plain with STARTTLS      IMAPS_PORT  IMAP over implicit TLS
#   SMTP_PORT   SMTP, plain with STARTTLS      SMTPS_PORT  SMTP over implicit TLS
#   MAIL_USER / MAIL_PASSWORD (IMAP login and SMTP AUTH), SMTP_AUTH_USER / SMTP_AUTH_PASSWORD,
#   CERT_FILE (PEM of the self-signed certificate), SMTP_OUT (the sink's output folder)
#
# The SMTP sink writes every accepted message to <dir>/smtp-out/ as two files:
#   NNNNNN.eml  the DATA, byte for byte
#   NNNNNN.env  envelope: first line the MAIL FROM address (empty for <>), then one line
#               per RCPT TO
# (.env is written last, by rename, so a reader that sees it sees the whole message).
# It answers RCPT TO reject@<any> with 550 and busy@<any> with 451. AUTH PLAIN/LOGIN is
# offered on the plain connection (loopback testing) and checked; it is required only
# when SMTP_AUTH_REQUIRED=1 is set at start. IMAP_NO_IDLE=1 at start: Dovecot does not
# announce IDLE (to test a client's polling fallback).
#
# Missing software: dovecot-imapd is installed with apt-get and aiosmtpd with pip (or
# Debian's python3-aiosmtpd when pip refuses a system Python) when
# running as root (as in CI); otherwise start fails with exit code 3 and a message
# saying what is missing (the Rust harness turns that into a SKIP, or a failure in CI).
#
# MAIL_SERVERS_OWNER_PID=<pid> at start: a watchdog stops the servers when that
# process is gone (a test binary killed before its destructors ran), and then also
# removes <dir> when MAIL_SERVERS_REMOVE_DIR=1.
set -euo pipefail

MAIL_USER_NAME="support@example.test"
MAIL_USER_PASSWORD="password"

die() { echo "mail-servers: $*" >&2; exit 1; }
missing() { echo "mail-servers: MISSING: $*" >&2; exit 3; }
log() { echo "mail-servers: $*" >&2; }

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
script_path="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"

find_dovecot() {
  local d
  for d in "$(command -v dovecot 2>/dev/null || true)" /usr/sbin/dovecot /usr/local/sbin/dovecot; do
    if [ -n "$d" ] && [ -x "$d" ]; then echo "$d"; return 0; fi
  done
  return 1
}

find_doveadm() {
  local d
  for d in "$(command -v doveadm 2>/dev/null || true)" /usr/bin/doveadm /usr/local/bin/doveadm; do
    if [ -n "$d" ] && [ -x "$d" ]; then echo "$d"; return 0; fi
  done
  return 1
}

# Prints the first Python that has aiosmtpd (its real executable, past any pyenv shim);
# else prints the first Python there is and fails.
python_bin() {
  local p first="" real
  for p in "$(command -v python3 2>/dev/null || true)" /usr/bin/python3 \
    "$(command -v python 2>/dev/null || true)"; do
    [ -n "$p" ] && [ -x "$p" ] || continue
    [ -n "$first" ] || first=$p
    if real=$("$p" -c 'import sys, aiosmtpd; print(sys.executable)' 2>/dev/null) && [ -n "$real" ]; then
      echo "$real"
      return 0
    fi
  done
  echo "${first:-python3}"
  return 1
}

# Installs are serialised: parallel tests may all call start at once.
with_install_lock() {
  local lock="${TMPDIR:-/tmp}/frontdesk-mail-servers-install.lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w 600 "$lock" "$@"
  else
    "$@"
  fi
}

install_dovecot() {
  find_dovecot >/dev/null && return 0
  log "installing dovecot-imapd with apt-get"
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    dovecot-imapd openssl >/dev/null
}

install_aiosmtpd() {
  local py
  py=$(python_bin) && return 0
  log "installing aiosmtpd with pip"
  if "$py" -m pip install --quiet --disable-pip-version-check aiosmtpd >/dev/null; then
    return 0
  fi
  # A Debian Python refuses pip (externally managed): take Debian's package instead.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing python3-aiosmtpd with apt-get"
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      python3-aiosmtpd >/dev/null
  else
    return 1
  fi
}

ensure_software() {
  if ! find_dovecot >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      with_install_lock bash "$script_path" __install dovecot "$dir" || missing "dovecot (apt-get install dovecot-imapd failed)"
    fi
    find_dovecot >/dev/null || missing "dovecot (Debian package dovecot-imapd; run as root to install it)"
  fi
  command -v openssl >/dev/null 2>&1 || missing "openssl"
  if ! PY=$(python_bin); then
    if [ "$(id -u)" = 0 ] || [ "${CI:-}" = "true" ]; then
      with_install_lock bash "$script_path" __install aiosmtpd "$dir" || missing "aiosmtpd (pip install aiosmtpd failed)"
    fi
    PY=$(python_bin) || missing "aiosmtpd (pip install aiosmtpd)"
  fi
}

# N free TCP ports on 127.0.0.1, all held at once while choosing so they differ.
free_ports() {
  "$PY" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_ports() {
  local deadline=$((SECONDS + 15)) p
  for p in "$@"; do
    until port_open "$p"; do
      [ $SECONDS -lt $deadline ] || return 1
      sleep 0.05
    done
  done
}

# Running and not a zombie (an init that does not reap leaves those behind).
pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  case "$(ps -o stat= -p "$1" 2>/dev/null || true)" in
    Z*) return 1 ;;
  esac
  return 0
}

write_dovecot_conf() {
  local imap_port=$1 imaps_port=$2
  local internal_user login_user mail_uid mail_gid
  if [ "$(id -u)" = 0 ]; then
    # As root (CI): Dovecot's own unprivileged users when the package made them; the
    # mailbox belongs to nobody, since Dovecot refuses mail access as uid 0.
    if getent passwd dovecot >/dev/null; then internal_user=dovecot; else internal_user=nobody; fi
    if getent passwd dovenull >/dev/null; then login_user=dovenull; else login_user=nobody; fi
    mail_uid=$(id -u nobody)
    mail_gid=$(id -g nobody)
  else
    # As an ordinary user every process runs as that user.
    internal_user=$(id -un)
    login_user=$(id -un)
    mail_uid=$(id -u)
    mail_gid=$(id -g)
  fi

  echo "$MAIL_USER_NAME:{PLAIN}$MAIL_USER_PASSWORD:$mail_uid:$mail_gid::$dir/mail/support::" >"$dir/users"

  cat >"$dir/dovecot.conf" <<EOF
# Private Dovecot for tests, generated by scripts/mail-servers.sh. Not /etc/dovecot.
instance_name = frontdesk-test-$(basename "$dir")
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
debug_log_path = $dir/dovecot.log
protocols = imap
listen = 127.0.0.1
shutdown_clients = yes

default_internal_user = $internal_user
default_internal_group = $(id -gn "$internal_user")
default_login_user = $login_user
first_valid_uid = $mail_uid
last_valid_uid = $mail_uid
first_valid_gid = 0

ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
ssl_min_protocol = TLSv1.2

# Plain-text LOGIN over the non-TLS port is fine on loopback and needed by the tests.
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_cache_size = 0
auth_failure_delay = 0

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $dir/users
}

mail_location = maildir:~/Maildir
mail_privileged_group =
namespace inbox {
  inbox = yes
}
$(if [ "${IMAP_NO_IDLE:-0}" = 1 ]; then
  echo "# IMAP_NO_IDLE=1: a server that does not announce IDLE (poll fallback tests)."
  echo "imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ UIDPLUS"
fi)
# Notice new mail at once (inotify), and check at least every second.
mailbox_idle_check_interval = 1 secs
imap_idle_notify_interval = 1 mins

service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $imaps_port
    ssl = yes
  }
  process_min_avail = 0
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
service submission-login {
  inet_listener submission {
    port = 0
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0600
  }
}
service imap-urlauth-login {
  inet_listener imap-urlauth {
    port = 0
  }
}
service managesieve-login {
  inet_listener sieve {
    port = 0
  }
}
service anvil {
  chroot =
}
service auth {
  unix_listener auth-userdb {
    mode = 0666
  }
}
service doveadm {
  inet_listener {
    port = 0
  }
}
EOF
}

write_smtp_sink() {
  cat >"$dir/smtp_sink.py" <<'EOF'
"""SMTP sink for tests (generated by scripts/mail-servers.sh).

argv: <dir> <smtp_port> <smtps_port> <user> <password> <auth_required 0|1>
"""
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

out_dir_root, port, sport, user, password, auth_required = sys.argv[1:7]
out_dir = os.path.join(out_dir_root, "smtp-out")
os.makedirs(out_dir, exist_ok=True)
lock = threading.Lock()
counter = [0]


def next_name():
    with lock:
        counter[0] += 1
        return "%06d" % counter[0]


class Sink:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local == "reject":
            return "550 5.1.1 <%s>: mailbox unavailable (test sink rejects it)" % address
        if local == "busy":
            return "451 4.3.0 <%s>: try again later (test sink is busy for it)" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = next_name()
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        eml = os.path.join(out_dir, name + ".eml")
        env = os.path.join(out_dir, name + ".env")
        with open(eml + ".tmp", "wb") as f:
            f.write(data)
        os.rename(eml + ".tmp", eml)
        with open(env + ".tmp", "w", encoding="utf-8") as f:
            sender = envelope.mail_from or ""
            f.write(("" if sender == "<>" else sender) + "\n")
            for r in envelope.rcpt_tos:
                f.write(r + "\n")
        os.rename(env + ".tmp", env)
        return "250 OK queued as " + name


def authenticator(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword):
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)
    return AuthResult(success=False, handled=False)


ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(os.path.join(out_dir_root, "cert.pem"), os.path.join(out_dir_root, "key.pem"))

common = dict(
    hostname="127.0.0.1",
    server_hostname="localhost",
    authenticator=authenticator,
    auth_required=auth_required == "1",
    auth_require_tls=False,
    data_size_limit=64 * 1024 * 1024,
)
plain = Controller(Sink(), port=int(port), tls_context=ctx, **common)
implicit = Controller(Sink(), port=int(sport), ssl_context=ctx, **common)
plain.start()
implicit.start()

signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
signal.signal(signal.SIGINT, lambda *_: os._exit(0))
print("smtp sink ready on %s (STARTTLS) and %s (TLS)" % (port, sport), flush=True)
while True:
    threading.Event().wait(3600)
EOF
}

do_stop() {
  [ -d "$dir" ] || return 0
  local p pg
  for f in watchdog.pid smtp.pid; do
    p=$(cat "$dir/$f" 2>/dev/null || true)
    # The watchdog may be the one calling stop: never signal ourselves.
    if pid_alive "$p" && [ "$p" != "$$" ]; then kill -KILL "$p" 2>/dev/null || true; fi
    rm -f "$dir/$f"
  done
  p=$(cat "$dir/run/master.pid" 2>/dev/null || true)
  if pid_alive "$p"; then
    # Dovecot's master leads its own process group (it calls setsid); a graceful
    # shutdown takes seconds, and nothing of a test server needs to survive, so the
    # whole group (master, auth, login and imap processes) is killed at once.
    pg=$(ps -o pgid= -p "$p" 2>/dev/null | tr -d ' ' || true)
    if [ -n "$pg" ] && [ "$pg" = "$p" ]; then
      kill -KILL -- "-$pg" 2>/dev/null || true
    else
      kill -KILL "$p" 2>/dev/null || true
    fi
    local i
    for i in $(seq 1 50); do pid_alive "$p" || break; sleep 0.02; done
  fi
  rm -f "$dir/run/master.pid"
}

do_start() {
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # Unix socket paths are limited to 108 bytes; Dovecot's longest is about 40 below base_dir.
  [ ${#dir} -le 60 ] || die "directory path too long for Dovecot's sockets (${#dir} > 60): $dir"
  ensure_software
  local dovecot
  dovecot=$(find_dovecot)

  if [ "$(id -u)" = 0 ]; then
    # Dovecot's unprivileged processes must reach the config, sockets and Maildir.
    chmod 0755 "$dir"
  fi
  mkdir -p "$dir/run" "$dir/state" "$dir/mail/support/Maildir"/{cur,new,tmp} "$dir/smtp-out"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1 \
    || die "openssl could not make a certificate"
  chmod 0600 "$dir/key.pem"
  write_smtp_sink
  if [ "$(id -u)" = 0 ]; then
    chown -R "$(id -u nobody):$(id -g nobody)" "$dir/mail"
  fi

  local attempt ports imap_port imaps_port smtp_port smtps_port
  for attempt in 1 2 3; do
    ports=$(free_ports 4)
    read -r imap_port imaps_port smtp_port smtps_port <<<"$ports"
    write_dovecot_conf "$imap_port" "$imaps_port"
    : >"$dir/dovecot.log"
    if ! "$dovecot" -c "$dir/dovecot.conf" >>"$dir/dovecot.log" 2>&1; then
      log "dovecot did not start (attempt $attempt):"
      tail -n 20 "$dir/dovecot.log" >&2 || true
      continue
    fi
    nohup "$PY" "$dir/smtp_sink.py" "$dir" "$smtp_port" "$smtps_port" \
      "$MAIL_USER_NAME" "$MAIL_USER_PASSWORD" "${SMTP_AUTH_REQUIRED:-0}" \
      </dev/null >"$dir/smtp.log" 2>&1 &
    echo $! >"$dir/smtp.pid"
    if wait_ports "$imap_port" "$imaps_port" "$smtp_port" "$smtps_port"; then
      cat >"$dir/ports.env" <<EOF
IMAP_PORT=$imap_port
IMAPS_PORT=$imaps_port
SMTP_PORT=$smtp_port
SMTPS_PORT=$smtps_port
MAIL_USER=$MAIL_USER_NAME
MAIL_PASSWORD=$MAIL_USER_PASSWORD
SMTP_AUTH_USER=$MAIL_USER_NAME
SMTP_AUTH_PASSWORD=$MAIL_USER_PASSWORD
CERT_FILE=$dir/cert.pem
SMTP_OUT=$dir/smtp-out
EOF
      if [ -n "${MAIL_SERVERS_OWNER_PID:-}" ]; then
        nohup bash -c '
          owner=$1; dir=$2; script=$3; remove=$4
          while kill -0 "$owner" 2>/dev/null && [ -f "$dir/ports.env" ]; do sleep 1; done
          rm -f "$dir/watchdog.pid"
          bash "$script" stop "$dir"
          if [ "$remove" = 1 ] && [ -f "$dir/ports.env" ]; then rm -rf "$dir"; fi
        ' mail-servers-watchdog "$MAIL_SERVERS_OWNER_PID" "$dir" "$script_path" \
          "${MAIL_SERVERS_REMOVE_DIR:-0}" \
          </dev/null >>"$dir/watchdog.log" 2>&1 &
        echo $! >"$dir/watchdog.pid"
      fi
      cat "$dir/ports.env"
      return 0
    fi
    log "servers did not open their ports (attempt $attempt)"
    tail -n 20 "$dir/dovecot.log" "$dir/smtp.log" >&2 || true
    do_stop
  done
  die "could not start the mail servers in $dir (see $dir/dovecot.log and $dir/smtp.log)"
}

do_deliver() {
  local file=$1
  [ -f "$file" ] || die "no such file: $file"
  dir=$(cd "$dir" && pwd)
  [ -f "$dir/dovecot.conf" ] || die "not started: $dir"
  local doveadm
  doveadm=$(find_doveadm) || die "doveadm not found"
  # doveadm save stores through Dovecot itself (as the mail user), so the message gets
  # its UID at once and IDLE sessions are told about it.
  "$doveadm" -c "$dir/dovecot.conf" save -u "$MAIL_USER_NAME" -m INBOX <"$file"
}

case "$cmd" in
  start) do_start ;;
  stop) do_stop ;;
  deliver) [ $# -ge 3 ] || usage; do_deliver "$3" ;;
  status)
    p=$(cat "$dir/smtp.pid" 2>/dev/null || true); pid_alive "$p" || exit 1
    p=$(cat "$dir/run/master.pid" 2>/dev/null || true); pid_alive "$p" || exit 1
    ;;
  doveadm)
    shift 2
    dir=$(cd "$dir" && pwd)
    exec "$(find_doveadm)" -c "$dir/dovecot.conf" "$@"
    ;;
  __install)
    case "$dir" in
      dovecot) install_dovecot ;;
      aiosmtpd) install_aiosmtpd ;;
    esac
    ;;
  *) usage ;;
esac
