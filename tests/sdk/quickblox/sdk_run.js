#!/usr/bin/env node
// Drives the official QuickBlox JavaScript SDK (npm `quickblox`, pinned in package.json)
// against a Roster server, through the SDK's own calls only, and checks every answer.
//
// Environment:
//   ROSTER_QB_API          host:port of the server (the SDK always speaks https)
//   ROSTER_QB_APP_ID       application id
//   ROSTER_QB_AUTH_KEY     auth key
//   ROSTER_QB_AUTH_SECRET  auth secret (signs POST /session.json)
//   ROSTER_QB_HASH         optional: sha1 (default) or sha256
//   ROSTER_QB_TIMEOUT_S    optional: global time limit in seconds (default 60)
//   NODE_EXTRA_CA_CERTS    set by the caller to trust the server's certificate
//
// Output: one JSON line per step on stdout,
//   {"step":"...","ok":true,"result":...}  or  {"step":"...","ok":false,"error":...}
// then a "summary" line. Everything the SDK itself logs goes to stderr. Exit status 0
// only if every step behaved as expected; 1 otherwise; 2 for a bad configuration.
// Passwords and session tokens are never printed.
'use strict';

const tls = require('tls');
const net = require('net');
const util = require('util');

// stdout carries only our JSON lines: the SDK prints its platform and warnings with
// console.log/warn, so route those to stderr.
for (const method of ['log', 'info', 'warn', 'debug', 'trace']) {
  console[method] = (...args) => process.stderr.write(util.format(...args) + '\n');
}

let failures = 0;
let passes = 0;
let finished = false;

function emit(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

function pass(step, result) {
  passes += 1;
  emit({step, ok: true, result: result === undefined ? null : result});
}

function fail(step, error) {
  failures += 1;
  emit({step, ok: false, error: redact(describe(error))});
}

function describe(error) {
  if (error instanceof Error) return {name: error.name, message: error.message};
  if (error === undefined) return null;
  return error;
}

function finish() {
  if (finished) return;
  finished = true;
  const ok = failures === 0 && passes > 0;
  emit({step: 'summary', ok, result: {passed: passes, failed: failures}});
  process.exit(ok ? 0 : 1);
}

// ---- configuration -----------------------------------------------------------------

const env = process.env;
const missing = ['ROSTER_QB_API', 'ROSTER_QB_APP_ID', 'ROSTER_QB_AUTH_KEY', 'ROSTER_QB_AUTH_SECRET']
  .filter((name) => !env[name]);
const hash = (env.ROSTER_QB_HASH || 'sha1').toLowerCase();
const timeoutSeconds = Number(env.ROSTER_QB_TIMEOUT_S || 60);
if (missing.length || !['sha1', 'sha256'].includes(hash) ||
    !(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0)) {
  emit({step: 'config', ok: false, error: {
    missing,
    hash: ['sha1', 'sha256'].includes(hash) ? undefined : 'ROSTER_QB_HASH must be sha1 or sha256',
    timeout: timeoutSeconds > 0 ? undefined : 'ROSTER_QB_TIMEOUT_S must be a positive number',
  }});
  process.exit(2);
}

const api = env.ROSTER_QB_API.replace(/^https?:\/\//i, '').replace(/\/+$/, '');
const appId = /^\d+$/.test(env.ROSTER_QB_APP_ID) ? Number(env.ROSTER_QB_APP_ID) : env.ROSTER_QB_APP_ID;
const STEP_TIMEOUT_MS = Math.min(20000, timeoutSeconds * 1000);

const globalTimer = setTimeout(() => {
  fail('timeout', {message: `run exceeded ${timeoutSeconds} s`});
  finish();
}, timeoutSeconds * 1000);
globalTimer.unref();

// "host", "host:port", "[v6]:port", with an optional "/prefix".
function parseEndpoint(endpoint) {
  const authority = endpoint.split('/')[0];
  const v6 = authority.match(/^\[([^\]]+)\](?::(\d+))?$/);
  if (v6) return {host: v6[1], port: Number(v6[2] || 443)};
  const colon = authority.lastIndexOf(':');
  if (colon > 0) return {host: authority.slice(0, colon), port: Number(authority.slice(colon + 1))};
  return {host: authority, port: 443};
}

// ---- helpers -------------------------------------------------------------------------

// Calls an SDK function with a node-style callback. Settles once (the SDK may call back
// twice when its own callback throws), on a thrown exception, or after STEP_TIMEOUT_MS.
function call(fn) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({err: {message: `no answer within ${STEP_TIMEOUT_MS} ms`}, timedOut: true}),
      STEP_TIMEOUT_MS);
    const settle = (value) => {
      clearTimeout(timer);
      resolve(value);
    };
    try {
      fn((err, res) => settle({err, res}));
    } catch (thrown) {
      settle({err: thrown, thrown: true});
    }
  });
}

