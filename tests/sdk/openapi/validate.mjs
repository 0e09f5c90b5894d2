// Validates the responses the integration suites received (recorded by
// tests/integration/harness.cc, ResponseRecorder: one JSON line {method, path, status,
// content_type, body} each) against Roster's OpenAPI documents, with Ajv (JSON Schema
// 2020-12, the dialect of OpenAPI 3.1).
//
//   node validate.mjs RESPONSES.jsonl api=path/to/openapi.json ...
//
// A response is matched to its API by path prefix, to an operation by method + path
// template (a literal segment beats a parameter, as http::Router does), then to the
// operation's response by status (exact, then NXX, then default). Failures: a status the
// operation does not document, a content type it does not list, a body its schema refuses,
// a body where it documents none. A path no template matches must be a 404, and a known
// path with an undocumented method a 405, each in the API's error shape (the document's
// components.responses.E404). Not judged, and counted in the summary: requests to other
// APIs' paths and CORS preflights (OPTIONS, answered by the server, not by a route).
import fs from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const [file, ...docArgs] = process.argv.slice(2);
if (!file || docArgs.length === 0) {
  console.error('usage: node validate.mjs RESPONSES.jsonl api=openapi.json ...');
  process.exit(2);
}

// Where each API's paths live (the error renderers' prefixes in each dialect's Mount); a
// RegExp matches a whole path (PingOne's token route, /{envID}/as/token, has no prefix).
const prefixes = {
  catalyze: ['/v2'],
  quickblox: ['/session', '/session.json', '/login', '/login.json', '/users', '/users.json'],
  scim: ['/scim/v2'],
  pingone: ['/v1/environments', /^\/[^/]+\/as\/token$/],
  commcare: ['/a', '/api/v0.5/identity', '/api/identity/v1', '/api/v0.5/user_domains', '/api/user_domains/v1', '/oauth',
             '/.well-known/oauth-authorization-server'],
};
const covers = (prefix, path) =>
  prefix instanceof RegExp ? prefix.test(path) : path === prefix || path.startsWith(prefix + '/');

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);

const apis = {};
for (const arg of docArgs) {
  const [name, docPath] = arg.split('=');
  const doc = JSON.parse(fs.readFileSync(docPath, 'utf8'));
  const id = `https://roster.invalid/openapi/${name}.json`;
  ajv.addSchema({ ...doc, $id: id }, id);
  const resolve = (node) => {
    while (node && node.$ref) {
      if (!node.$ref.startsWith('#/')) throw new Error(`${name}: external $ref ${node.$ref}`);
      node = node.$ref.slice(2).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
        .reduce((n, key) => n?.[key], doc);
    }
    if (!node) throw new Error(`${name}: dangling $ref`);
    return node;
  };
  const templates = Object.entries(doc.paths).map(([template, item]) => ({
    template, item: resolve(item), segments: template.split('/').slice(1),
    pointer: `#/paths/${template.replace(/~/g, '~0').replace(/\//g, '~1')}`,
  }));
  apis[name] = { doc, id, resolve, templates, validators: new Map(), counts: { judged: 0 } };
  if (!prefixes[name]) prefixes[name] = [];
  prefixes[name].push(`/openapi/${name}.json`);
}

function validatorFor(api, pointer) {
  if (!api.validators.has(pointer)) api.validators.set(pointer, ajv.compile({ $ref: api.id + pointer }));
  return api.validators.get(pointer);
}

const isParam = (s) => s.startsWith('{') && s.endsWith('}');
function matchTemplates(api, path) {
  // As http::Router's SplitPath: one trailing slash is dropped ("/v2/auth/verify/").
  const segments = (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path).split('/').slice(1);
  const hits = api.templates.filter((t) => t.segments.length === segments.length &&
    t.segments.every((s, i) => (isParam(s) ? segments[i] !== '' : s === segments[i])));
  return hits;
}
function moreSpecific(a, b) {
  for (let i = 0; i < a.segments.length && i < b.segments.length; ++i) {
    const ap = isParam(a.segments[i]), bp = isParam(b.segments[i]);
    if (ap !== bp) return !ap;
  }
  return false;
}

