#!/usr/bin/env bash
# Question-embedding latency of the vendored e5 engine, before/after in one run:
# compiles scripts/bench/e5-question.c against this checkout's e5.c and against
# e5.c at REV (default HEAD~1), with the flags build.rs uses for the AVX2 copy,
# and runs them alternately (the machine is shared: compare within one run).
#   scripts/bench-e5-question.sh [REV] [QUESTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:-HEAD~1}"; n="${2:-100}"
model=models/multilingual-e5-small/e5-small-q4.bin
[ -f "$model" ] || { echo "no $model: run scripts/fetch-models.sh" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
git show "$rev:crates/frontdesk-embed/csrc/e5.c" > "$tmp/before.c"
cflags=(-O3 -std=c11 -mavx2 -mfma -D_GNU_SOURCE -Icrates/frontdesk-embed/csrc -w)
cc "${cflags[@]}" scripts/bench/e5-question.c "$tmp/before.c" -lm -o "$tmp/before"
cc "${cflags[@]}" scripts/bench/e5-question.c crates/frontdesk-embed/csrc/e5.c -lm -o "$tmp/after"
for round in 1 2; do
  printf 'round %s  before (%s): ' "$round" "$rev"; "$tmp/before" "$model" "$n"
  printf 'round %s  after (work tree): ' "$round"; "$tmp/after" "$model" "$n"
done
