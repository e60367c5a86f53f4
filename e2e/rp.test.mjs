// A real OpenID Connect relying party (panva's openid-client) against the tessera binary:
// discovery, authorization code + PKCE + state + nonce, ID token validation against the JWKS,
// userinfo; then single sign-on into a maxkey client with the same cookies, and logout.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import {
  ALICE,
  CookieJar,
  inputValue,
  jarFetch,
  randomToken,
  startServer,
} from './lib/server.mjs';

const T = { timeout: 60_000 };
let srv;
let config; // openid-client Configuration for `rp`
const jar = new CookieJar(); // the "browser" of this file: one jar shared by every step

before(async () => {
  srv = await startServer();
}, { timeout: 60_000 });
after(async () => {
  await srv?.stop();
}, { timeout: 30_000 });

function location(r) {
  const loc = r.headers.get('location');
  assert.ok(loc, `expected a Location header on ${r.status} ${r.url}`);
  return new URL(loc, srv.base);
}

/** Follows a 302 to /login, fills in the form as a browser would, returns the final redirect. */
async function signInThroughLoginPage(authorizeUrl) {
  const a = await jarFetch(jar, authorizeUrl);
  assert.equal(a.status, 302, 'authorize without a session redirects');
  const loginUrl = location(a);
  assert.equal(loginUrl.pathname, '/login');
  const cont = loginUrl.searchParams.get('continue');
  assert.ok(cont?.startsWith('/oauth/authorize?'), `continue is the authorize path: ${cont}`);

  const page = await jarFetch(jar, loginUrl);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') || '', /text\/html/);
  const html = await page.text();
  assert.match(html, /<form method="post" action="\/login">/);
  const csrf = inputValue(html, 'csrf');
  assert.ok(csrf, 'the form has a csrf input');
  assert.equal(csrf, jar.get('tessera_csrf'), 'double-submit: csrf input equals the cookie');
  assert.equal(inputValue(html, 'continue'), cont, 'the continue input round-trips (unescaped)');
  assert.equal(inputValue(html, 'lang'), 'zh_CN');

  const post = await jarFetch(jar, new URL('/login', srv.base), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      csrf,
      continue: cont,
      lang: inputValue(html, 'lang'),
      username: ALICE.username,
      password: ALICE.password,
    }),
  });
  assert.equal(post.status, 303, `POST /login answers 303 (got ${post.status})`);
  assert.equal(location(post).pathname + location(post).search, cont);
  const sso = jar.raw('tessera_sso');
  assert.ok(sso, 'POST /login sets tessera_sso');
  assert.match(sso, /;\s*HttpOnly/i);
  assert.match(sso, /;\s*SameSite=Lax/i);

  const back = await jarFetch(jar, location(post));
  assert.equal(back.status, 302);
  return location(back);
}

test('discovery of the issuer', T, async () => {
  config = await oidc.discovery(
    new URL(srv.base),
    'rp',
    undefined,
    oidc.ClientSecretBasic('rp-secret'),
    { execute: [oidc.allowInsecureRequests], timeout: 15 },
  );
  const md = config.serverMetadata();
  assert.equal(md.issuer, srv.base);
  assert.equal(md.authorization_endpoint, `${srv.base}/oauth/authorize`);
  assert.equal(md.token_endpoint, `${srv.base}/oauth/token`);
  assert.equal(md.jwks_uri, `${srv.base}/oauth/jwks`);
  assert.ok(md.code_challenge_methods_supported.includes('S256'));
  assert.ok(md.id_token_signing_alg_values_supported.includes('RS256'));

  const jwks = await (await fetch(md.jwks_uri)).json();
  assert.ok(jwks.keys.length >= 1);
  for (const k of jwks.keys) {
    assert.equal(k.kty, 'RSA');
    assert.ok(k.kid, 'every key has a kid');
    assert.equal(k.d, undefined, 'no private parts in the JWKS');
  }
});

