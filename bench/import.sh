#!/usr/bin/env bash
# `roster import` rate (issue 14: >= 50,000 password-free users/s): a Release build
# imports USERS generated users (username, names, a primary email, an externalId; no
# password) into a fresh data directory, then exports them back, and prints users/s of
# each, the database bytes per user, and the import's peak RSS. SQLite by default;
# DATABASE=postgresql://... imports into that (empty) database instead.
# Knobs: USERS (100000), BATCH (500, users per transaction), ROSTER_BIN (use this binary
# instead of building one), DATABASE.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
USERS=${USERS:-100000}
BATCH=${BATCH:-500}
BUILD=build-release
PY=/usr/bin/python3

if [[ -z ${ROSTER_BIN:-} ]]; then
  log=$(cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DROSTER_BUILD_TESTS=OFF 2>&1) ||
    { echo "$log" >&2; exit 1; }
  ninja -C "$BUILD" -j2 roster
  ROSTER_BIN=$ROOT/$BUILD/src/cli/roster
fi

TMP=$(mktemp -d -t roster-import-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

"$PY" - "$USERS" "$TMP/users.jsonl" <<'PYEOF'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
given = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John"]
family = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus"]
with open(path, "w") as f:
    for i in range(n):
        g, fa = given[i % 8], family[(i // 8) % 8]
        f.write(json.dumps({"userName": f"user{i:07d}", "externalId": f"ext-{i}", "active": True,
                            "name": {"givenName": g, "familyName": fa}, "displayName": f"{g} {fa} {i}",
                            "emails": [{"value": f"user{i}@example.com", "type": "work", "primary": True}]}) + "\n")
PYEOF

init=("$ROSTER_BIN" init --data-dir "$TMP/data" --json)
[[ -n ${DATABASE:-} ]] && init+=(--database "$DATABASE")
"${init[@]}" >/dev/null

now() { date +%s.%N; }
t0=$(now)
/usr/bin/time -f '%M' -o "$TMP/rss" "$ROSTER_BIN" import --env default "$TMP/users.jsonl" --batch-size "$BATCH" \
  --data-dir "$TMP/data" --no-progress --json >"$TMP/import.json"
t1=$(now)
"$ROSTER_BIN" export --env default --out "$TMP/out.jsonl" --data-dir "$TMP/data" --json 2>/dev/null >/dev/null
t2=$(now)
imported=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["imported"])' "$TMP/import.json")
exported=$(wc -l <"$TMP/out.jsonl")
bytes=0
if [[ -z ${DATABASE:-} ]]; then
  "$PY" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("PRAGMA wal_checkpoint(TRUNCATE)")' "$TMP/data/roster.db"
  bytes=$(stat -c %s "$TMP/data/roster.db")
fi
"$PY" - "$imported" "$exported" "$t0" "$t1" "$t2" "$bytes" "$(cat "$TMP/rss")" "$BATCH" "${DATABASE:-sqlite}" <<'PYEOF'
import sys
imported, exported = int(sys.argv[1]), int(sys.argv[2])
t0, t1, t2 = map(float, sys.argv[3:6])
size, rss_kib, batch, store = int(sys.argv[6]), int(sys.argv[7]), sys.argv[8], sys.argv[9]
store = "postgresql" if store.startswith("postgres") else store
print(f"store {store}, batch {batch}")
print(f"import: {imported} users in {t1 - t0:.2f} s = {imported / (t1 - t0):,.0f} users/s (peak RSS {rss_kib / 1024:.0f} MiB)")
print(f"export: {exported} users in {t2 - t1:.2f} s = {exported / (t2 - t1):,.0f} users/s")
if size:
    print(f"database: {size / imported:,.0f} bytes per user")
PYEOF
