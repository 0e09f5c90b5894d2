#!/usr/bin/env bash
# Installs the Debian 12 packages Roster builds, runs and tests with. Installs only
# what is missing, so a second run is quick and needs no network.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git openssl ca-certificates curl
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev
  libsodium-dev libsqlite3-dev libpq-dev libicu-dev libcurl4-openssl-dev
  libspdlog-dev libcli11-dev libtomlplusplus-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(wrk python3 python3-aiosmtpd postgresql sqlite3 prometheus systemd)
  # The sanitizer and fuzzing build (scripts/fuzz.sh, docs/testing.md): clang 16 is the
  # oldest Debian clang that compiles libstdc++ 12's std::expected; libFuzzer comes with
  # its runtime libraries.
  packages+=(clang-16 libclang-rt-16-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
