#!/usr/bin/env bash
# Scale (issue 14): fills one SQLite directory through `roster import` to each size in
# SIZES (10,000, then 1,000,000; USERS caps the largest) and at each size serves it and
# measures, through PingOne (a worker app's token, one keep-alive connection):
#   GET /users/{id} p50/p99 over SAMPLES random users
#   the first list page (GET /users?limit=100) p50/p99, and the deepest (a keyset cursor)
#   filter=email eq "<a user's email>" p50/p99
#   filter=name.family sw "<prefix>": requests and ms to the first hit and to the full
#     result (following _links.next), for a prefix shared by ~ size/8000 users
#   the import rate of the fill (users/s), the server's RSS after the measurements (and
#     its peak), the database bytes per user (after a WAL checkpoint)
# and last the ratios of the largest size to the first. The load average is printed
# with each size (the machine is shared).
#   filter=name.family sw "<prefix>"&limit=1 p50/p99 over SAMPLES users' prefixes: the
#     first hit alone, the same work at every size
# and, for the two lists that page by position, the first page and the deepest p50/p99
# (SAMPLES each; a SCIM token and a QuickBlox app's API key, made once like the PingOne app):
#   SCIM   GET /scim/v2/Users?startIndex=1&count=100, and startIndex=<size-99>&count=100
#   QuickBlox GET /users.json?page=1&per_page=100, and page=<ceil(size/100)>&per_page=100
# GET by id is timed over GET_SAMPLES other random users (10 x SAMPLES): its p99 over 300
# is the third-slowest request, too few for a ratio of p99s.
# BASE_BIN: another build (e.g. main's before a change) serves the same directory at each
# size and is measured the same way, right after ROSTER_BIN: its figures print as "base"
# lines, and the ratios are given for both.
# BASE_BIN runs first, so ROSTER_BIN may migrate the directory after it (a base that does
# not know the directory's migrations cannot open it: fill with the older one).
# DROP_CACHES=1 (root): empties the kernel's page cache before each server starts, so
# every binary starts from disk (a directory larger than memory; otherwise the second
# binary reads what the first brought in).
# REUSE=<a directory KEEP=1 left>: no fill; measures the users it holds (BASE_BIN, then
# ROSTER_BIN) with a new PingOne app, SCIM token and QuickBlox app, and keeps it.
# Knobs: USERS (1000000), SIZES ("10000 $USERS"), SAMPLES (300), GET_SAMPLES, BATCH (import
# --batch-size; the import's default when empty), ROSTER_BIN (skip the build), BASE_BIN,
# KEEP (1: leave the filled directory behind and print where), REUSE.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"
USERS=${USERS:-1000000}
SIZES=${SIZES:-"10000 $USERS"}
SAMPLES=${SAMPLES:-300}
GET_SAMPLES=${GET_SAMPLES:-$((SAMPLES * 10))}
BASE_BIN=${BASE_BIN:-}
BATCH=${BATCH:-}
PY=/usr/bin/python3

roster_bench_build
REUSE=${REUSE:-}
if [[ -n $REUSE ]]; then
  TMP=$REUSE
  KEEP=1
else
  TMP=$(mktemp -d -t roster-scale-bench.XXXXXX)
fi
if [[ ${KEEP:-0} == 1 ]]; then
  trap 'roster_bench_stop; echo "# kept $TMP"' EXIT
else
  trap 'roster_bench_stop; rm -rf "$TMP"' EXIT
fi
DATA=$TMP/data
if [[ -n $REUSE ]]; then
  SIZES=$("$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM users").fetchone()[0])' "$DATA/roster.db")
  USERS=$SIZES
  # The oldest binary makes the apps and the token, so every one can read them.
  MAKER=${BASE_BIN:-$ROSTER_BIN}
else
  "$ROSTER_BIN" init --data-dir "$DATA" --json >/dev/null
  MAKER=$ROSTER_BIN
