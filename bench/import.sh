#!/usr/bin/env bash
# `roster import` rate (issue 14: >= 50,000 password-free users/s): a Release build
# imports USERS generated users (username, names, a primary email, an externalId; no
# password) into a fresh data directory, then exports them back, and prints users/s of
# each, the database bytes per user, and the import's peak RSS. SQLite by default;
# DATABASE=postgresql://... imports into that (empty) database instead.
# Knobs: USERS (100000), BATCH (500, users per transaction), ROSTER_BIN (use this binary
# instead of building one), DATABASE, BASELINE (1: also time bare SQLite inserting rows
# of the same shape; 0: skip).
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
# The baseline: bare SQLite (Python's sqlite3, the same schema, WAL, synchronous=FULL,
# BATCH users per transaction) inserting rows of the same shape as the import wrote: a
# users row with a sealed blob of the same mean size, and as many user_index rows per
# user of the same kinds, with random digests (keyed hashes look random), in the order
# the import writes them (users rows, then the batch's entries sorted by kind and digest).
baseline=
if [[ -z ${DATABASE:-} && ${BASELINE:-1} == 1 ]]; then
  baseline=$("$PY" - "$TMP/data/roster.db" "$TMP/baseline.db" "$BATCH" <<'PYEOF'
import os, sqlite3, sys, time, uuid
src, dst, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = sqlite3.connect(src)
users = s.execute("SELECT count(*), avg(length(sealed)) FROM users").fetchone()
n, sealed = users[0], int(users[1])
kinds = s.execute("SELECT kind, count(*), avg(length(digest)), min(is_unique) FROM user_index GROUP BY kind").fetchall()
env = s.execute("SELECT environment_id FROM users LIMIT 1").fetchone()[0]
schema = [r[0] for r in s.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]
s.close()
d = sqlite3.connect(dst, isolation_level=None)
d.execute("PRAGMA journal_mode=WAL"); d.execute("PRAGMA synchronous=FULL"); d.execute("PRAGMA foreign_keys=ON")
d.execute("PRAGMA cache_size=-262144")
for sql in schema: d.execute(sql)
d.execute("INSERT INTO environments VALUES (?, 'default', x'00', 0)", (env,))
per_user = [(k, c / n, int(l), u) for k, c, l, u in kinds]
t = time.time()
done = 0
while done < n:
    m = min(batch, n - done)
    d.execute("BEGIN IMMEDIATE")
    numbers = []
    for _ in range(m):
        cur = d.execute("INSERT INTO users(id, environment_id, active, created_at, updated_at, version, sealed) VALUES (?,?,1,0,0,1,?)",
                        (str(uuid.uuid4()), env, os.urandom(sealed)))
        numbers.append(cur.lastrowid)
    rows = []
    for k, share, length, unique in per_user:  # this kind's share of the batch's rows
        for j in range(round(share * m)): rows.append((env, k, os.urandom(length), numbers[j % m], unique))
    rows.sort(key=lambda r: (r[1], r[2]))
    d.executemany("INSERT INTO user_index(environment_id, kind, digest, user_number, is_unique) VALUES (?,?,?,?,?)", rows)
    d.execute("COMMIT")
    done += m
elapsed = time.time() - t
print(f"{n / elapsed:.0f} {elapsed:.2f} {d.execute('SELECT count(*) FROM user_index').fetchone()[0]}")
PYEOF
)
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
if [[ -n $baseline ]]; then
  read -r rate secs rows <<<"$baseline"
  echo "bare SQLite, the same rows ($rows index rows): $rate users/s ($secs s); import / bare = $("$PY" -c "import sys; print(round($imported / ($t1 - $t0) / $rate, 2))")"
fi
