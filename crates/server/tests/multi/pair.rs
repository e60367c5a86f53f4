//! Two real `tessera serve` processes, A and B, on one fresh PostgreSQL database and one Redis,
//! sharing `keys.dir` and the bootstrap file, as they would behind a load balancer. Optionally
//! through a [`Proxy`] each, so that a test can cut PostgreSQL or Redis away from them.

use crate::proxy::Proxy;
use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::StatusCode;
use serde_json::Value;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tessera_testkit::pg::{self, FreshDb};
use tessera_testkit::{Answer, SmsInbox};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const STD: (&str, &str) = ("std", "std-secret");
pub const OPS: (&str, &str) = ("ops", "ops-secret");
pub const WEB: (&str, &str) = ("web", "web-secret");

/// What a test needs in front of the backends.
#[derive(Default, Clone, Copy)]
pub struct Options {
    pub proxy_postgres: bool,
    pub proxy_redis: bool,
}

fn redis_url() -> String {
    std::env::var("TESSERA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The real Redis, or `None` with a note when it does not answer and is not required.
async fn redis_available() -> Option<String> {
    let url = redis_url();
    let ok = match tessera_ephemeral::RedisEphemeral::connect(&url).await {
        Ok(r) => tessera_core::ephemeral::Ephemeral::ping(&r).await.is_ok(),
        Err(_) => false,
    };
    if ok {
        Some(url)
    } else if std::env::var("TESSERA_REQUIRE_REDIS").is_ok_and(|v| v == "1") {
        panic!("TESSERA_REQUIRE_REDIS=1 but Redis at {url} is unavailable")
    } else {
        eprintln!("Redis at {url} unavailable; skipping this two-process test");
        None
    }
}

/// `url` with its host and port replaced by `addr`, and the upstream address it named.
async fn through(url: &str, addr: Option<SocketAddr>) -> (String, SocketAddr) {
    let mut u = reqwest::Url::parse(url).unwrap();
    let host = u.host_str().unwrap().to_string();
    let port = u
        .port()
        .unwrap_or(if u.scheme() == "redis" { 6379 } else { 5432 });
    let upstream = tokio::net::lookup_host((host.as_str(), port))
        .await
        .unwrap()
        .find(SocketAddr::is_ipv4)
        .unwrap();
    if let Some(a) = addr {
        u.set_host(Some(&a.ip().to_string())).unwrap();
        u.set_port(Some(a.port())).unwrap();
    }
    (u.to_string(), upstream)
}

/// The transport and signing keys, made once per test run (RSA generation is slow).
fn keys() -> &'static (String, String) {
    static KEYS: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        (
            tessera_server::keys::generate_pem(2048).unwrap(),
            tessera_server::keys::generate_pem(2048).unwrap(),
        )
    })
}

/// One `tessera serve` process.
pub struct Node {
    pub name: &'static str,
    pub base: String,
    pub http: reqwest::Client,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

/// The two processes and what they share. Dropping it kills both and drops the database.
pub struct Pair {
    pub a: Node,
    pub b: Node,
    /// Unique per pair: usernames and phones carry it, since Redis is shared by every run.
    pub tag: String,
    phones: Vec<String>,
    pub inbox: SmsInbox,
    pub db_url: String,
    pub pg_proxy: Option<Proxy>,
    pub redis_proxy: Option<Proxy>,
    /// Declared after the processes, so dropped after them.
    db: Db,
    _dir: tempfile::TempDir,
}

/// The test's database, dropped with it, whenever that happens: also when a test fails half-way
/// or a process does not start (`Drop` cannot await: on a thread of its own).
struct Db(Option<FreshDb>);

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(db) = self.0.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(db.drop_db());
                }
            })
            .join();
        }
    }
}

/// The users of the bootstrap, each `<name>-<tag>` with password `<name>-pw`; `sms` belongs to
/// the tenant whose SMS second factor is `always`, the others to `T`.
pub const USERS: [&str; 7] = ["alice", "lock", "burst", "dis", "hoth", "sms", "fault"];