test('rp: code + PKCE + state + nonce through the login form, tokens, userinfo', T, async () => {
  assert.ok(config, 'discovery ran');
  const redirect_uri = `${srv.base}/cb-rp`;
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const authUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri,
    scope: 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  const cb = await signInThroughLoginPage(authUrl);
  assert.equal(cb.origin + cb.pathname, redirect_uri);
  assert.equal(cb.searchParams.get('state'), state);
  assert.ok(cb.searchParams.get('code'));

  const tokens = await oidc.authorizationCodeGrant(config, cb, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.ok(tokens.access_token);
  assert.ok(tokens.refresh_token, 'rp is allowed refresh_token');
  assert.ok(tokens.expires_in > 0);
  assert.deepEqual(new Set(tokens.scope.split(' ')), new Set(['openid', 'profile', 'email']));

  const claims = tokens.claims();
  assert.equal(claims.iss, srv.base);
  assert.ok([claims.aud].flat().includes('rp'));
  assert.equal(claims.nonce, nonce);
  assert.ok(claims.sub);
  assert.equal(typeof claims.auth_time, 'number');
  assert.ok(claims.iat <= claims.exp);
  const header = JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url'));
  assert.equal(header.alg, 'RS256');
  assert.ok(header.kid);
  const digest = createHash('sha256').update(tokens.access_token).digest();
  assert.equal(claims.at_hash, digest.subarray(0, 16).toString('base64url'), 'at_hash');

  const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.sub, claims.sub);
  assert.equal(info.email, ALICE.email);
  assert.equal(info.email_verified, true);
  assert.equal(info.preferred_username, 'alice');
  assert.equal(info.name, 'Alice');

  // Refresh tokens rotate.
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  assert.ok(refreshed.access_token);
  assert.notEqual(refreshed.access_token, tokens.access_token);
  assert.ok(refreshed.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);

  // Codes are single-use: a replay is invalid_grant and revokes what the first use issued.
  await assert.rejects(
    oidc.authorizationCodeGrant(config, cb, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    }),
    (e) => e.code === 'OAUTH_RESPONSE_BODY_ERROR' && e.error === 'invalid_grant',
  );
  const dead = await fetch(new URL('/oauth/userinfo', srv.base), {
    headers: { authorization: `Bearer ${tokens.access_token}` },
    signal: AbortSignal.timeout(15_000),
  });
  assert.equal(dead.status, 401, 'the access token of a replayed code is revoked');
});

test('maxkey client: single sign-on without a password, token and /me', T, async () => {
  assert.ok(jar.get('tessera_sso'), 'signed in by the previous test');
  const redirect_uri = `${srv.base}/cb-mk`;
  const state = randomToken();
  const authz = new URL('/api/sso/authz/oauth/v20/authorize', srv.base);
  authz.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'mk',
    redirect_uri,
    state,
  });
  const a = await jarFetch(jar, authz);
  assert.equal(a.status, 302, 'SSO: straight back to the client');
  const cb = location(a);
  assert.equal(cb.origin + cb.pathname, redirect_uri, `no login page: ${cb}`);
  assert.equal(cb.searchParams.get('state'), state);
  const code = cb.searchParams.get('code');
  assert.ok(code);

  const tr = await fetch(new URL('/api/sso/authz/oauth/v20/token', srv.base), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: 'mk',
      client_secret: 'mk-secret',
      code,
      redirect_uri,
      grant_type: 'authorization_code',
    }),
    signal: AbortSignal.timeout(15_000),
  });
  assert.equal(tr.status, 200);
  const tok = await tr.json();
  assert.ok(tok.access_token);
  assert.equal(tok.token_type, 'bearer');
  assert.ok(Number.isInteger(tok.expires_in) && tok.expires_in > 0);
  assert.equal(typeof tok.scope, 'string');

  const me = new URL('/api/sso/authz/oauth/v20/me', srv.base);
  me.searchParams.set('access_token', tok.access_token);
  const mr = await fetch(me, { signal: AbortSignal.timeout(15_000) });
  assert.equal(mr.status, 200);
  const body = await mr.json();
  for (const f of [
    'birthday', 'gender', 'displayName', 'departmentId', 'department', 'mobile', 'createdate',
    'title', 'userId', 'online_ticket', 'employeeNumber', 'realname', 'institution', 'randomId',
    'id', 'state', 'user', 'email', 'username',
  ]) {
    assert.ok(f in body, `/me has ${f}`);
  }
  assert.equal(body.displayName, 'Alice');
  assert.equal(typeof body.userId, 'string');
  assert.ok(body.userId.length > 0);
  assert.match(body.online_ticket, /^OT_./);
  assert.equal(typeof body.institution, 'string');
  assert.ok(body.institution.length > 0);
  assert.equal(body.department, '总部');
  assert.equal(body.user, 'alice');
  assert.equal(body.email, ALICE.email);

  // The token is for mk only; a wrong one is refused.
  me.searchParams.set('access_token', tok.access_token + 'x');
  const bad = await fetch(me, { signal: AbortSignal.timeout(15_000) });
  assert.equal(bad.status, 401);
});

