// A real browser (headless Chromium driven by playwright-core) against the tessera binary: the
// hosted login page in both languages (screenshots in artifacts/), sign-in for a public PKCE
// client, single sign-on into a second client, logout.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ALICE, ARTIFACTS_DIR, pkcePair, randomToken, startServer } from './lib/server.mjs';

const T = { timeout: 60_000 };
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

let srv;
let browser;
let context;
let page;
const navigations = []; // every main-frame URL the page went through, redirects included

before(async () => {
  srv = await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
  });
  context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(20_000);
  // The clients' redirect URIs (/cb-spa, /cb-rp, /bye on the server's own origin) are served by
  // nobody: tessera answers them 404. A route cannot stand in for them, because Playwright does not
  // intercept the targets of HTTP redirects (microsoft/playwright#3993, "as designed"), and every
  // visit to them here is the end of a redirect chain. The tests read the code and state from the URL
  // the browser was sent to, which is what a relying party gets.
  page = await context.newPage();
  page.on('request', (req) => {
    if (req.isNavigationRequest() && req.frame() === page.mainFrame()) navigations.push(req.url());
  });
  await mkdir(ARTIFACTS_DIR, { recursive: true });
}, { timeout: 60_000 });

after(async () => {
  await browser?.close().catch(() => {});
  await srv?.stop();
}, { timeout: 30_000 });

function authorizeUrl(clientId, redirectPath, { challenge, scope = 'openid profile' } = {}) {
  const u = new URL('/oauth/authorize', srv.base);
  const state = randomToken();
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: `${srv.base}${redirectPath}`,
    scope,
    state,
    nonce: randomToken(),
    ...(challenge ? { code_challenge: challenge, code_challenge_method: 'S256' } : {}),
  });
  return { url: u.toString(), state };
}

async function assertLoginPage() {
  const url = new URL(page.url());
  assert.equal(url.origin + url.pathname, `${srv.base}/login`, `on the login page: ${page.url()}`);
  const form = page.locator('form[method="post"][action="/login"]');
  await form.waitFor({ state: 'visible' });
  assert.equal(await form.locator('input[name="username"]').isVisible(), true);
  assert.equal(await form.locator('input[name="password"]').isVisible(), true);
  assert.equal(await form.locator('button[type="submit"]').isVisible(), true);
  return url;
}

/** A control is usable when it lies wholly inside the viewport's width and is not tiny. */
async function assertFitsViewport(selector, viewport) {
  const box = await page.locator(selector).first().boundingBox();
  assert.ok(box, `${selector} has a box`);
  assert.ok(box.x >= 0 && box.x + box.width <= viewport.width, `${selector} fits: ${JSON.stringify(box)}`);
  assert.ok(box.height >= 30, `${selector} is tall enough to tap: ${box.height}`);
}

const spa = pkcePair();
let spaAuth;

test('spa authorize without a session shows the login page (zh_CN, phone)', T, async () => {
  spaAuth = authorizeUrl('spa', '/cb-spa', { challenge: spa.challenge });
  await page.goto(spaAuth.url);
  const url = await assertLoginPage();
  assert.equal(url.searchParams.get('lang'), 'zh_CN');
  assert.ok(url.searchParams.get('continue').startsWith('/oauth/authorize?'));
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.equal(await page.title(), '登录');
  assert.equal((await page.locator('h1').innerText()).trim(), '登录');
  assert.equal((await page.locator('label[for="password"]').innerText()).trim(), '密码');
  assert.equal(await page.locator('footer a', { hasText: 'English' }).count(), 1);
  assert.equal(await page.locator('footer a', { hasText: '中文' }).count(), 1);
  for (const s of ['input[name="username"]', 'input[name="password"]', 'button[type="submit"]']) {
    await assertFitsViewport(s, PHONE);
  }
  // No horizontal scrolling on a phone.
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scrollWidth <= PHONE.width, `no horizontal scroll: ${scrollWidth}`);
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'login-zh_CN.png'), fullPage: true });
});