// The SDK signs each session request with its clock's second and a nonce from
// Math.floor(Math.random() * 10000) (qbAuth.js generateAuthMsg, qbUtils.js randomNonce);
// QuickBlox accepts a timestamp and nonce once (the platform's rule, which Roster keeps),
// so two sessions of one application in the same second collide once in 10,000. Every
// session this script creates starts in a second of its own: none can collide.
let lastSessionSecond = -1;

async function createSessionInAFreshSecond(fn) {
  while (Math.floor(Date.now() / 1000) <= lastSessionSecond) {
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
  }
  // The SDK reads the clock synchronously inside createSession: its second is at most
  // the one read right after the call.
  return call((cb) => {
    try {
      fn(cb);
    } finally {
      lastSessionSecond = Math.floor(Date.now() / 1000);
    }
  });
}

class Mismatch extends Error {}

function expect(condition, message, actual) {
  if (!condition) {
    const e = new Mismatch(message);
    e.actual = actual;
    throw e;
  }
}

// Runs one step: `run` returns a Promise of the value to print, or throws a Mismatch.
async function step(name, needs, run) {
  if (finished) return;
  const absent = Object.entries(needs).filter(([, value]) => value === undefined || value === null)
    .map(([key]) => key);
  if (absent.length) {
    fail(name, {skipped: true, message: `needs ${absent.join(', ')} from an earlier step`});
    return;
  }
  try {
    pass(name, await run());
  } catch (error) {
    if (error instanceof Mismatch) {
      fail(name, {message: error.message, actual: redact(error.actual)});
    } else if (error && typeof error === 'object' && !(error instanceof Error) && error.code === undefined) {
      // qbProxy parses the body before it looks at the status: a non-JSON body loses both.
      fail(name, {...error, hint: 'the SDK saw no HTTP status: the response body was probably empty or not JSON'});
    } else {
      fail(name, error);
    }
  }
}

// The SDK turns a refused connection or a TLS failure into a "success" with body ' '.
function networkHint(res) {
  return res === ' ' || res === undefined
    ? ' (the SDK reports network and TLS failures as an empty success)' : '';
}

function redact(value) {
  if (value === null || typeof value !== 'object') return value;
  const out = Array.isArray(value) ? [] : {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = /password|token|secret/i.test(key) && typeof inner === 'string' ? '<redacted>' : redact(inner);
  }
  return out;
}

function sessionSummary(session) {
  return {
    id: session.id, application_id: session.application_id, user_id: session.user_id,
    token_length: session.token.length,
  };
}

function expectSession(session, userId) {
  expect(session && typeof session === 'object', 'createSession gave no session object' + networkHint(session),
    session);
  expect(typeof session.token === 'string' && session.token.length > 0, 'session has no token', session);
  if (userId === undefined) {
    expect(session.user_id === undefined || session.user_id === 0 || session.user_id === null,
      'an application session must have user_id 0', session);
  } else {
    expect(session.user_id === userId, `user session must have user_id ${userId}`, session);
  }
}

function expectUser(user, want, what) {
  expect(user && typeof user === 'object' && !Array.isArray(user),
    `${what} gave no user object` + networkHint(user), user);
  expect(Number.isInteger(user.id) && user.id > 0, 'user.id must be a positive JSON integer', user);
  expect(!('password' in user), 'a user must never carry its password', user);
  for (const [key, value] of Object.entries(want)) {
    expect(user[key] === value, `user.${key} must be ${JSON.stringify(value)}`, user);
  }
}

