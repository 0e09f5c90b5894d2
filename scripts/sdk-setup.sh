#!/usr/bin/env bash
# Prepares the SDK acceptance harnesses (tests/sdk/*): makes sure node and npm exist
# (Debian packages nodejs and npm) and installs each harness from its lockfile when its
# node_modules is missing or older than package-lock.json. Idempotent: a second
# run changes nothing and needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "installing: nodejs npm" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >&2
fi

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if (( node_major < 18 )); then
  echo "sdk-setup: node $(node --version) is too old; the harness needs node >= 18" >&2
  exit 1
fi

npm_version="10.9.2"
# tests/sdk/quickblox: the official QuickBlox JavaScript SDK; tests/sdk/scim: SCIMMY, the
# SCIM 2.0 reference implementation the SCIM conformance harness judges Roster by;
# tests/sdk/openapi: @redocly/cli (lint) and Ajv (response validation) for the OpenAPI
# documents; tests/sdk/pingone: Backstage's PingOne catalog importer, and Ajv, which
# validates the PingOne suite's responses against PingOne's own OpenAPI description;
# tests/sdk/commcare: oauth4webapi, a real OAuth 2 client for CommCare's OAuth2.
for sdk_dir in tests/sdk/quickblox tests/sdk/scim tests/sdk/openapi tests/sdk/pingone tests/sdk/commcare; do
  # npm writes node_modules/.package-lock.json at the end of every install, so its age is
  # the age of the install.
  stamp="$sdk_dir/node_modules/.package-lock.json"
  if [[ ! -f "$stamp" || "$sdk_dir/package-lock.json" -nt "$stamp" ]]; then
    echo "sdk-setup: npm ci in $sdk_dir" >&2
    # --ignore-scripts: nothing the harnesses load needs an install script (the only one,
    # an old ws's optional native build, falls back to plain JavaScript).
    # The install runs a pinned npm from the registry: Debian 12's npm (9.2) cannot apply
    # the package.json override of a dependency first asked for by URL (its arborist
    # fails "Invalid comparator" and `npm ci` then claims there is no lockfile).
    (cd "$sdk_dir" && npx --yes "npm@$npm_version" ci --no-audit --no-fund --ignore-scripts >&2)
    touch "$stamp"
  fi
done