fi
P1=$("$MAKER" pingone app create --env default --data-dir "$DATA" --json)
SCIM_TOKEN=$("$MAKER" scim token create --env default --data-dir "$DATA" --json |
  "$PY" -c 'import json,sys; print(json.load(sys.stdin)["token"])')
QB_KEY=$("$MAKER" quickblox app create --env default --data-dir "$DATA" --json |
  "$PY" -c 'import json,sys; print(json.load(sys.stdin)["apiKey"])')
echo "# roster scale bench: sizes $SIZES (capped at $USERS), $SAMPLES samples per query, $(nproc) cores"
echo "# binary $ROSTER_BIN${BASE_BIN:+, base $BASE_BIN}"

# gen FROM TO FILE: users FROM..TO-1 as SCIM JSON Lines (the family name is one of
# 8,000 three-syllable names, so a 6-letter prefix names ~ 1 in 8,000 users).
gen() {
  "$PY" - "$1" "$2" "$3" <<'PY'
import json, sys
lo, hi, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
given = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John"]
syl = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fe", "gi", "ho", "ju", "ly", "po", "qi", "ze", "wu", "xa"]
def family(i):
    j = (i * 7919) % 8000
    return (syl[j // 400] + syl[(j // 20) % 20] + syl[j % 20]).capitalize()
with open(path, "w") as f:
    for i in range(lo, hi):
        g, fa = given[i % 8], family(i)
        f.write(json.dumps({"userName": f"user{i:07d}", "externalId": f"ext-{i}", "active": True,
                            "name": {"givenName": g, "familyName": fa}, "displayName": f"{g} {fa} {i}",
                            "emails": [{"value": f"user{i}@example.com", "type": "work", "primary": True}]}) + "\n")
PY
}

# measure BIN OUT SIZE: serves the directory with BIN and appends one row of figures to OUT.
measure() {
  local bin=$1 out=$2 size=$3
  if [[ ${DROP_CACHES:-0} == 1 ]]; then sync; echo 3 >/proc/sys/vm/drop_caches; fi
  ROSTER_BIN=$bin roster_bench_serve "$DATA" "$TMP/server" --throttle-per-address 0 --throttle-per-credential 0
  ENV_ID=$(printf '%s' "$P1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["environmentId"])')
  CLIENT=$(printf '%s' "$P1" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["clientId"] + ":" + d["clientSecret"])')
  TOKEN=$(curl -fsS -u "$CLIENT" -d grant_type=client_credentials "$URL/$ENV_ID/as/token" |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  ROSTER_TOKEN=$TOKEN ROSTER_SCIM_TOKEN=$SCIM_TOKEN ROSTER_QB_KEY=$QB_KEY "$PY" - "$URL" "$ENV_ID" "$size" "$SAMPLES" "$SERVER_PID" "$GET_SAMPLES" <<'PY' >>"$out"
import http.client, json, os, random, statistics, sys, time, urllib.parse
url, env, size, samples, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
get_samples = int(sys.argv[6])
host, port = urllib.parse.urlparse(url).hostname, urllib.parse.urlparse(url).port
c = http.client.HTTPConnection(host, port, timeout=600)
h = {"Authorization": "Bearer " + os.environ["ROSTER_TOKEN"]}
base = f"/v1/environments/{env}/users"
def get(path, headers=h):
    t = time.perf_counter()
    c.request("GET", path, headers=headers)
    r = c.getresponse(); body = r.read()
    ms = (time.perf_counter() - t) * 1e3
    if r.status != 200: sys.exit(f"GET {path}: {r.status} {body[:300]!r}")
    return json.loads(body), ms
def q(f): return base + "?limit=100&filter=" + urllib.parse.quote(f)
def pct(xs, p): xs = sorted(xs); return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
rnd = random.Random(7)
picks = [rnd.randrange(size) for _ in range(samples)]
# ids of other random users (by username, through the uniqueness claim), then GET by id.
get_rnd = random.Random(11)
ids = []
for _ in range(get_samples):
    d, _ = get(q(f'username eq "user{get_rnd.randrange(size):07d}"'))
    ids.append(d["_embedded"]["users"][0]["id"])
gets = [get(f"{base}/{uid}")[1] for uid in ids]
first = [get(base + "?limit=100")[1] for _ in range(samples)]
# The deepest page: keyset paging means the last page costs what the first does. Its
# cursor is the one the server would issue after the size-100th user (PingOne cursors are
# base64url("roster:<user number>"), users.cc/common.cc EncodeCursor; the fill numbers
# users 1..size), checked to be the last page (no next link, 100 users).
import base64
deep_cursor = base64.urlsafe_b64encode(f"roster:{size - 100}".encode()).decode().rstrip("=")
d, _ = get(base + "?limit=100&cursor=" + deep_cursor)
assert len(d["_embedded"]["users"]) == 100 and "next" not in d["_links"], (len(d["_embedded"]["users"]), d["_links"])
deepest = [get(base + "?limit=100&cursor=" + deep_cursor)[1] for _ in range(samples)]
# SCIM and QuickBlox page the unfiltered list by position: the first page and the deepest
# (SCIM startIndex=size-99, 100 users; QuickBlox's last page, size - (pages-1)*100 users),
# each checked once (the page's length and the total).
scim_h = {"Authorization": "Bearer " + os.environ["ROSTER_SCIM_TOKEN"]}
scim_first_path = "/scim/v2/Users?startIndex=1&count=100"
scim_deep_path = f"/scim/v2/Users?startIndex={max(1, size - 99)}&count=100"
for path in (scim_first_path, scim_deep_path):
    d, _ = get(path, scim_h)
    assert len(d["Resources"]) == min(100, size) and d["totalResults"] == size, (path, len(d["Resources"]), d["totalResults"])
scim_first = [get(scim_first_path, scim_h)[1] for _ in range(samples)]
scim_deepest = [get(scim_deep_path, scim_h)[1] for _ in range(samples)]
qb_h = {"Authorization": "ApiKey " + os.environ["ROSTER_QB_KEY"]}
qb_pages = max(1, -(-size // 100))
qb_first_path = "/users.json?page=1&per_page=100"
qb_deep_path = f"/users.json?page={qb_pages}&per_page=100"
for path, n in ((qb_first_path, min(100, size)), (qb_deep_path, size - (qb_pages - 1) * 100)):
    d, _ = get(path, qb_h)
    assert len(d["items"]) == n and d["total_entries"] == size, (path, len(d["items"]), n, d["total_entries"])
qb_first = [get(qb_first_path, qb_h)[1] for _ in range(samples)]
qb_deepest = [get(qb_deep_path, qb_h)[1] for _ in range(samples)]
emails = []
for i in picks:
    d, ms = get(q(f'email eq "user{i}@example.com"'))
    assert d["_embedded"]["users"], d
    emails.append(ms)
# name.family sw: the 6-letter prefix of one family name (gen's 8,000 names).
syl = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fe", "gi", "ho", "ju", "ly", "po", "qi", "ze", "wu", "xa"]
j = (picks[0] * 7919) % 8000
prefix = (syl[j // 400] + syl[(j // 20) % 20] + syl[j % 20]).capitalize()
path, reqs, total_ms, hits, first_hit = q(f'name.family sw "{prefix}"'), 0, 0.0, 0, None
while path:
    d, ms = get(path); reqs += 1; total_ms += ms
    hits += len(d["_embedded"]["users"])
    if hits and first_hit is None: first_hit = (reqs, total_ms)
    nxt = d["_links"].get("next", {}).get("href")
    path = urllib.parse.urlparse(nxt)._replace(scheme="", netloc="").geturl() if nxt else None
# The first hit alone (limit=1) for each picked user's 6-letter family-name prefix.
def prefix_of(i):
    j = (i * 7919) % 8000
    return (syl[j // 400] + syl[(j // 20) % 20] + syl[j % 20]).capitalize()
first_hits = []
for i in picks:
    d, ms = get(base + "?limit=1&filter=" + urllib.parse.quote(f'name.family sw "{prefix_of(i)}"'))
    assert len(d["_embedded"]["users"]) == 1, d
    first_hits.append(ms)
status = open(f"/proc/{pid}/status").read()
kib = lambda k: int(next(l.split()[1] for l in status.splitlines() if l.startswith(k + ":")))
print(json.dumps({"users": size, "get_samples": len(gets), "get_p50_ms": statistics.median(gets), "get_p99_ms": pct(gets, 99),
                  "list_first_p50_ms": statistics.median(first), "list_first_p99_ms": pct(first, 99),
                  "list_deepest_p50_ms": statistics.median(deepest), "list_deepest_p99_ms": pct(deepest, 99),
                  "scim_first_p50_ms": statistics.median(scim_first), "scim_first_p99_ms": pct(scim_first, 99),
                  "scim_deepest_p50_ms": statistics.median(scim_deepest), "scim_deepest_p99_ms": pct(scim_deepest, 99),
                  "qb_first_p50_ms": statistics.median(qb_first), "qb_first_p99_ms": pct(qb_first, 99),
                  "qb_deepest_p50_ms": statistics.median(qb_deepest), "qb_deepest_p99_ms": pct(qb_deepest, 99),
                  "email_eq_p50_ms": statistics.median(emails), "email_eq_p99_ms": pct(emails, 99),
                  "sw_prefix": prefix, "sw_hits": hits,
                  "sw_first_hit_requests": first_hit[0] if first_hit else None,
                  "sw_first_hit_ms": round(first_hit[1], 2) if first_hit else None,
                  "sw_full_requests": reqs, "sw_full_ms": round(total_ms, 2),
                  "sw_limit1_p50_ms": statistics.median(first_hits), "sw_limit1_p99_ms": pct(first_hits, 99),
                  "rss_mib": round(kib("VmRSS") / 1024, 1), "rss_peak_mib": round(kib("VmHWM") / 1024, 1)}))
PY
  roster_bench_stop
}

RESULTS=$TMP/results.jsonl
BASE_RESULTS=$TMP/base.jsonl
if [[ -n $REUSE ]]; then
  RESULTS=$TMP/results-reuse-$(date +%s).jsonl
  BASE_RESULTS=$TMP/base-reuse-$(date +%s).jsonl
fi
have=0
for size in $SIZES; do
  (( size > USERS )) && size=$USERS
  (( size <= have )) && continue
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  t0=0 t1=0
  echo 0 >"$TMP/import.rss"
  if [[ -z $REUSE ]]; then
  gen "$have" "$size" "$TMP/fill.jsonl"
  args=(import --env default "$TMP/fill.jsonl" --data-dir "$DATA" --no-progress --json)
  [[ -n $BATCH ]] && args+=(--batch-size "$BATCH")
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$TMP/import.rss" "$ROSTER_BIN" "${args[@]}" >"$TMP/import.json"
  t1=$(date +%s.%N)
  imported=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["imported"])' "$TMP/import.json")
  (( imported == size - have )) || { echo "imported $imported of $((size - have))" >&2; exit 1; }
  rm -f "$TMP/fill.jsonl"
  fi
  "$PY" -c 'import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA wal_checkpoint(TRUNCATE)")' "$DATA/roster.db"
  db_bytes=$(stat -c %s "$DATA/roster.db")

  [[ -n $BASE_BIN ]] && measure "$BASE_BIN" "$BASE_RESULTS" "$size"
  measure "$ROSTER_BIN" "$RESULTS" "$size"
  for out in "$RESULTS" ${BASE_BIN:+"$BASE_RESULTS"}; do
  label=""; [[ $out != "$RESULTS" ]] && label="base "
  "$PY" - "$out" "$have" "$size" "$t0" "$t1" "$(cat "$TMP/import.rss")" "$db_bytes" "$load_before" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$label" <<'PY'
import json, sys
path, have, size, t0, t1, rss, db = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
rows = [json.loads(l) for l in open(path)]
r = rows[-1]
r.update({"import_users": size - have, "import_s": round(t1 - t0, 2), "import_per_s": round((size - have) / (t1 - t0)) if t1 > t0 else None,
          "import_rss_mib": round(rss / 1024, 1), "db_bytes_per_user": round(db / size),
          "load_import": sys.argv[8], "load_after": sys.argv[9]})
open(path, "w").write("".join(json.dumps(x) + "\n" for x in rows[:-1] + [r]))
label = sys.argv[10]
if label: print(f"== {label}{size:,} users: {path}")
else:
    print(f"== {size:,} users (load {r['load_import']} at import, {r['load_after']} after)")
    if r["import_per_s"]: print(f"  import {r['import_users']:,} users in {r['import_s']} s = {r['import_per_s']:,} users/s (peak RSS {r['import_rss_mib']} MiB)")
print(f"  GET by id            p50 {r['get_p50_ms']:.2f} ms  p99 {r['get_p99_ms']:.2f} ms ({r['get_samples']} users)")
print(f"  first list page      p50 {r['list_first_p50_ms']:.2f} ms  p99 {r['list_first_p99_ms']:.2f} ms")
print(f"  deepest list page    p50 {r['list_deepest_p50_ms']:.2f} ms  p99 {r['list_deepest_p99_ms']:.2f} ms"
      f" (p99 {r['list_deepest_p99_ms'] / r['list_first_p99_ms']:.2f}x the first page's)")
for k, name in (("scim", "SCIM"), ("qb", "QB")):  # QB: QuickBlox
    print(f"  {name + ' first page':<20} p50 {r[k + '_first_p50_ms']:.2f} ms  p99 {r[k + '_first_p99_ms']:.2f} ms")
    print(f"  {name + ' deepest page':<20} p50 {r[k + '_deepest_p50_ms']:.2f} ms  p99 {r[k + '_deepest_p99_ms']:.2f} ms"
          f" (p99 {r[k + '_deepest_p99_ms'] / r[k + '_first_p99_ms']:.2f}x the first page's)")
print(f"  email eq             p50 {r['email_eq_p50_ms']:.2f} ms  p99 {r['email_eq_p99_ms']:.2f} ms")
print(f"  name.family sw \"{r['sw_prefix']}\": first hit {r['sw_first_hit_requests']} request(s) {r['sw_first_hit_ms']} ms; "
      f"full result {r['sw_hits']} users in {r['sw_full_requests']} request(s) {r['sw_full_ms']} ms")
print(f"  name.family sw, limit=1 (first hit alone) p50 {r['sw_limit1_p50_ms']:.2f} ms  p99 {r['sw_limit1_p99_ms']:.2f} ms")
print(f"  server RSS {r['rss_mib']} MiB (peak {r['rss_peak_mib']} MiB); database {r['db_bytes_per_user']:,} bytes/user")
PY
  done
  have=$size
done

for out in "$RESULTS" ${BASE_BIN:+"$BASE_RESULTS"}; do
  "$PY" - "$out" "$([[ $out == "$RESULTS" ]] || echo "base ")" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
if len(rows) >= 2:
    a, b = rows[0], rows[-1]
    def ratio(k): return round(b[k] / a[k], 2) if a.get(k) and b.get(k) is not None else None
    keys = ["get_p50_ms", "get_p99_ms", "list_first_p99_ms", "list_deepest_p99_ms", "scim_deepest_p99_ms", "qb_deepest_p99_ms",
            "email_eq_p99_ms", "sw_first_hit_ms",
            "sw_first_hit_requests", "sw_full_ms", "sw_full_requests", "sw_limit1_p50_ms", "sw_limit1_p99_ms", "import_per_s",
            "rss_mib", "db_bytes_per_user"]
    print(f"== {sys.argv[2]}ratios {b['users']:,} / {a['users']:,} users")
    for k in keys: print(f"  {k}: {ratio(k)}")
for r in rows: print(json.dumps(r))
PY
done