fn bootstrap(tag: &str, phones: &[String]) -> String {
    let mut s = String::from(
        r#"
[[tenants]]
code = "T"
name = "T"
sms_second_factor = "never"
[[tenants]]
code = "S"
name = "S"
sms_second_factor = "always"
[[orgs]]
tenant = "T"
code = "HQ"
name = "HQ"
[[orgs]]
tenant = "S"
code = "S1"
name = "S1"
[[clients]]
client_id = "std"
client_secret = "std-secret"
grant_types = ["client_credentials", "password", "refresh_token"]
scopes = ["read"]
[[clients]]
client_id = "ops"
client_secret = "ops-secret"
grant_types = ["client_credentials"]
scopes = ["tessera:admin"]
[[clients]]
client_id = "clu"
client_secret = "clu-secret"
dialect = "cluster"
grant_types = ["password", "refresh_token"]
scopes = ["all"]
[[clients]]
client_id = "web"
client_secret = "web-secret"
dialect = "hoth"
grant_types = ["password", "implicit", "refresh_token"]
scopes = ["all"]
"#,
    );
    for (name, phone) in USERS.iter().zip(phones) {
        let (tenant, org) = if *name == "sms" {
            ("S", "S1")
        } else {
            ("T", "HQ")
        };
        s.push_str(&format!(
            "[[users]]\nusername = \"{name}-{tag}\"\nphone = \"{phone}\"\npassword = \"{name}-pw\"\nphone_verified = true\n\
             [[memberships]]\nuser = \"{name}-{tag}\"\ntenant = \"{tenant}\"\norg = \"{org}\"\nroles = [\"user\"]\ndefault = true\n"
        ));
    }
    s
}

fn config(db_url: &str, redis_url: &str, dir: &std::path::Path, sms: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
issuer = "http://127.0.0.1"
trusted_proxies = ["127.0.0.1/32"]
[log]
level = "info"
format = "json"
[database]
url = "{db_url}"
max_connections = 8
[redis]
url = "{redis_url}"
[keys]
dir = "{keys}"
[passwords]
argon2_m_kib = 1024
argon2_t = 1
max_wait = "10s"
[captcha]
mode = "test"
[sms]
sender = "webhook"
webhook_url = "{sms}"
[dialects.cluster]
default_client = "clu"
[bootstrap]
file = "{boot}"
"#,
        keys = dir.join("keys").display(),
        boot = dir.join("bootstrap.toml").display(),
    )
}

impl Pair {
    /// Both processes, started at the same moment and ready (`/readyz` 200); `None` when
    /// PostgreSQL or Redis is missing and not required.
    pub async fn start(opts: Options) -> Option<Pair> {
        let redis = redis_available().await?;
        let db = Db(Some(pg::fresh_database().await?));
        let db_direct = db.0.as_ref().unwrap().url.clone();
        let dir = tempfile::tempdir().unwrap();
        let mut rng = rand::thread_rng();
        let tag = format!("{:08x}", rng.gen::<u32>());
        let base: u32 = rng.gen_range(0..100_000_000);
        let phones: Vec<String> = (0..USERS.len())
            .map(|i| format!("13{base:08}{i}"))
            .collect();
        // Each pair is one client IP (behind the trusted proxy 127.0.0.1), so that the per-IP
        // counters in the shared Redis belong to this test alone.
        let ip = format!(
            "10.{}.{}.{}",
            rng.gen::<u8>(),
            rng.gen::<u8>(),
            rng.gen_range(1..255u8)
        );
        drop(rng);

        let (redis_url, redis_up) = through(&redis, None).await;
        let redis_proxy = if opts.proxy_redis {
            Some(Proxy::start(redis_up).await)
        } else {
            None
        };
        let (redis_url, _) = match &redis_proxy {
            Some(p) => through(&redis_url, Some(p.addr)).await,
            None => (redis_url, redis_up),
        };
        let (_, pg_up) = through(&db_direct, None).await;
        let pg_proxy = if opts.proxy_postgres {
            Some(Proxy::start(pg_up).await)
        } else {
            None
        };
        let db_url = match &pg_proxy {
            Some(p) => through(&db_direct, Some(p.addr)).await.0,
            None => db_direct.clone(),
        };

        let (transport, signing) = keys();
        std::fs::create_dir_all(dir.path().join("keys")).unwrap();
        for (file, pem) in [("transport.pem", transport), ("signing.pem", signing)] {
            use std::os::unix::fs::PermissionsExt;
            let path = dir.path().join("keys").join(file);
            std::fs::write(&path, pem).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        std::fs::write(dir.path().join("bootstrap.toml"), bootstrap(&tag, &phones)).unwrap();
        let inbox = SmsInbox::start().await;
        let cfg = dir.path().join("tessera.toml");
        std::fs::write(&cfg, config(&db_url, &redis_url, dir.path(), &inbox.url)).unwrap();

        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(&ip).unwrap());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap();
        let (a, b) = tokio::join!(
            Node::spawn("A", &cfg, dir.path(), http.clone()),
            Node::spawn("B", &cfg, dir.path(), http.clone())
        );
        let pair = Pair {
            a,
            b,
            tag,
            phones,
            inbox,
            db_url: db_direct,
            pg_proxy,
            redis_proxy,
            db,
            _dir: dir,
        };
        for n in [&pair.a, &pair.b] {
            n.wait_ready(Duration::from_secs(30)).await;
        }
        Some(pair)
    }

