#!/usr/bin/env bash
# Fails when a dependency or an import points up the layers (ARCHITECTURE.md):
#
#   frontdesk (binary) → frontdesk-server (HTTP) → frontdesk-engine (help desk)
#     → frontdesk-agent (reply decision) → store, knowledge, embed, llm, channels,
#       mail, net (libraries) → frontdesk-core (domain rules)
#
# 1. Crates (from `cargo metadata`, normal and build dependencies): a crate may
#    depend only on crates of a lower layer; libraries of one layer do not
#    depend on each other, except those listed in SAME_LAYER_OK.
# 2. Sources: no `frontdesk_server` in the agent or the engine, no
#    `frontdesk_engine` in the agent (catches a path or a re-export the
#    manifests would not show).
# 3. Modules inside the server: only the API itself, the route table, the
#    OpenAPI document and startup may import `crate::api`; the console calls
#    the engine's services as the API does, and a module below them (auth,
#    errors, webhooks, assets…) must not import the API either.
set -euo pipefail
cd "$(dirname "$0")/.."

metadata="$(cargo metadata --format-version 1 --no-deps --offline 2>/dev/null || cargo metadata --format-version 1 --no-deps)"

python3 - "$metadata" <<'PY'
import json, sys

LAYER = {
    "frontdesk-core": 0,
    "frontdesk-net": 1, "frontdesk-store": 1, "frontdesk-knowledge": 1, "frontdesk-embed": 1,
    "frontdesk-llm": 1, "frontdesk-channels": 1, "frontdesk-mail": 1,
    "frontdesk-agent": 2,
    "frontdesk-engine": 3,
    "frontdesk-server": 4,
    "frontdesk": 5,
}
# Library pairs of one layer allowed to depend on each other (none today).
SAME_LAYER_OK = set()

meta = json.loads(sys.argv[1])
errors = []
for pkg in meta["packages"]:
    name = pkg["name"]
    if name not in LAYER:
        errors.append(f"{name}: not placed in a layer (add it to scripts/check-layers.sh and ARCHITECTURE.md)")
        continue
    for dep in pkg["dependencies"]:
        d = dep["name"]
        if d not in LAYER or d == name or dep.get("kind") == "dev":
            continue
        if LAYER[d] > LAYER[name] or (LAYER[d] == LAYER[name] and (name, d) not in SAME_LAYER_OK):
            errors.append(f"{name} depends on {d}: a dependency must point down the layers")
    # Test-only dependencies may reach helpers of the same or lower layers, never up.
    for dep in pkg["dependencies"]:
        d = dep["name"]
        if dep.get("kind") == "dev" and d in LAYER and d != name and LAYER[d] > LAYER[name]:
            errors.append(f"{name} (dev) depends on {d}: tests may not reach an upper layer")
for e in errors:
    print(f"layer check: {e}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY

fail=0
report() { echo "layer check: $*" >&2; fail=1; }

# 2. Imports of an upper crate in the sources.
# Comment lines (`//`, `//!`, `///`) are not imports.
code_hits() { grep -rnE "$@" | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' || true; }
if hits="$(code_hits '\bfrontdesk_server\b' crates/frontdesk-agent crates/frontdesk-engine --include=*.rs)" && [ -n "$hits" ]; then
  report "the agent or the engine names the HTTP crate:"$'\n'"$hits"
fi
if hits="$(code_hits '\bfrontdesk_engine\b' crates/frontdesk-agent --include=*.rs)" && [ -n "$hits" ]; then
  report "the agent names the engine (the engine calls the agent, not the other way):"$'\n'"$hits"
fi

# 3. Inside the server, only the API, the route table, OpenAPI and startup import crate::api.
server=crates/frontdesk-server/src
while IFS= read -r file; do
  rel="${file#"$server"/}"
  case "$rel" in
    api/*|routes.rs|openapi.rs|startup.rs|lib.rs) continue ;;
  esac
  if hits="$(grep -nE '\bcrate::api\b|\bsuper::api\b' "$file" | grep -vE '^[0-9]+:[[:space:]]*//')"; then
    report "$rel imports crate::api (call the engine's service instead):"$'\n'"$hits"
  fi
done < <(find "$server" -name '*.rs' | sort)

if [ "$fail" -ne 0 ]; then
  exit 1
fi
echo "layer check: ok"
