#!/usr/bin/env bash
# The Debian packages the test suite needs: PostgreSQL 15 (the second database), Chromium (browser tests),
# CJK fonts (screenshots and certificate PDFs), gettext (compilemessages) and Pango (WeasyPrint).
# Installs what is missing when it can (root with apt-get); otherwise prints the one command to run.
# Called by `make test` and by `.ci/run`, so a fresh Debian machine needs nothing by hand.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need[@]}"
else
  echo "The tests need these Debian packages: ${need[*]}" >&2
  echo "Install them with:  sudo apt-get install -y --no-install-recommends ${need[*]}" >&2
  exit 1
fi