const failures = [];
const skipped = { other: 0, preflight: 0 };
const fail = (r, why) => failures.push(`${r.method} ${r.path} -> ${r.status}: ${why}`);

function checkBody(api, r, response, pointer) {
  const mediaType = (r.content_type || '').split(';')[0].trim().toLowerCase();
  if (!response.content) {
    if (r.body !== '') fail(r, `the document says no body, got ${mediaType || 'no type'} ${r.body.slice(0, 120)}`);
    return;
  }
  if (!response.content[mediaType]) {
    fail(r, `content type '${mediaType}' not documented (${Object.keys(response.content).join(', ')})`);
    return;
  }
  // A text type (CommCare's plain-text 401 of user_domains) and XML (CommCare's
  // format=xml) are checked as strings.
  let body = r.body;
  if (!mediaType.startsWith('text/') && !mediaType.endsWith('/xml')) {
    try {
      body = JSON.parse(r.body);
    } catch {
      fail(r, `body is not JSON: ${r.body.slice(0, 120)}`);
      return;
    }
  }
  const validate = validatorFor(api, `${pointer}/content/${mediaType.replace(/\//g, '~1')}/schema`);
  if (!validate(body)) fail(r, ajv.errorsText(validate.errors, { dataVar: 'body' }) + ` in ${r.body.slice(0, 200)}`);
}

// A response the API's document does not route (unknown path, other method): the
// transport's 404/405 in the API's error shape.
function checkTransportError(api, r, expected, why) {
  if (r.status !== expected) return fail(r, `${why}: expected ${expected}`);
  checkBody(api, r, api.doc.components.responses.E404, '#/components/responses/E404');
}

const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
for (const line of lines) {
  const r = JSON.parse(line);
  r.path = r.path.split('?')[0].split('#')[0];
  const name = Object.keys(apis).find((n) => prefixes[n].some((p) => covers(p, r.path)));
  if (!name) { skipped.other++; continue; }
  if (r.method === 'OPTIONS') { skipped.preflight++; continue; }
  const api = apis[name];
  api.counts.judged++;
  const hits = matchTemplates(api, r.path);
  if (hits.length === 0) { checkTransportError(api, r, 404, 'no documented path'); continue; }
  const method = r.method.toLowerCase();
  let best = null;
  for (const t of hits) if (t.item[method] && (!best || moreSpecific(t, best))) best = t;
  if (!best) { checkTransportError(api, r, 405, `no documented ${r.method} on ${hits[0].template}`); continue; }
  const operation = best.item[method];
  const status = String(r.status);
  const key = [status, `${status[0]}XX`, 'default'].find((k) => operation.responses[k]);
  if (!key) { fail(r, `status not documented for ${r.method} ${best.template} (${Object.keys(operation.responses).join(', ')})`); continue; }
  // The pointer through the path item as the document writes it ($ref'd path items: the target).
  const itemPointer = api.doc.paths[best.template].$ref ?? best.pointer;
  const responseNode = operation.responses[key];
  const pointer = responseNode.$ref ?? `${itemPointer}/${method}/responses/${key}`;
  checkBody(api, r, api.resolve(responseNode), pointer);
}

const judged = Object.entries(apis).map(([n, a]) => `${n} ${a.counts.judged}`).join(', ');
console.log(`openapi: ${lines.length} responses; judged: ${judged}; not judged: ${skipped.other} of other APIs, ` +
            `${skipped.preflight} CORS preflights; ${failures.length} failures`);
// A narrow run (ctest -R QuickBloxSdkTest) may record nothing of an API: said, not failed.
const unseen = Object.entries(apis).filter(([, a]) => a.counts.judged === 0).map(([n]) => n);
if (unseen.length) console.log(`note: no response of ${unseen.join(', ')} was recorded by the tests that ran`);
const shown = [...new Set(failures)];
for (const f of shown.slice(0, 200)) console.log('FAIL ' + f);
if (shown.length > 200) console.log(`... and ${shown.length - 200} more`);
process.exit(failures.length ? 1 : 0);
