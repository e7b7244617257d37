#!/usr/bin/env bash
# Rebuild the evaluation sets in eval/sets/ from pinned Debian packages.
#   scripts/build-eval-sets.sh            # every set
#   scripts/build-eval-sets.sh harden     # one set (the derived *-only sets are always rebuilt)
# Needs python3, apt-get (with `apt-get update` done) and dpkg-deb. Downloads go to
# $EVAL_CACHE (default /tmp/frontdesk-eval-cache); each .deb is checked against its sha256.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in python3 dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "build-eval-sets: error: $tool is required" >&2; exit 1; }
done
python3 scripts/eval-sets/build.py "$@"
# Single-language help centres derived from them (eval/sets/*-only).
python3 scripts/eval-sets/derive.py
