#!/usr/bin/env bash
# Checks dist/systemd/roster.service with `systemd-analyze verify`, against the binary
# just built (ROSTER_BINARY, $1) in place of /usr/local/bin/roster. Exits 77 (skipped)
# where systemd-analyze is absent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=${1:?usage: verify.sh ROSTER_BINARY}
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIPPED: systemd-analyze is not installed (Debian: systemd); the unit was not verified"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s|/usr/local/bin/roster|$binary|" "$here/roster.service" >"$work/roster.service"
# verify prints problems and exits non-zero on errors; warnings count as failures too.
out=$(systemd-analyze verify --man=no "$work/roster.service" 2>&1) || { echo "$out"; exit 1; }
if [[ -n "$out" ]]; then
  # Missing documentation targets and the unprivileged run's own notices are not the unit's.
  problems=$(grep -v -e "Documentation=" -e "Failed to connect to bus" -e "Cannot add dependency job" <<<"$out" || true)
  if [[ -n "$problems" ]]; then
    echo "$problems"
    exit 1
  fi
fi
echo "roster.service verified"
