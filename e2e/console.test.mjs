// The web console in headless Chromium (issue 17): the superuser alice signs in through the login
// page, finds a user, disables and enables the account, resets its password (the one-time password
// is shown once and signs in), ends nothing it should not, and the dashboard, the users list and a
// user's page are photographed in zh_CN and en_US, on a desktop and a phone (artifacts/).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ALICE, ARTIFACTS_DIR, startServer } from './lib/server.mjs';

const T = { timeout: 60_000 };
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

let srv;
let browser;
let page;

before(async () => {
  srv = await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    timeout: 30_000,
  });
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
  context.setDefaultTimeout(20_000);
  page = await context.newPage();
  await mkdir(ARTIFACTS_DIR, { recursive: true });
}, { timeout: 60_000 });

after(async () => {
  await browser?.close().catch(() => {});
  await srv?.stop();
}, { timeout: 30_000 });

async function shoot(name) {
  await page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), fullPage: true });
}

test('the front door links the console, which sends a stranger to sign in and back', T, async () => {
  await page.goto(`${srv.base}/?lang=en_US`);
  assert.match(await page.locator('h1').innerText(), /Tessera/);
  await Promise.all([page.waitForURL(/\/login\?/), page.locator('a', { hasText: 'Console' }).click()]);
  await page.locator('input[name="username"]').fill(ALICE.username);
  await page.locator('input[name="password"]').fill(ALICE.password);
  await Promise.all([page.waitForURL((u) => u.pathname === '/console'), page.locator('button[type="submit"]').click()]);
  assert.match(await page.locator('header').innerText(), /alice · Superuser/);
  await shoot('console-dashboard-en_US-desktop');
});

test('a user is found, disabled, enabled and reset, and the one-time password signs in', T, async () => {
  await page.goto(`${srv.base}/console/users?lang=en_US`);
  await shoot('console-users-en_US-desktop');
  await page.locator('input[name="q"]').fill('bob');
  await Promise.all([page.waitForURL(/q=bob/), page.locator('form button[type="submit"]').first().click()]);
  await Promise.all([page.waitForURL(/\/console\/users\/5002/), page.locator('a', { hasText: 'bob' }).click()]);
  // The name is text: the <b> of the bootstrap file is shown, not applied.
  assert.match(await page.locator('main').innerText(), /Bob <b>"the builder"<\/b>/);
  assert.equal(await page.locator('main b').count(), 0);

  await page.locator('button', { hasText: 'Disable the account' }).click();
  await page.waitForLoadState();
  assert.match(await page.locator('#status').innerText(), /disabled/);
  await page.locator('button', { hasText: 'Enable the account' }).click();
  await page.waitForLoadState();
  assert.match(await page.locator('#status').innerText(), /enabled/);

  await page.locator('button', { hasText: 'Reset the password' }).click();
  await page.waitForLoadState();
  const otp = (await page.locator('#one-time-password').innerText()).trim();
  assert.ok(otp.length >= 8, otp);
  await shoot('console-user-en_US-desktop');

  // The new password works: a password grant is not open to bob here, so sign in on the login
  // page of a fresh browser.
  const other = await browser.newContext();
  const p2 = await other.newPage();
  await p2.goto(`${srv.base}/login?lang=en_US`);
  await p2.locator('input[name="username"]').fill('bob');
  await p2.locator('input[name="password"]').fill(otp);
  await p2.locator('button[type="submit"]').click();
  await p2.waitForLoadState();
  assert.match(await p2.locator('main').innerText(), /bob/);
  // bob is no admin: the console refuses him.
  const r = await p2.goto(`${srv.base}/console?lang=en_US`);
  assert.equal(r.status(), 403);
  await other.close();
});

test('the console in zh_CN on a phone fits the screen', T, async () => {
  await page.setViewportSize(PHONE);
  for (const [path, name] of [['/console', 'dashboard'], ['/console/users', 'users'], ['/console/users/5002', 'user']]) {
    await page.goto(`${srv.base}${path}?lang=zh_CN`);
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= PHONE.width + 1, `${path}: no horizontal scroll (${scrollWidth})`);
    await shoot(`console-${name}-zh_CN-phone`);
  }
  await page.setViewportSize(DESKTOP);
  await page.goto(`${srv.base}/console?lang=zh_CN`);
  await shoot('console-dashboard-zh_CN-desktop');
});
