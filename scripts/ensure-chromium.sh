#!/usr/bin/env bash
# Makes sure headless Chromium and its WebDriver are installed for the browser tests
# (tests/integration/browser.rs), installing Debian's `chromium` and `chromium-driver` when
# /usr/bin/chromedriver is missing. Idempotent: a second run only checks. Needs root (CI is).
set -euo pipefail

if [ -x /usr/bin/chromedriver ] && [ -x /usr/bin/chromium ]; then
  echo "Chromium is installed: $(/usr/bin/chromium --version 2>/dev/null || echo unknown version)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ERROR: chromium/chromium-driver are missing and installing them needs root" >&2
  echo "       (run: sudo apt-get install chromium chromium-driver)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "installing chromium and chromium-driver from Debian" >&2
# A stale package list is the usual reason an install fails on a fresh machine: retry once
# after refreshing it.
apt-get update -qq
if ! apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi

if [ ! -x /usr/bin/chromedriver ]; then
  echo "ERROR: /usr/bin/chromedriver is still missing after installing chromium-driver" >&2
  exit 1
fi
echo "Chromium is installed: $(/usr/bin/chromium --version 2>/dev/null || echo unknown version)"
