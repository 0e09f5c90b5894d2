#!/usr/bin/env bash
# The OpenAPI checks ctest runs (tests/integration/CMakeLists.txt):
#   run.sh start FILE     empty FILE: the integration tests record their responses into it
#   run.sh validate FILE  check every recorded response against its API's document, then
#                         remove FILE (so a test binary run outside ctest records nothing)
#   run.sh lint           @redocly/cli lint of every document
# Exit 77 (skipped) when node is not installed; run scripts/sdk-setup.sh first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
# The APIs with a document; PingOne and CommCare join with theirs.
docs=()
for api in catalyze quickblox scim; do docs+=("$api=$root/src/dialects/$api/openapi.json"); done

case "${1:-}" in
  start)
    : >"$2"
    exit 0
    ;;
esac
if ! command -v node >/dev/null 2>&1; then
  echo "node is not installed: run scripts/sdk-setup.sh" >&2
  exit 77
fi
if [[ ! -d "$here/node_modules/ajv" || ! -d "$here/node_modules/@redocly/cli" ]]; then
  echo "tests/sdk/openapi is not installed: run scripts/sdk-setup.sh" >&2
  exit 1
fi
case "${1:-}" in
  validate)
    status=0
    node "$here/validate.mjs" "$2" "${docs[@]}" || status=$?
    rm -f "$2"
    exit "$status"
    ;;
  lint)
    files=()
    for d in "${docs[@]}"; do files+=("${d#*=}"); done
    cd "$here"
    exec node_modules/.bin/redocly lint --config redocly.yaml --format stylish "${files[@]}"
    ;;
  *)
    echo "usage: run.sh start FILE | validate FILE | lint" >&2
    exit 2
    ;;
esac