test('the English link switches the login page to en_US (desktop)', T, async () => {
  await page.setViewportSize(DESKTOP);
  await Promise.all([page.waitForURL(/[?&]lang=en_US/), page.locator('footer a', { hasText: 'English' }).click()]);
  const url = await assertLoginPage();
  assert.equal(url.searchParams.get('lang'), 'en_US');
  assert.ok(url.searchParams.get('continue').startsWith('/oauth/authorize?'), 'continue kept');
  assert.match(await page.getAttribute('html', 'lang'), /^en/);
  const text = await page.locator('main').innerText();
  assert.doesNotMatch(text.replace('中文', ''), /[\u4e00-\u9fff]/, `no Chinese left on the English page:\n${text}`);
  assert.equal(await page.locator('input[name="lang"]').inputValue(), 'en_US');
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'login-en_US.png'), fullPage: true });
});

test('signing in returns a code to the spa, and the code is valid with its verifier', T, async () => {
  await page.locator('input[name="username"]').fill(ALICE.username);
  await page.locator('input[name="password"]').fill(ALICE.password);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/cb-spa'),
    page.locator('button[type="submit"]').click(),
  ]);
  const cb = new URL(page.url());
  assert.equal(cb.origin, srv.base);
  assert.equal(cb.searchParams.get('state'), spaAuth.state);
  const code = cb.searchParams.get('code');
  assert.ok(code, `a code in ${page.url()}`);

  const sso = (await context.cookies(srv.base)).find((c) => c.name === 'tessera_sso');
  assert.ok(sso, 'the SSO cookie is set');
  assert.equal(sso.httpOnly, true);
  assert.equal(sso.sameSite, 'Lax');

  // Exchange now: codes live 60 s.
  const r = await fetch(new URL('/oauth/token', srv.base), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: `${srv.base}/cb-spa`,
      client_id: 'spa',
      code_verifier: spa.verifier,
    }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body));
  assert.equal(body.token_type, 'Bearer');
  assert.ok(body.access_token);
  assert.ok(body.id_token);
  assert.equal(body.refresh_token, undefined, 'spa is not allowed refresh_token');
  const claims = JSON.parse(Buffer.from(body.id_token.split('.')[1], 'base64url'));
  assert.equal(claims.iss, srv.base);
  assert.ok([claims.aud].flat().includes('spa'));

  const info = await fetch(new URL('/oauth/userinfo', srv.base), {
    headers: { authorization: `Bearer ${body.access_token}` },
    signal: AbortSignal.timeout(15_000),
  });
  assert.equal(info.status, 200);
  const ui = await info.json();
  assert.equal(ui.preferred_username, 'alice');
  assert.equal(ui.email, undefined, 'spa has no email scope');
});

test('a second client (rp) gets a code without the login page (SSO)', T, async () => {
  const rp = authorizeUrl('rp', '/cb-rp', { scope: 'openid email' });
  navigations.length = 0;
  await page.goto(rp.url);
  await page.waitForURL((u) => u.pathname === '/cb-rp');
  const cb = new URL(page.url());
  assert.equal(cb.searchParams.get('state'), rp.state);
  const code = cb.searchParams.get('code');
  assert.ok(code);
  const paths = navigations.map((u) => new URL(u).pathname);
  assert.deepEqual(paths, ['/oauth/authorize', '/cb-rp'], 'redirect hops are seen, /login is not');
  assert.ok(
    navigations.every((u) => new URL(u).pathname !== '/login'),
    `never went through /login: ${navigations.join(' -> ')}`,
  );

  const r = await fetch(new URL('/oauth/token', srv.base), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('rp:rp-secret').toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${srv.base}/cb-rp` }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body));
  assert.ok(body.id_token);
});

test('logout, then the spa authorize shows the login page again', T, async () => {
  const state = randomToken();
  const logout = new URL('/oauth/logout', srv.base);
  logout.search = new URLSearchParams({
    client_id: 'rp',
    post_logout_redirect_uri: `${srv.base}/bye`,
    state,
  });
  await page.goto(logout.toString());
  await page.waitForURL((u) => u.pathname === '/bye');
  assert.equal(new URL(page.url()).searchParams.get('state'), state);
  const left = (await context.cookies(srv.base)).find((c) => c.name === 'tessera_sso');
  assert.equal(left, undefined, 'the SSO cookie is gone');

  const again = authorizeUrl('spa', '/cb-spa', { challenge: pkcePair().challenge });
  await page.goto(again.url);
  await assertLoginPage();
});
