// A real OAuth 2 client against Roster's CommCare OAuth2 (tests/integration/
// commcare_oauth_test.cc, Oauth4webapiClientRunsTheWholeFlow, runs it): oauth4webapi (panva's
// certified low-level OAuth 2 / OpenID Connect client) does RFC 8414 discovery, PKCE,
// the authorization response's validation (state, error), the code exchange (a public
// client, then a confidential one with client_secret_basic), the Bearer call, the
// refresh and the refusal of the rotated refresh token, each step with its own checks of
// the server's answers, then RFC 7009 revocation. The browser in between (the sign-in and consent page) is a fetch
// that submits the page's form as a browser does. Prints one JSON object of results.
//
//   ROSTER_URL=http://127.0.0.1:PORT PUBLIC_ID=... CONFIDENTIAL_ID=... CONFIDENTIAL_SECRET=... \
//   REDIRECT_URI=... EMAIL=... PASSWORD=... node oauth_flow.mjs
import * as oauth from 'oauth4webapi';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const base = env('ROSTER_URL');
const redirectUri = env('REDIRECT_URI');
const insecure = { [oauth.allowInsecureRequests]: true };  // the suite's server is plain http on loopback
const results = {};

// Discovery: the issuer must be the one asked for (RFC 8414 §3.3).
const issuer = new URL(base);
const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
results.metadata = {
  grant_types_supported: as.grant_types_supported,
  response_types_supported: as.response_types_supported,
  code_challenge_methods_supported: as.code_challenge_methods_supported,
  scopes_supported: as.scopes_supported,
};

// The browser: open the authorization URL, submit the consent form, stop at the redirect.
async function browse(authorizationUrl) {
  const page = await fetch(authorizationUrl);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`authorize page: ${page.status} ${html.slice(0, 200)}`);
  const form = new URLSearchParams();
  const unescape = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) form.append(unescape(m[1]), unescape(m[2]));
  form.append('username', env('EMAIL'));
  form.append('password', env('PASSWORD'));
  form.append('allow', 'Authorize');
  const posted = await fetch(new URL('/oauth/authorize/', base), { method: 'POST', body: form, redirect: 'manual' });
  if (posted.status !== 302) throw new Error(`consent: ${posted.status} ${(await posted.text()).slice(0, 200)}`);
  return new URL(posted.headers.get('location'));
}

async function codeFlow(client, clientAuth, scope) {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set('client_id', client.client_id);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', scope);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  const callback = await browse(url);
  if (!callback.href.startsWith(redirectUri)) throw new Error(`redirected elsewhere: ${callback.href}`);
  const params = oauth.validateAuthResponse(as, client, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, codeVerifier, insecure);
  const cacheControl = response.headers.get('cache-control');
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
  return { tokens, cacheControl };
}

async function apiStatus(accessToken, path) {
  try {
    const r = await oauth.protectedResourceRequest(accessToken, 'GET', new URL(path, base), undefined, undefined, insecure);
    return r.status;
  } catch (e) {
    // A 401 with challenges: oauth4webapi raises it as WWWAuthenticateChallengeError.
    if (e instanceof oauth.WWWAuthenticateChallengeError) return e.response.status;
    throw e;
  }
}

// A public client (no secret, PKCE).
const publicClient = { client_id: env('PUBLIC_ID') };
const first = await codeFlow(publicClient, oauth.None(), 'access_apis');
results.public = {
  token_type: first.tokens.token_type,
  expires_in: first.tokens.expires_in,
  scope: first.tokens.scope,
  has_refresh_token: typeof first.tokens.refresh_token === 'string',
  cache_control: first.cacheControl,
  users_status: await apiStatus(first.tokens.access_token, '/a/demo/api/v0.5/user/'),
};

// Refresh: a new pair; the old refresh token then refused with invalid_grant.
const refreshed = await oauth.processRefreshTokenResponse(as, publicClient,
  await oauth.refreshTokenGrantRequest(as, publicClient, oauth.None(), first.tokens.refresh_token, insecure));