    /// `<name>-<tag>`.
    pub fn user(&self, name: &str) -> String {
        format!("{name}-{}", self.tag)
    }

    pub fn phone(&self, name: &str) -> &str {
        let i = USERS.iter().position(|u| *u == name).unwrap();
        &self.phones[i]
    }

    /// Fails if either process printed a panic.
    pub fn assert_no_panic(&self) {
        for n in [&self.a, &self.b] {
            let log = n.log();
            assert!(
                !log.contains("panicked"),
                "process {} panicked:\n{log}",
                n.name
            );
        }
    }

    /// Kills both processes, then drops the database.
    pub async fn stop(mut self) {
        self.a.kill().await;
        self.b.kill().await;
        if let Some(db) = self.db.0.take() {
            db.drop_db().await;
        }
    }
}

impl Drop for Pair {
    /// A test that failed half-way: the processes are killed (SIGKILL) before the database goes.
    fn drop(&mut self) {
        let _ = self.a.child.start_kill();
        let _ = self.b.child.start_kill();
    }
}

impl Node {
    /// Starts `tessera serve --config cfg` and waits for the address it listens on (port 0, read
    /// from its JSON log).
    async fn spawn(
        name: &'static str,
        cfg: &std::path::Path,
        dir: &std::path::Path,
        http: reqwest::Client,
    ) -> Node {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
        cmd.arg("serve")
            .arg("--config")
            .arg(cfg)
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // The configuration is the file alone: no `TESSERA_<SECTION>__<KEY>` from outside.
        for (k, _) in std::env::vars() {
            if k.starts_with("TESSERA_") && k.contains("__") {
                cmd.env_remove(k);
            }
        }
        let mut child = cmd.spawn().unwrap();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let (tx, rx) = tokio::sync::oneshot::channel::<SocketAddr>();
        let stderr = child.stderr.take().unwrap();
        let lines = log.clone();
        tokio::spawn(async move {
            let mut tx = Some(tx);
            let mut r = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = r.next_line().await {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if v["fields"]["message"] == "tessera listening" {
                        if let Some(addr) =
                            v["fields"]["addr"].as_str().and_then(|a| a.parse().ok())
                        {
                            if let Some(tx) = tx.take() {
                                let _ = tx.send(addr);
                            }
                        }
                    }
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = match tokio::time::timeout(Duration::from_secs(30), rx).await {
            Ok(Ok(a)) => a,
            _ => {
                let status = child.try_wait();
                panic!(
                    "process {name} did not start listening ({status:?}):\n{}",
                    log.lock().unwrap().join("\n")
                )
            }
        };
        Node {
            name,
            base: format!("http://{addr}"),
            http,
            child,
            log,
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// `/readyz` answers 200 before `within` passes.
    pub async fn wait_ready(&self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Ok(r) = self.http.get(self.url("/readyz")).send().await {
                if r.status() == StatusCode::OK {
                    return;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "process {} not ready within {within:?}:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL, and wait for the process to be gone.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn read(r: reqwest::Response) -> Answer {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        Answer {
            status,
            headers,
            text,
        }
    }

    /// `POST path` with a form body, with HTTP Basic when `basic` is set.
    pub async fn post_form(
        &self,
        path: &str,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> Answer {
        self.try_post_form(path, basic, form)
            .await
            .unwrap_or_else(|e| panic!("process {}: POST {path}: {e}", self.name))
    }

    /// As [`Node::post_form`], with a transport error as `Err` (the process may be gone).
    pub async fn try_post_form(
        &self,
        path: &str,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> Result<Answer, reqwest::Error> {
        let mut rb = self.http.post(self.url(path)).form(form);
        if let Some((id, secret)) = basic {
            rb = rb.basic_auth(id, Some(secret));
        }
        Ok(Self::read(rb.send().await?).await)
    }

    pub async fn get(&self, path: &str) -> Answer {
        Self::read(
            self.http
                .get(self.url(path))
                .send()
                .await
                .unwrap_or_else(|e| panic!("process {}: GET {path}: {e}", self.name)),
        )
        .await
    }

    /// A request with a JSON body and a Bearer token.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut rb = self
            .http
            .request(method, self.url(path))
            .bearer_auth(bearer);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        Self::read(rb.send().await.unwrap()).await
    }

    /// A token grant that must succeed; answers the JSON body.
    pub async fn token(&self, basic: (&str, &str), form: &[(&str, &str)]) -> Value {
        let a = self.post_form("/oauth/token", Some(basic), form).await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "process {}: token request {form:?} failed: {}",
            self.name,
            a.text
        );
        a.json()
    }

    /// Whether `token` is active, asked as `caller`.
    pub async fn active(&self, caller: (&str, &str), token: &str) -> bool {
        let a = self
            .post_form("/oauth/introspect", Some(caller), &[("token", token)])
            .await;
        assert_eq!(a.status, StatusCode::OK, "introspection failed: {}", a.text);
        a.json()["active"].as_bool().unwrap()
    }
}

/// What JSEncrypt does for a `hoth` front-end: PKCS#1 v1.5 with the public key, base64.
pub fn encrypt(public_b64: &str, password: &str) -> String {
    use base64::Engine as _;
    use rsa::pkcs8::DecodePublicKey;
    let der = base64::engine::general_purpose::STANDARD
        .decode(public_b64)
        .unwrap();
    let key = rsa::RsaPublicKey::from_public_key_der(&der).unwrap();
    let c = key
        .encrypt(
            &mut rand::rngs::OsRng,
            rsa::Pkcs1v15Encrypt,
            password.as_bytes(),
        )
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(c)
}

impl Node {
    /// The `hoth` password grant (client `web`) with the password encrypted for this process's
    /// public key.
    pub async fn hoth_password(
        &self,
        username: &str,
        password: &str,
        extra: &[(&str, &str)],
    ) -> Answer {
        let key = self.get("/oauth/public/key").await.json()["publicKey"]
            .as_str()
            .unwrap()
            .to_string();
        let enc = encrypt(&key, password);
        // Seed 001 requires a device; a fresh one unless the test names one.
        let device = format!("device-{}", &enc[..12]);
        let mut form = vec![
            ("grant_type", "password"),
            ("username", username),
            ("password", enc.as_str()),
            ("source_type", "web"),
        ];
        if !extra.iter().any(|(k, _)| *k == "device_id") {
            form.push(("device_id", device.as_str()));
        }
        form.extend_from_slice(extra);
        self.post_form("/oauth/token", Some(WEB), &form).await
    }

    /// Seed 000's cluster login: no client credentials, `client=admin`, `type=baec`.
    pub async fn cluster_login(&self, extra: &[(&str, &str)]) -> Answer {
        let mut form = vec![
            ("grant_type", "password"),
            ("type", "baec"),
            ("client", "admin"),
            ("lang", "en_US"),
        ];
        form.extend_from_slice(extra);
        self.post_form("/oauth/token", None, &form).await
    }

    /// The standard password grant (client `std`), messages in English.
    pub async fn password(&self, username: &str, password: &str) -> Answer {
        self.post_form(
            "/oauth/token",
            Some(STD),
            &[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
                ("lang", "en_US"),
            ],
        )
        .await
    }
}
