#!/usr/bin/env bash
# Debian packages the platform needs at run time and in its tests:
#   fonts-noto-cjk         Chinese glyphs for the contract and invoice PDFs
#   libharfbuzz-subset0    font subsetting (a Chinese PDF in ~0.3 s instead of ~10 s)
#   libpango-1.0-0 libpangoft2-1.0-0   WeasyPrint's text layout
#   poppler-utils          pdftotext, used by the tests to read rendered PDFs
#   chromium               the real browser of the browser tests (tests/browser; Playwright drives it,
#                          never downloading a browser of its own)
# Installed when missing and running as root; otherwise we say what to install.
set -euo pipefail

packages=(fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 poppler-utils chromium)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: not a Debian system; please install: ${missing[*]}" >&2
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing Debian packages: ${missing[*]}" >&2
  echo "system-deps: run 'sudo apt-get install -y ${missing[*]}' (PDFs need them; the rest works)" >&2
  exit 0
fi

echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}