test('logout ends the session; the next authorize asks for a password again', T, async () => {
  const oldSso = jar.get('tessera_sso');
  assert.ok(oldSso, 'signed in by the previous tests');
  const state = randomToken();
  const post_logout_redirect_uri = `${srv.base}/bye`;
  const logoutUrl = oidc.buildEndSessionUrl(config, { post_logout_redirect_uri, state });
  assert.equal(logoutUrl.origin + logoutUrl.pathname, `${srv.base}/oauth/logout`);
  assert.equal(logoutUrl.searchParams.get('client_id'), 'rp');

  const r = await jarFetch(jar, logoutUrl);
  assert.equal(r.status, 302);
  const bye = location(r);
  assert.equal(bye.origin + bye.pathname, post_logout_redirect_uri);
  assert.equal(bye.searchParams.get('state'), state);
  assert.equal(jar.get('tessera_sso'), undefined, 'the SSO cookie is cleared');

  const authUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${srv.base}/cb-rp`,
    scope: 'openid',
    state: oidc.randomState(),
  });
  const a = await jarFetch(jar, authUrl);
  assert.equal(a.status, 302);
  assert.equal(location(a).pathname, '/login');

  // A browser that kept the old cookie value gets no code either: the session itself is gone.
  const replay = await fetch(authUrl, {
    headers: { cookie: `tessera_sso=${oldSso}` },
    redirect: 'manual',
    signal: AbortSignal.timeout(15_000),
  });
  assert.equal(replay.status, 302);
  assert.equal(location(replay).pathname, '/login', 'the old SSO cookie is dead server-side');
});

test('the login form: CSRF is enforced and `continue` never leads off-site', T, async () => {
  const fresh = new CookieJar();
  const html = await (await jarFetch(fresh, new URL('/login?lang=en_US&continue=%2F', srv.base))).text();
  const csrf = inputValue(html, 'csrf');
  const form = (fields) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ lang: 'en_US', username: ALICE.username, password: ALICE.password, ...fields }),
  });

  const forged = new CookieJar();
  forged.cookies = new Map(fresh.cookies);
  const bad = await jarFetch(forged, new URL('/login', srv.base), form({ csrf: `${csrf}x`, continue: '/' }));
  assert.equal(bad.status, 400, 'a csrf input that differs from the cookie is refused');
  assert.equal(forged.get('tessera_sso'), undefined);

  for (const cont of [
    'https://evil.example.test/x',
    '//evil.example.test/x',
    '/\\evil.example.test/x',
    'javascript:alert(1)',
  ]) {
    const jar2 = new CookieJar();
    jar2.cookies = new Map(fresh.cookies);
    const r = await jarFetch(jar2, new URL('/login', srv.base), form({ csrf, continue: cont }));
    await r.arrayBuffer();
    const loc = r.headers.get('location');
    if (loc !== null) {
      const target = new URL(loc, srv.base);
      assert.equal(target.origin, srv.base, `continue=${cont} redirected off-site to ${loc}`);
    }
  }
});