results.refresh = {
  rotated: refreshed.refresh_token !== first.tokens.refresh_token,
  users_status: await apiStatus(refreshed.access_token, '/a/demo/api/v0.5/user/'),
  old_access_status: await apiStatus(first.tokens.access_token, '/a/demo/api/v0.5/user/'),
};
try {
  await oauth.processRefreshTokenResponse(as, publicClient,
    await oauth.refreshTokenGrantRequest(as, publicClient, oauth.None(), first.tokens.refresh_token, insecure));
  results.refresh.old_refresh_error = null;
} catch (e) {
  results.refresh.old_refresh_error = e instanceof oauth.ResponseBodyError ? e.error : String(e);
}

// A narrowed scope: the other project space is refused.
const narrowed = await codeFlow(publicClient, oauth.None(), 'access_apis domain:demo');
results.narrowed = {
  scope: narrowed.tokens.scope,
  demo_status: await apiStatus(narrowed.tokens.access_token, '/a/demo/api/v0.5/user/'),
  other_status: await apiStatus(narrowed.tokens.access_token, '/a/other/api/v0.5/user/'),
};

// A confidential client authenticating with client_secret_basic; a wrong secret first.
const confidential = { client_id: env('CONFIDENTIAL_ID') };
try {
  await codeFlow(confidential, oauth.ClientSecretBasic('not-the-secret'), 'access_apis');
  results.wrong_secret_error = null;
} catch (e) {
  // RFC 6749 §5.2: a 401 invalid_client to a client that used Basic carries a Basic
  // challenge, which oauth4webapi raises as such (with the response).
  if (e instanceof oauth.WWWAuthenticateChallengeError) {
    results.wrong_secret_challenge = e.cause.map((c) => c.scheme);
    results.wrong_secret_status = e.response.status;
    results.wrong_secret_error = (await e.response.json()).error;
  } else {
    results.wrong_secret_error = e instanceof oauth.ResponseBodyError ? e.error : String(e);
  }
}
const server = await codeFlow(confidential, oauth.ClientSecretBasic(env('CONFIDENTIAL_SECRET')), 'access_apis');
results.confidential = { users_status: await apiStatus(server.tokens.access_token, '/a/demo/api/v0.5/user/') };

// RFC 7009 revocation at the metadata's revocation_endpoint: the confidential client
// revokes its refresh token (client_secret_basic), which ends the access token issued
// with it; the public client revokes an access token alone, its refresh token refreshing
// on. processRevocationResponse throws on anything but a 200 without an OAuth error.
await oauth.processRevocationResponse(await oauth.revocationRequest(as, confidential,
  oauth.ClientSecretBasic(env('CONFIDENTIAL_SECRET')), server.tokens.refresh_token,
  { ...insecure, additionalParameters: { token_type_hint: 'refresh_token' } }));
results.revocation = {
  endpoint: as.revocation_endpoint,
  revoked_pair_access_status: await apiStatus(server.tokens.access_token, '/a/demo/api/v0.5/user/'),
};
try {
  await oauth.processRefreshTokenResponse(as, confidential, await oauth.refreshTokenGrantRequest(as, confidential,
    oauth.ClientSecretBasic(env('CONFIDENTIAL_SECRET')), server.tokens.refresh_token, insecure));
  results.revocation.revoked_refresh_error = null;
} catch (e) {
  results.revocation.revoked_refresh_error = e instanceof oauth.ResponseBodyError ? e.error : String(e);
}
await oauth.processRevocationResponse(await oauth.revocationRequest(as, publicClient, oauth.None(),
  narrowed.tokens.access_token, insecure));
results.revocation.revoked_access_status = await apiStatus(narrowed.tokens.access_token, '/a/demo/api/v0.5/user/');
const after = await oauth.processRefreshTokenResponse(as, publicClient,
  await oauth.refreshTokenGrantRequest(as, publicClient, oauth.None(), narrowed.tokens.refresh_token, insecure));
results.revocation.refresh_after_access_revoked_status = await apiStatus(after.access_token, '/a/demo/api/v0.5/user/');
// An unknown token: no error (RFC 7009 §2.2).
await oauth.processRevocationResponse(await oauth.revocationRequest(as, publicClient, oauth.None(), '1_feed', insecure));
results.revocation.unknown_token_ok = true;

console.log(JSON.stringify(results));
