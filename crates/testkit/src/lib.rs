//! The test kit: [`TestApp`] starts the real Tessera (configuration, storage, engine, HTTP) on a
//! free port of 127.0.0.1, with a bootstrap text and cheap Argon2 parameters; [`pg`] makes fresh
//! PostgreSQL databases on the real server so that tests never share state.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod pg;
pub mod sms_inbox;

pub use sms_inbox::SmsInbox;
pub use tessera_ephemeral::MemoryEphemeral;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::Arc;
use tessera_core::Engine;
use tessera_server::config::Config;
use tessera_server::Running;

/// A configuration for tests: a throw-away SQLite file, port 0, quiet logs and Argon2
/// parameters cheap enough for hundreds of sign-ins per test run.
pub fn test_config(dir: &std::path::Path) -> Config {
    let mut c = Config::default();
    c.server.listen = "127.0.0.1:0".into();
    c.database.url = format!("sqlite://{}/tessera.db", dir.display());
    c.database.max_connections = 4;
    c.keys.dir = format!("{}/keys", dir.display());
    // One RSA transport key per test run, not one per test: key generation is slow.
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let pem = KEY.get_or_init(|| tessera_server::keys::generate_pem(2048).expect("RSA key"));
    std::fs::create_dir_all(dir.join("keys")).expect("keys dir");
    std::fs::write(dir.join("keys/transport.pem"), pem).expect("transport key");
    c.passwords.argon2_m_kib = 1024;
    c.passwords.argon2_t = 1;
    c.passwords.max_wait = "10s".parse().unwrap();
    c
}

/// A clock for [`TestApp::spawn_at`] that starts at the wall clock's time and moves only when
/// the test says so.
pub fn manual_clock() -> Arc<tessera_core::clock::ManualClock> {
    use tessera_core::clock::Clock;
    Arc::new(tessera_core::clock::ManualClock::new(
        tessera_core::clock::SystemClock.now(),
    ))
}

/// A running Tessera for one test.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub engine: Arc<Engine>,
    /// The store behind the engine, for tests that look at or set up rows directly.
    pub store: Arc<dyn tessera_core::store::Store>,
    pub dir: tempfile::TempDir,
    running: Option<Running>,
    pg_db: Option<pg::FreshDb>,
}

impl Drop for TestApp {
    /// Drops the test's PostgreSQL database, if it made one (on a thread of its own: `Drop`
    /// cannot await).
    fn drop(&mut self) {
        if let Some(db) = self.pg_db.take() {
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

/// One HTTP answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    /// The body as JSON; `Value::Null` if it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    /// Tessera on SQLite with `bootstrap` applied.
    pub async fn spawn(bootstrap: &str) -> TestApp {
        Self::spawn_with(bootstrap, |_| {}).await
    }

    /// Tessera with a configuration adjusted by `tweak`. With `TESSERA_TEST_BACKEND=postgres`
    /// (the second pass of `scripts/test`), a test that did not choose a database gets a fresh
    /// PostgreSQL database instead of SQLite, so the whole suite runs on both.
    pub async fn spawn_with(bootstrap: &str, tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_at(bootstrap, tweak, Arc::new(tessera_core::clock::SystemClock)).await
    }

    /// [`Self::spawn_with`] on a clock of the test's own, usually a
    /// [`tessera_core::clock::ManualClock`] started at the wall clock's time and moved with
    /// `advance` instead of sleeping. The short-lived store in memory follows it; Redis keeps
    /// its own time, so a test that moves the clock keeps the default in-memory store.
    pub async fn spawn_at(
        bootstrap: &str,
        tweak: impl FnOnce(&mut Config),
        clock: Arc<dyn tessera_core::clock::Clock>,
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cfg = test_config(dir.path());
        tweak(&mut cfg);
        let mut pg_db = None;
        if std::env::var("TESSERA_TEST_BACKEND").is_ok_and(|b| b == "postgres")
            && cfg.database.url.starts_with("sqlite:")
        {
            let db = pg::fresh_database()
                .await
                .expect("TESSERA_TEST_BACKEND=postgres needs PostgreSQL");
            cfg.database.url = db.url.clone();
            pg_db = Some(db);
        }
        let running = tessera_server::start_with_clock(
            cfg,
            vec![("test bootstrap".into(), bootstrap.to_string())],
            clock,
        )
        .await
        .expect("tessera starts");
        TestApp {
            base: format!("http://{}", running.addr),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            engine: running.engine.clone(),
            store: running.store.clone(),
            dir,
            running: Some(running),
            pg_db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn read(r: reqwest::Response) -> Answer {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
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
        let mut rb = self.http.post(self.url(path)).form(form);
        if let Some((id, secret)) = basic {
            rb = rb.basic_auth(id, Some(secret));
        }
        Self::read(rb.send().await.expect("request sent")).await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> Answer {
        Self::read(
            self.http
                .post(self.url(path))
                .json(body)
                .send()
                .await
                .expect("request sent"),
        )
        .await
    }

    /// `POST path` with raw bytes and a content type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        basic: Option<(&str, &str)>,
    ) -> Answer {
        let mut rb = self
            .http
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        if let Some((id, secret)) = basic {
            rb = rb.basic_auth(id, Some(secret));
        }
        Self::read(rb.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        Self::read(
            self.http
                .get(self.url(path))
                .send()
                .await
                .expect("request sent"),
        )
        .await
    }

    /// A token grant that must succeed; answers the JSON body.
    pub async fn token(&self, basic: (&str, &str), form: &[(&str, &str)]) -> Value {
        let a = self.post_form("/oauth/token", Some(basic), form).await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "token request {form:?} failed: {}",
            a.text
        );
        a.json()
    }

    /// Introspects with `caller`; answers the JSON body.
    pub async fn introspect(&self, caller: (&str, &str), token: &str) -> Value {
        let a = self
            .post_form("/oauth/introspect", Some(caller), &[("token", token)])
            .await;
        assert_eq!(a.status, StatusCode::OK, "introspection failed: {}", a.text);
        a.json()
    }

    /// Stops the server (the temp folder goes when the `TestApp` is dropped).
    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}
