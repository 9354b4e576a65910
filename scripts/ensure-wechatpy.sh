#!/usr/bin/env bash
# Makes sure a Python with wechatpy (the independent WeChat implementation the integration tests
# check freshbot against) is available, and prints its path on the last line.
#   scripts/ensure-wechatpy.sh            venv at target/wechatpy-venv (created when missing)
#   FRESHBOT_WECHATPY_PYTHON=/path/python use that interpreter instead (installs into it if needed)
# Idempotent: when the packages are already importable it only checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(wechatpy==1.8.18 cryptography xmltodict)
check='import wechatpy, cryptography, xmltodict; from wechatpy.crypto import WeChatCrypto; assert wechatpy.__version__ == "1.8.18", wechatpy.__version__'

if [ -n "${FRESHBOT_WECHATPY_PYTHON:-}" ]; then
  py="$FRESHBOT_WECHATPY_PYTHON"
else
  venv="target/wechatpy-venv"
  py="$venv/bin/python"
  if [ ! -x "$py" ]; then
    base="$(command -v python3 || true)"
    if [ -z "$base" ]; then
      echo "ERROR: python3 not found: install it (apt-get install python3 python3-venv)" >&2
      exit 1
    fi
    echo "creating $venv" >&2
    if ! "$base" -m venv "$venv" >&2; then
      echo "ERROR: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
fi

if ! "$py" -c "$check" >/dev/null 2>&1; then
  echo "installing ${packages[*]} into $py" >&2
  "$py" -m pip install --quiet --disable-pip-version-check "${packages[@]}" >&2
  "$py" -c "$check"
fi
echo "wechatpy ready: $py" >&2
echo "$py"
