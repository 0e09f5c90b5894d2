#!/usr/bin/env python3
"""Writes starting inputs for the fuzz targets: the string literals of the unit tests of
each input format and the JSON examples of the seed pages (../shared/seeds). scripts/fuzz.sh
--merge then keeps, in fuzz/corpus/<target>/, only those that add coverage.

usage: fuzz/seed_corpus.py OUT_DIR   (writes OUT_DIR/<target>/<sha1>)"""
import hashlib
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
seeds = root.parent / "shared" / "seeds"

RAW = re.compile(r'R"([^(\s]*)\((.*?)\)\1"', re.S)
PLAIN = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def unescape(s):
    try:
        return s.encode().decode("unicode_escape").encode("latin-1")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return s.encode()


def literals(*files):
    out = []
    for f in files:
        text = (root / f).read_text(errors="replace")
        out += [m.group(2).encode() for m in RAW.finditer(text)]
        out += [unescape(m.group(1)) for m in PLAIN.finditer(RAW.sub("", text))]
    return [x for x in out if 0 < len(x) <= 4096]


def seed_json(*names):
    out = []
    for name in names:
        text = (seeds / name).read_text(errors="replace")
        out += [m.group(1).encode() for m in re.finditer(r"```json\s*\n(.*?)```", text, re.S)]
        out += [m.group(1).encode() for m in re.finditer(r"-d '(\{.*?\})'", text, re.S)]
    return out


http = [
    b"GET /v2/users?limit=10 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n",
    b"POST /v2/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n"
    b'{"username":"a"}\n',
    b"POST /session.json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n",
    b"OPTIONS /v2/users HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n"
    b"Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\r\n",
    b"PATCH /scim/v2/Users/a%20b HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1, ::1\r\n"
    b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
    b"GET /a/demo/api/v0.5/user/abc/ HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
]

targets = {
    "fuzz_http_request": http,
    "fuzz_scim_filter": literals("src/query/query_test.cc"),
    "fuzz_pingone_filter": literals("src/dialects/pingone/filter_test.cc"),
    "fuzz_quickblox_filter": literals("src/dialects/quickblox/filter_test.cc"),
    "fuzz_scim_patch_path": literals("src/dialects/scim/patch_test.cc"),
    "fuzz_scim_body": literals("src/dialects/scim/patch_test.cc", "tests/integration/scim_test.cc"),
    "fuzz_catalyze_body": seed_json("000_3a3814dd70469fee.txt", "004_8272a695bcff5f53.txt")
    + literals("src/dialects/catalyze/mapping_test.cc"),
    "fuzz_pingone_body": seed_json("002_8bb33e52216cc7ff.txt") + literals("tests/integration/pingone_test.cc"),
    # The first byte picks form body (0), JSON body (1) or query string (2).
    "fuzz_quickblox_body": [b"1" + x for x in seed_json("003_57f61ea6475e95ce.txt")]
    + [b"0" + x for x in literals("src/dialects/quickblox/form_test.cc")],
    "fuzz_quickblox_signature": literals("src/dialects/quickblox/signature_test.cc", "src/dialects/quickblox/form_test.cc"),
    "fuzz_commcare_body": seed_json("001_30e1794f66bc229f.txt") + literals("src/dialects/commcare/mapping_test.cc"),
    "fuzz_jwt": literals("src/dialects/pingone/jwt_test.cc"),
    "fuzz_legacy_password": literals("src/crypto/legacy_password_test.cc"),
    "fuzz_profile_codec": literals("src/core/profile_codec_test.cc"),
}

# Body targets read JSON objects (QuickBlox: after its mode byte): other literals of
# their tests (field names, messages) add nothing.
for target in ("fuzz_scim_body", "fuzz_catalyze_body", "fuzz_pingone_body", "fuzz_commcare_body",
               "fuzz_profile_codec"):
    targets[target] = [x for x in targets[target] if x.lstrip().startswith(b"{")]

out = pathlib.Path(sys.argv[1])
for target, inputs in targets.items():
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    for data in inputs:
        (d / hashlib.sha1(data).hexdigest()).write_bytes(data)
    print(f"{target}: {len(inputs)} inputs")
