// Starts the real tessera binary for one test file: a fresh temporary directory with its own
// config, SQLite database, keys and bootstrap file, on a free loopback port.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const E2E_DIR = resolve(here, '..');
export const ARTIFACTS_DIR = join(E2E_DIR, 'artifacts');
export const TESSERA_BIN =
  process.env.TESSERA_BIN || resolve(E2E_DIR, '..', 'target', 'debug', 'tessera');

export const ALICE = { username: 'alice', password: 'Passw0rd!', email: 'alice@example.test' };

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

function bootstrapToml(base) {
  return `
[[tenants]]
code = "E2E"
name = "端到端"
enabled = true

[[orgs]]
tenant = "E2E"
code = "HQ"
name = "总部"
type = "SAAS"

[[users]]
username = "alice"
password = "Passw0rd!"
email = "alice@example.test"
email_verified = true
display_name = "Alice"
enabled = true
active = true
superuser = true

[[users]]
username = "bob"
id = 5002
password = "Bob-Passw0rd!"
display_name = 'Bob <b>"the builder"</b>'

[[memberships]]
user = "bob"
tenant = "E2E"
org = "HQ"
roles = ["user"]

[[memberships]]
user = "alice"
tenant = "E2E"
org = "HQ"
roles = ["user"]
default = true

[[clients]]
client_id = "rp"
client_secret = "rp-secret"
dialect = "standard"
grant_types = ["authorization_code", "refresh_token"]
redirect_uris = ["${base}/cb-rp"]
post_logout_redirect_uris = ["${base}/bye"]
scopes = ["openid", "profile", "email"]

[[clients]]
client_id = "spa"
dialect = "standard"
grant_types = ["authorization_code"]
redirect_uris = ["${base}/cb-spa"]
scopes = ["openid", "profile"]

[[clients]]
client_id = "mk"
client_secret = "mk-secret"
dialect = "maxkey"
grant_types = ["authorization_code"]
redirect_uris = ["${base}/cb-mk"]
scopes = ["all"]
`;
}

/**
 * Starts tessera; resolves to { base, port, dir, stop(), log() } once GET /readyz answers 200.
 */
export async function startServer({ readyTimeoutMs = 30_000 } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  await writeFile(
    join(dir, 'tessera.toml'),
    `[server]
listen = "127.0.0.1:${port}"
issuer = "${base}"

[database]
url = "sqlite://${dir}/t.db"

[keys]
dir = "${dir}/keys"

[passwords]
argon2_m_kib = 1024
argon2_t = 1

[bootstrap]
file = "${dir}/boot.toml"
`,
  );
  await writeFile(join(dir, 'boot.toml'), bootstrapToml(base));

  let output = '';
  const child = spawn(TESSERA_BIN, ['serve', '--config', join(dir, 'tessera.toml')], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let exited = null;
  const exitPromise = new Promise((ok) =>
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      ok(exited);
    }),
  );
  child.on('error', (e) => {
    output += `\nspawn error: ${e.message}`;
    exited = exited || { code: -1, signal: null };
  });

  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => !exited && child.kill('SIGKILL'), 5_000);
      await exitPromise;
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`tessera (${TESSERA_BIN}) exited early ${JSON.stringify(exited)}:\n${output}`);
    }
    try {
      const r = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`tessera not ready within ${readyTimeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { base, port, dir, stop, log: () => output };
}

export function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

export function randomToken() {
  return randomBytes(16).toString('base64url');
}

/** A minimal cookie jar for fetch with redirect: 'manual' (one host, no path/expiry logic). */
export class CookieJar {
  constructor() {
    this.cookies = new Map();
  }
  store(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const maxAge = attrs.map((a) => a.trim()).find((a) => /^max-age=/i.test(a));
      const expires = attrs.map((a) => a.trim()).find((a) => /^expires=/i.test(a));
      const expired =
        value === '' ||
        (maxAge && Number(maxAge.split('=')[1]) <= 0) ||
        (expires && Date.parse(expires.slice(8)) < Date.now());
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, { value, raw: line });
    }
  }
  get(name) {
    return this.cookies.get(name)?.value;
  }
  raw(name) {
    return this.cookies.get(name)?.raw;
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v.value}`).join('; ');
  }
}

/** fetch without following redirects, sending and storing cookies of the jar. */
export async function jarFetch(jar, url, init = {}) {
  const headers = new Headers(init.headers || {});
  const cookie = jar.header();
  if (cookie) headers.set('cookie', cookie);
  const r = await fetch(url, {
    ...init,
    headers,
    redirect: 'manual',
    signal: init.signal || AbortSignal.timeout(15_000),
  });
  jar.store(r);
  return r;
}

export function htmlUnescape(s) {
  return s
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Value of the <input name="..."> in an HTML page (attributes in any order). */
export function inputValue(html, name) {
  for (const m of html.matchAll(/<input\b[^>]*>/gi)) {
    const tag = m[0];
    const n = /\bname\s*=\s*"([^"]*)"/i.exec(tag);
    if (n && htmlUnescape(n[1]) === name) {
      const v = /\bvalue\s*=\s*"([^"]*)"/i.exec(tag);
      return v ? htmlUnescape(v[1]) : '';
    }
  }
  return undefined;
}