// An SDK error: {code: <HTTP status>, status:'error', message: <body>, detail: <body.errors>}.
function expectError(err, res, code, what) {
  expect(err, `${what} must fail with HTTP ${code}, but it succeeded` + networkHint(res), res);
  expect(err.code === code, `${what} must fail with HTTP ${code}`, err);
  return {code: err.code, detail: err.detail === undefined ? null : err.detail};
}

// ---- the run -------------------------------------------------------------------------

async function main() {
  const {host, port} = parseEndpoint(api);

  // A TLS handshake only (no HTTP request), so that "nothing listening" and "untrusted
  // certificate" are reported as such: the SDK would report both as an empty success.
  await step('connect', {}, () => new Promise((resolve, reject) => {
    const options = {host, port, timeout: STEP_TIMEOUT_MS};
    if (!net.isIP(host)) options.servername = host;
    const socket = tls.connect(options, () => {
      const peer = socket.getPeerCertificate();
      resolve({host, port, protocol: socket.getProtocol(), subject: peer && peer.subject ? peer.subject.CN : null});
      socket.end();
    });
    socket.on('timeout', () => socket.destroy(new Error(`TLS handshake with ${host}:${port} timed out`)));
    socket.on('error', (e) => reject(Object.assign(new Error(e.message), {name: e.code || e.name})));
  }));
  if (failures) return;

  const QB = require('quickblox');

  await step('init', {}, async () => {
    // No account key: the config object is the 4th argument (the SDK then skips the
    // account_settings call and only warns on stderr).
    QB.init(appId, env.ROSTER_QB_AUTH_KEY, env.ROSTER_QB_AUTH_SECRET, {
      endpoints: {api, chat: host},
      initBlockOnSettings: false,
      hash,
      timeout: STEP_TIMEOUT_MS,
      debug: {mode: 0},
    });
    return {api, hash, sdk: require('quickblox/package.json').version};
  });
  if (failures) return;

  const suffix = Date.now().toString(36) + Math.floor(Math.random() * 1e6).toString(36);
  const login = `sdk_${suffix}`;
  const password = `Passw0rd!${suffix}`;
  const newPassword = `N3wPassw0rd!${suffix}`;
  const externalId = 100000000 + Math.floor(Math.random() * 2000000000);  // fits in 4 bytes
  // A facebook uid in the range where text order and number order differ (10... > 9...).
  const facebookId = 10000000000 + Math.floor(Math.random() * 1e9);
  const profile = {
    login,
    password,
    email: `${login}@example.com`,
    full_name: `SDK User ${suffix}`,
    phone: '+15550001234',
    website: `https://example.com/${login}`,
    external_user_id: externalId,
    custom_data: JSON.stringify({plan: 'free', n: 1}),
    tag_list: 'alpha,beta',
    facebook_id: String(facebookId),
  };
  const state = {};

  await step('createSession', {}, async () => {
    const {err, res} = await createSessionInAFreshSecond((cb) => QB.createSession(cb));
    if (err) throw err;
    expectSession(res);
    state.appSession = true;
    return sessionSummary(res);
  });

  await step('users.create', {session: state.appSession}, async () => {
    const {err, res} = await call((cb) => QB.users.create({...profile}, cb));
    if (err) throw err;
    expectUser(res, {
      login, email: profile.email, full_name: profile.full_name, phone: profile.phone,
      website: profile.website, external_user_id: externalId, custom_data: profile.custom_data,
      user_tags: 'alpha,beta',
    }, 'users.create');
    state.id = res.id;
    return res;
  });

  await step('users.create.duplicate_login', {id: state.id}, async () => {
    const {err, res} = await call((cb) => QB.users.create({
      login, password, email: `other_${login}@example.com`, external_user_id: externalId + 1,
    }, cb));
    const got = expectError(err, res, 422, 'creating a second user with the same login');
    expect(got.detail && Array.isArray(got.detail.login) && got.detail.login.length > 0,
      'the 422 errors must name "login"', err);
    return got;
  });

  await step('login', {id: state.id}, async () => {
    const {err, res} = await call((cb) => QB.login({login, password}, cb));
    if (err) throw err;
    expectUser(res, {id: state.id, login}, 'login');
    return res;
  });

  await step('users.get.id', {id: state.id}, async () => {
    const {err, res} = await call((cb) => QB.users.get(state.id, cb));
    if (err) throw err;
    expectUser(res, {id: state.id, login, email: profile.email, user_tags: 'alpha,beta'}, 'users.get');
    return res;
  });

  await step('users.listUsers.filter', {id: state.id}, async () => {
    const {err, res} = await call((cb) => QB.users.listUsers({
      filter: {field: 'login', param: 'eq', value: login},
      order: {sort: 'desc', field: 'created_at'},
      page: 1,
      per_page: 10,
    }, cb));
    if (err) throw err;
    expect(res && typeof res === 'object', 'listUsers gave no body' + networkHint(res), res);
    expect(res.current_page === 1 && res.per_page === 10, 'current_page must be 1 and per_page 10', res);
    expect(res.total_entries === 1, 'exactly one user has this login', res);
    expect(Array.isArray(res.items) && res.items.length === 1, 'items must hold one {user}', res);
    expectUser(res.items[0] && res.items[0].user, {id: state.id, login}, 'listUsers items[0]');
    return res;
  });

  await step('users.listUsers.page', {id: state.id}, async () => {
    const {err, res} = await call((cb) => QB.users.listUsers({page: 1, per_page: 1}, cb));
    if (err) throw err;
    expect(res && typeof res === 'object', 'listUsers gave no body' + networkHint(res), res);
    expect(res.current_page === 1 && res.per_page === 1, 'current_page must be 1 and per_page 1', res);
    expect(Number.isInteger(res.total_entries) && res.total_entries >= 1, 'total_entries must count our user', res);
    expect(Array.isArray(res.items) && res.items.length === 1, 'a page of 1 must hold one item', res);
    expectUser(res.items[0] && res.items[0].user, {}, 'listUsers items[0]');
    return {current_page: res.current_page, per_page: res.per_page, total_entries: res.total_entries,
      items: res.items.length};
  });

  await step('users.get.login', {id: state.id}, async () => {
    const {err, res} = await call((cb) => QB.users.get({login}, cb));
    if (err) throw err;
    expectUser(res, {id: state.id, login}, 'users.get({login})');
    return res;
  });

  // QB.users.get({email}), ({facebook_id}), ({external}): by_email, by_facebook_id,
  // external/{id} (issue 15).
  for (const [what, params] of [['email', {email: profile.email}], ['facebook_id', {facebook_id: profile.facebook_id}],
    ['external', {external: externalId}]]) {
    await step(`users.get.${what}`, {id: state.id}, async () => {
      const {err, res} = await call((cb) => QB.users.get(params, cb));
      if (err) throw err;
      expectUser(res, {id: state.id, login, facebook_id: profile.facebook_id, external_user_id: externalId},
        `users.get(${what})`);
      return res;
    });
  }

  // Two filters as the SDK sends a list; the second a number comparison on facebook_id
  // (the SDK types a numeric value "number"): 9999999999 < facebookId as numbers, though
  // not as text.
  await step('users.listUsers.two_filters', {id: state.id}, async () => {
    const {err, res} = await call((cb) => QB.users.listUsers({
      filter: [{field: 'login', param: 'eq', value: login}, {field: 'facebook_id', param: 'gt', value: 9999999999}],
      per_page: 10,
    }, cb));
    if (err) throw err;
    expect(res && res.total_entries === 1 && Array.isArray(res.items) && res.items.length === 1,
      'login eq and facebook_id gt (number) must find our user', res);
    expectUser(res.items[0].user, {id: state.id, login}, 'listUsers two filters');
    return {total_entries: res.total_entries};
  });

  // last_request_at is kept (set at sign-in) and filterable.
  await step('users.listUsers.last_request_at', {id: state.id}, async () => {
    const {err, res} = await call((cb) => QB.users.listUsers({
      filter: [{field: 'login', param: 'eq', value: login}, {field: 'last_request_at', param: 'gt', value: '2020-01-01'}],
    }, cb));
    if (err) throw err;
    expect(res && res.total_entries === 1, 'a user that signed in has a last_request_at', res);
    expect(typeof res.items[0].user.last_request_at === 'string', 'last_request_at must be a date', res.items[0].user);
    return {last_request_at: res.items[0].user.last_request_at};
  });

  // QB.users.resetPassword(email): GET users/password/reset.json, an empty 200.
  await step('users.resetPassword', {id: state.id}, async () => {
    const {err, res} = await call((cb) => QB.users.resetPassword(profile.email, cb));
    if (err) throw err;
    return {body: typeof res === 'string' ? res.trim() : res};
  });

  const newName = `Updated ${suffix}`;
  await step('users.update', {id: state.id}, async () => {
    const {err, res} = await call((cb) => QB.users.update(state.id, {full_name: newName}, cb));
    if (err) throw err;
    expectUser(res, {id: state.id, login, full_name: newName, email: profile.email}, 'users.update');
    return res;
  });

  await step('users.update.password', {id: state.id}, async () => {
    const {err, res} = await call((cb) => QB.users.update(state.id, {old_password: password, password: newPassword}, cb));
    if (err) throw err;
    expectUser(res, {id: state.id, login, full_name: newName}, 'users.update (password)');
    state.passwordChanged = true;
    return res;
  });

  await step('login.old_password', {passwordChanged: state.passwordChanged}, async () => {
    const {err, res} = await call((cb) => QB.login({login, password}, cb));
    return expectError(err, res, 401, 'logging in with the replaced password');
  });

  await step('createSession.user', {passwordChanged: state.passwordChanged}, async () => {
    const {err, res} = await createSessionInAFreshSecond((cb) => QB.createSession({login, password: newPassword}, cb));
    if (err) throw err;
    expectSession(res, state.id);
    return sessionSummary(res);
  });

  // QB.logout: DELETE /login.json; the session goes on as an application session, which
  // may not change the user; logging in again restores it.
  await step('logout', {passwordChanged: state.passwordChanged}, async () => {
    const {err, res} = await call((cb) => QB.logout(cb));
    if (err) throw err;
    state.loggedOut = true;
    return {body: typeof res === 'string' ? res.trim() : res};
  });

  await step('users.update.after_logout', {loggedOut: state.loggedOut}, async () => {
    const {err, res} = await call((cb) => QB.users.update(state.id, {full_name: 'nobody'}, cb));
    return expectError(err, res, 403, 'changing a user after logout');
  });

  await step('login.again', {loggedOut: state.loggedOut}, async () => {
    const {err, res} = await call((cb) => QB.login({login, password: newPassword}, cb));
    if (err) throw err;
    expectUser(res, {id: state.id, login}, 'login');
    return res;
  });

  await step('users.delete', {id: state.id}, async () => {
    const {err, res} = await call((cb) => QB.users.delete(state.id, cb));
    if (err) throw err;
    state.deleted = true;
    return {body: typeof res === 'string' ? res.trim() : res};
  });

  // Deleting a user may end its sessions: look it up again from a fresh app session.
  await step('createSession.after_delete', {deleted: state.deleted}, async () => {
    const {err, res} = await createSessionInAFreshSecond((cb) => QB.createSession(cb));
    if (err) throw err;
    expectSession(res);
    state.freshSession = true;
    return sessionSummary(res);
  });

  await step('users.get.deleted', {freshSession: state.freshSession}, async () => {
    const {err, res} = await call((cb) => QB.users.get(state.id, cb));
    return expectError(err, res, 404, 'getting the deleted user');
  });

  await step('destroySession', {freshSession: state.freshSession}, async () => {
    const {err, res} = await call((cb) => QB.destroySession(cb));
    if (err) throw err;
    state.destroyed = true;
    return {body: typeof res === 'string' ? res.trim() : res};
  });

  await step('users.get.no_session', {destroyed: state.destroyed}, async () => {
    const {err, res} = await call((cb) => QB.users.get(state.id, cb));
    return expectError(err, res, 401, 'a call without QB-Token');
  });
}

process.on('uncaughtException', (error) => {
  fail('uncaught', error);
  finish();
});
process.on('unhandledRejection', (error) => {
  fail('uncaught', error);
  finish();
});

main().then(finish, (error) => {
  fail('uncaught', error);
  finish();
});
