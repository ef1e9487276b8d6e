#!/usr/bin/env bash
# Makes sure Debian's Chromium and ChromeDriver are installed, for the web UI's tests in a
# real browser (scripts/test.sh runs it). Safe to run again: it only installs what is missing.
# Nothing is started here: each browser test starts its own chromedriver and stops it.
set -euo pipefail

say() { echo "browser-up: $*"; }
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    say "chromium and chromedriver are installed"
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "browser-up: error: /usr/bin/chromium or /usr/bin/chromedriver is missing; install Debian's chromium and chromium-driver packages (as root: apt-get install chromium chromium-driver)" >&2
    exit 1
fi
say "installing chromium and chromium-driver"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || true
apt-get install -y -q chromium chromium-driver >/dev/null
say "installed: $(/usr/bin/chromedriver --version 2>/dev/null | head -1)"
