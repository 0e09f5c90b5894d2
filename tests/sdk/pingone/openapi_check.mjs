// Validates recorded PingOne API responses against PingOne's OpenAPI description (the Go
// SDK's management/api/openapi.yaml, read from ../shared/reference/pingone-openapi/, never
// copied into the project) with Ajv, a well-kept JSON Schema validator.
//
//   node openapi_check.mjs <records.jsonl> [spec.yaml]
//
// Each line of the records file is {"method","path","status","body"} (path as requested,
// query included; body the response text). For each response under /v1/environments the
// spec's operation is found by method and path template; the schema is the one the spec
// gives for that status (for an undocumented error status: P1Error, PingOne's error). A
// response whose operation or status the spec does not describe is an error too; a path
// of another PingOne API (no template of this description matches, e.g. the MFA API's
// /users/{id}/mfaEnabled) is listed, not judged. Exit 0 when every response validates, 1 otherwise (each failure printed with its path).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const records = process.argv[2];
const specPath =
  process.argv[3] ?? resolve(here, '../../../../shared/reference/pingone-openapi/pingone-openapi.yaml');
if (!records) {
  console.error('usage: node openapi_check.mjs <records.jsonl> [spec.yaml]');
  process.exit(2);
}
if (!existsSync(specPath)) {
  console.error(`the PingOne OpenAPI description is missing: ${specPath}`);
  process.exit(2);
}

// The YAML takes seconds to parse; its JSON form is cached by content hash.
function loadSpec() {
  const text = readFileSync(specPath);
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const cache = join(tmpdir(), `roster-pingone-openapi-${digest}.json`);
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8'));
  const spec = YAML.parse(text.toString('utf8'), { maxAliasCount: -1 });
  const partial = `${cache}.${process.pid}`;
  writeFileSync(partial, JSON.stringify(spec));
  renameSync(partial, cache);
  return spec;
}

const spec = loadSpec();
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
ajv.addSchema({ $id: 'p1', components: spec.components });

// Path templates, most literal segments first, as regular expressions.
const templates = Object.keys(spec.paths)
  .map((t) => ({
    template: t,
    literal: t.split('/').filter((s) => s && !s.startsWith('{')).length,
    re: new RegExp('^' + t.replace(/\{[^}]+\}/g, '[^/]+') + '$'),
  }))
  .sort((a, b) => b.literal - a.literal);

function schemaOf(content) {
  if (!content) return undefined;
  for (const type of ['application/json', 'application/hal+json']) if (content[type]?.schema) return content[type].schema;
  const first = Object.values(content)[0];
  return first?.schema;
}

function refName(schema) {
  return schema?.$ref ? schema.$ref.replace('#/components/schemas/', '') : undefined;
}

// A list (EntityArray) is checked as EntityArray with `_embedded` narrowed to the
// collections the body holds (the full union of every collection type takes seconds to
// compile, and each collection keeps its own item schema).
function narrowed(name, body) {
  if (name !== 'EntityArray' || !body?._embedded || typeof body._embedded !== 'object') return undefined;
  const keys = Object.keys(body._embedded).sort();
  const all = spec.components.schemas.EntityArray__embedded.properties;
  const properties = {};
  for (const k of keys) if (all[k]) properties[k] = all[k];
  const schema = structuredClone(spec.components.schemas.EntityArray);
  // A collection the description does not have fails.
  schema.properties._embedded = { type: 'object', properties, additionalProperties: false };
  return { key: `EntityArray[${keys.join(',')}]`, schema };
}

const validators = new Map();
function validatorFor(schema, body) {
  const name = refName(schema);
  const narrow = narrowed(name, body);
  const key = narrow ? narrow.key : JSON.stringify(schema);
  if (!validators.has(key)) {
    if (narrow) {
      const schemas = { ...spec.components.schemas, RosterNarrowedList: narrow.schema };
      ajv.addSchema({ $id: `p1-list-${encodeURIComponent(key)}`, components: { ...spec.components, schemas } });
      validators.set(key, ajv.getSchema(`p1-list-${encodeURIComponent(key)}#/components/schemas/RosterNarrowedList`));
    } else {
      validators.set(key, name ? ajv.getSchema(`p1#/components/schemas/${name}`) : ajv.compile(schema));
    }
  }
  return validators.get(key);
}

const failures = [];
let checked = 0;
// The one deviation allowed: the Go SDK's spec lists `email` as required on User, while
// PingOne creates users without one (username is its only required attribute; Terraform's
// pingone_user has email optional), and so does every other API of Roster. Such users are
// counted and reported, every other property is still checked.
let withoutEmail = 0;
const undescribed = new Set();
for (const line of readFileSync(records, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const r = JSON.parse(line);
  const path = r.path.split('?')[0];
  if (!path.startsWith('/v1/environments')) continue;  // the token endpoint is OAuth's, not the API's
  if (!r.body) continue;  // 204 and HEAD answers carry nothing to validate
  let body;
  try {
    body = JSON.parse(r.body);
  } catch {
    failures.push(`${r.method} ${r.path} ${r.status}: the body is not JSON`);
    continue;
  }
  const apiPath = path.slice('/v1'.length);
  const match = templates.find((t) => t.re.test(apiPath));
  if (!match) {
    // A route of another PingOne API (e.g. /users/{id}/mfaEnabled is the MFA API's):
    // listed, not judged by this description.
    undescribed.add(`${r.method} ${path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '{id}')}`);
    continue;
  }
  const operation = match && spec.paths[match.template][r.method.toLowerCase()];
  let schema;
  let where;
  if (operation) {
    const response = operation.responses?.[String(r.status)] ?? operation.responses?.default;
    schema = schemaOf(response?.content);
    where = `${r.method} ${match.template} ${r.status}`;
    if (response?.content && !schema) {
      // Documented, with JSON content but no schema (the password operations): any JSON body.
      ++checked;
      continue;
    }
  }
  if (!schema && r.status >= 400) {
    schema = { $ref: '#/components/schemas/P1Error' };
    where = `${r.method} ${path} ${r.status} (P1Error)`;
  }
  if (!schema) {
    failures.push(`${r.method} ${r.path} ${r.status}: the OpenAPI description has no response schema for it`);
    continue;
  }
  const validate = validatorFor(schema, body);
  ++checked;
  if (!validate(body)) {
    const real = validate.errors.filter((e) => !(e.keyword === 'required' && e.params.missingProperty === 'email'));
    if (real.length < validate.errors.length) ++withoutEmail;
    if (real.length === 0) continue;
    const errors = real.map((e) => `${e.instancePath || '/'} ${e.message}`).slice(0, 8).join('; ');
    failures.push(`${where} (${r.path}): ${errors}\n    body: ${r.body.slice(0, 400)}`);
  }
}
for (const f of failures) console.log(`FAIL ${f}`);
for (const u of undescribed) console.log(`not in this description (another PingOne API): ${u}`);
console.log(
  `${checked} responses checked against ${specPath.split('/').pop()}, ${failures.length} failed` +
    (withoutEmail ? ` (${withoutEmail} carried a user without an email, which the spec's User lists as required)` : ''),
);
process.exit(failures.length === 0 ? 0 : 1);
