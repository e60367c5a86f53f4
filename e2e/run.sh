#!/usr/bin/env bash
# End-to-end tests of the tessera binary (target/debug/tessera, or $TESSERA_BIN) with Node's test
# runner: a real OpenID Connect relying party (openid-client) and headless Chromium (playwright-core,
# driving the system Chromium: /usr/bin/chromium, or $CHROMIUM). Screenshots go to e2e/artifacts/.
# Build the binary first (cargo build -p tessera-server, or whatever builds target/debug/tessera).
set -euo pipefail
cd "$(dirname "$0")"

bin="${TESSERA_BIN:-../target/debug/tessera}"
if [[ ! -x "$bin" ]]; then
  echo "e2e: no tessera binary at $bin: build it first (cargo build), or set TESSERA_BIN" >&2
  exit 1
fi

chromium="${CHROMIUM:-/usr/bin/chromium}"
apt_updated=
apt_install() {
  [[ -n "$apt_updated" ]] || { apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}
if [[ ! -x "$chromium" ]]; then
  if [[ "$chromium" == /usr/bin/chromium && "$(id -u)" == 0 ]]; then
    echo "e2e: installing Debian's chromium"
    apt_install chromium
  else
    echo "e2e: Chromium not found at $chromium: install it (apt-get install chromium, as root)" \
      "or set CHROMIUM to a Chromium binary" >&2
    exit 1
  fi
fi
# A CJK font, or the zh_CN screenshot shows boxes instead of Chinese (the tests pass either way).
if command -v fc-list >/dev/null && [[ -z "$(fc-list :lang=zh 2>/dev/null)" ]]; then
  if [[ "$(id -u)" == 0 ]]; then
    echo "e2e: installing a CJK font (fonts-wqy-zenhei) for the screenshots"
    apt_install fonts-wqy-zenhei || echo "e2e: warning: no CJK font; the zh_CN screenshot will show boxes" >&2
  else
    echo "e2e: warning: no CJK font installed; the zh_CN screenshot will show boxes" >&2
  fi
fi

npm ci --no-audit --no-fund
node --test
