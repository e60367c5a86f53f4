//! Start-up: configuration → storage (migrations) → engine → bootstrap → HTTP. The binary
//! (`main.rs`) and the test kit both start Tessera through [`start`].

pub mod config;
pub mod demo;
pub mod keydir;
pub mod keys;
pub mod logs;
pub mod serve;
pub mod signing;
pub mod sms;
pub mod tls;

use config::{Config, Derived};
use std::net::SocketAddr;
use std::sync::Arc;
use tessera_core::clock::{Clock, SystemClock};
use tessera_core::lang::Catalogue;
use tessera_core::password::{HashParams, PasswordHasher};
use tessera_core::store::Store;
use tessera_core::{Engine, EngineConfig};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Why Tessera could not start: the one line printed before exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("key database.url ({url}): {message}")]
    Database { url: String, message: String },
    #[error("key redis.url ({url}): {message}")]
    Redis { url: String, message: String },
    #[error("bootstrap {source_name}: {message}")]
    Bootstrap {
        source_name: String,
        message: String,
    },
    #[error("cannot listen on {addr}: {message}")]
    Listen { addr: String, message: String },
    /// A key file of `keys.dir` (the transport or the signing key).
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
}

/// Opens (and migrates) the configured database.
pub async fn open_store(cfg: &Config) -> Result<Arc<dyn Store>, StartError> {
    tessera_store::connect(&cfg.database.url, cfg.database.max_connections)
        .await
        .map_err(|e| StartError::Database {
            url: config::mask_url(&cfg.database.url),
            message: e.to_string(),
        })
}

/// The engine over an open store and short-lived state.
pub fn build_engine(
    cfg: &Config,
    d: &Derived,
    store: Arc<dyn Store>,
    ephemeral: Arc<dyn tessera_core::ephemeral::Ephemeral>,
    transport: Arc<dyn tessera_core::transport::PasswordTransport>,
    signer: Arc<dyn tessera_core::signer::IdTokenSigner>,
    clock: Arc<dyn Clock>,
) -> Result<Arc<Engine>, StartError> {
    let p = &cfg.passwords;
    let hasher = PasswordHasher::new(
        HashParams {
            m_kib: p.argon2_m_kib,
            t: p.argon2_t,
            p: p.argon2_p,
        },
        p.max_concurrent,
        d.max_wait,
    )
    .map_err(StartError::Config)?;
    let catalogue = Catalogue::load().map_err(StartError::Config)?;
    let ec = EngineConfig {
        access_ttl: d.access_ttl,
        refresh_ttl: d.refresh_ttl,
        refresh_family_max: d.refresh_family_max,
        auth_code_ttl: d.auth_code_ttl,
        max_password_failures: cfg.login.max_password_failures,
        lock_duration: d.lock_duration,
        hide_unknown_user: cfg.login.hide_unknown_user,
        captcha_after_failures: cfg.login.captcha_after_failures,
        ldap_enabled: false,
        replay_window: u64::try_from(d.transport_rotate + d.transport_grace).unwrap_or(86_400),
        issuer: cfg.server.issuer.trim_end_matches('/').to_string(),
        sso_idle: d.sso_idle,
        sso_absolute: d.sso_absolute,
        ..EngineConfig::default()
    };
    let sms_sender: Arc<dyn tessera_core::sms::SmsSender> = match cfg.sms.sender {
        config::SmsSenderKind::Webhook => Arc::new(
            sms::WebhookSender::new(&cfg.sms.webhook_url, d.sms_webhook_timeout)
                .map_err(StartError::Config)?,
        ),
        config::SmsSenderKind::Log => Arc::new(sms::LogSender),
    };
    Engine::new(tessera_core::engine::EngineDeps {
        store,
        ephemeral,
        sms_sender,
        sms_policy: d.sms.clone(),
        transport,
        signer,
        clock,
        hasher,
        cfg: ec,
        catalogue: Arc::new(catalogue),
    })
    .map(Arc::new)
    .map_err(|e| StartError::Config(e.to_string()))
}

/// Opens Redis when `redis.url` is set, else keeps short-lived state in memory.
pub async fn open_ephemeral(
    cfg: &Config,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn tessera_core::ephemeral::Ephemeral>, StartError> {
    let e = tessera_ephemeral::connect(&cfg.redis.url, clock)
        .await
        .map_err(|e| StartError::Redis {
            url: config::mask_url(&cfg.redis.url),
            message: e.to_string(),
        })?;
    e.ping().await.map_err(|e| StartError::Redis {
        url: config::mask_url(&cfg.redis.url),
        message: e.to_string(),
    })?;
    Ok(e)
}

/// Applies bootstrap text; `source_name` names it in errors.
pub async fn apply_bootstrap(
    engine: &Engine,
    source_name: &str,
    text: &str,
) -> Result<tessera_core::store::BootstrapReport, StartError> {
    engine
        .apply_bootstrap_text(text)
        .await
        .map_err(|e| StartError::Bootstrap {
            source_name: source_name.to_string(),
            message: e.to_string(),
        })
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub engine: Arc<Engine>,
    /// The store behind the engine, for operations tools and tests (the web layer reaches
    /// storage only through the engine).
    pub store: Arc<dyn Store>,
    shutdown: Option<oneshot::Sender<()>>,
    pub join: JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = self.join.await;
    }
}

/// Starts Tessera: storage, engine, the bootstrap file of the configuration, then `extra`
/// bootstrap texts (the demo's), then the HTTP listener.
pub async fn start(cfg: Config, extra: Vec<(String, String)>) -> Result<Running, StartError> {
    start_with_clock(cfg, extra, Arc::new(SystemClock)).await
}

/// [`start`] with the clock the engine and the short-lived store read: the wall clock in
/// production, a `ManualClock` in tests of expiry (time is an argument, no test sleeps for it).
pub async fn start_with_clock(
    cfg: Config,
    extra: Vec<(String, String)>,
    clock: Arc<dyn Clock>,
) -> Result<Running, StartError> {
    let d = cfg
        .derive()
        .map_err(|(k, m)| StartError::Config(format!("key {k}: {m}")))?;
    if cfg.captcha.mode == config::CaptchaMode::Test {
        tracing::warn!("captcha.mode = \"test\": captcha answers are returned to clients; for automated tests only");
    }
    if cfg.sms.sender == config::SmsSenderKind::Log {
        tracing::warn!("sms.sender = \"log\": SMS codes are written to the server log instead of being sent; for development only");
    }
    let store = open_store(&cfg).await?;
    let ephemeral = open_ephemeral(&cfg, clock.clone()).await?;
    let transport = Arc::new(keys::RsaTransport::open(
        std::path::Path::new(&cfg.keys.dir),
        cfg.keys.rsa_bits,
        std::time::Duration::from_secs(u64::try_from(d.transport_rotate).unwrap_or(86_400)),
        std::time::Duration::from_secs(u64::try_from(d.transport_grace).unwrap_or(600)),
    )?);
    let signer = Arc::new(signing::RsaSigner::open(
        std::path::Path::new(&cfg.keys.dir),
        cfg.keys.rsa_bits,
    )?);
    let engine = build_engine(
        &cfg,
        &d,
        store.clone(),
        ephemeral,
        transport.clone(),
        signer,
        clock,
    )?;
    // Username keys under the current rules (issue 15; also before each bootstrap).
    engine
        .refresh_username_keys()
        .await
        .map_err(|e| StartError::Database {
            url: config::mask_url(&cfg.database.url),
            message: e.to_string(),
        })?;
    if !cfg.bootstrap.file.is_empty() {
        let text =
            std::fs::read_to_string(&cfg.bootstrap.file).map_err(|e| StartError::Bootstrap {
                source_name: cfg.bootstrap.file.clone(),
                message: format!("cannot read: {e}"),
            })?;
        let r = apply_bootstrap(&engine, &cfg.bootstrap.file, &text).await?;
        tracing::info!(file = %cfg.bootstrap.file, changed = r.changed, unchanged = r.unchanged, "bootstrap applied");
    }
    for (name, text) in &extra {
        let r = apply_bootstrap(&engine, name, text).await?;
        tracing::info!(source = %name, changed = r.changed, unchanged = r.unchanged, "bootstrap applied");
    }
    let settings = tessera_web::WebSettings {
        issuer: cfg.server.issuer.trim_end_matches('/').to_string(),
        cluster_default_client: Some(cfg.dialects.cluster.default_client.clone())
            .filter(|s| !s.is_empty()),
        captcha_test_mode: cfg.captcha.mode == config::CaptchaMode::Test,
        trusted_proxies: cfg
            .trusted_proxies()
            .map_err(|m| StartError::Config(format!("key server.trusted_proxies: {m}")))?,
        phone_pattern: Some(
            regex::Regex::new(&cfg.login.phone_pattern)
                .map_err(|e| StartError::Config(format!("key login.phone_pattern: {e}")))?,
        ),
    };
    // The process's metrics recorder (installed once; see tessera_web::metrics). Its
    // histograms keep every sample until upkeep folds them into the buckets: without this
    // task, memory grew by about 8 MB a minute under load when nothing scraped /metrics
    // (BENCHMARKS.md, "Memory").
    let upkeep = tessera_web::metrics::handle().map(|h| {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                h.run_upkeep();
            }
        })
    });
    let app = tessera_web::router(tessera_web::AppState {
        engine: engine.clone(),
        settings: Arc::new(settings),
    });
    let listener =
        tokio::net::TcpListener::bind(d.listen)
            .await
            .map_err(|e| StartError::Listen {
                addr: d.listen.to_string(),
                message: e.to_string(),
            })?;
    let addr = listener.local_addr().map_err(|e| StartError::Listen {
        addr: d.listen.to_string(),
        message: e.to_string(),
    })?;
    let (tx, rx) = oneshot::channel::<()>();
    let purge = spawn_purge(engine.clone(), d.audit_retention);
    // Every 15 s: take the key files again if another process sharing keys.dir rotated them,
    // and rotate once the current key is due (under the lock of keys.dir; see keys.rs).
    let rotation = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(15));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let t = transport.clone();
            match tokio::task::spawn_blocking(move || t.rotate_if_due()).await {
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "RSA transport key reload/rotation failed")
                }
                Err(e) => tracing::error!(error = %e, "RSA transport key rotation task failed"),
                Ok(Ok(_)) => {}
            }
        }
    });
    let tls = d.tls.clone();
    let max_connections = serve::max_connections(cfg.database.max_connections);
    let join = tokio::spawn(async move {
        let stop = async move {
            let _ = rx.await;
        };
        let limits = serve::EdgeLimits {
            header_read_timeout: serve::HEADER_READ_TIMEOUT,
            max_connections,
            handshake_timeout: serve::HANDSHAKE_TIMEOUT,
        };
        serve::serve(listener, tls, app, limits, stop).await;
        purge.abort();
        rotation.abort();
        if let Some(u) = upkeep {
            u.abort();
        }
    });
    tracing::info!(%addr, max_connections, "tessera listening");
    Ok(Running {
        addr,
        engine,
        store,
        shutdown: Some(tx),
        join,
    })
}

/// Deletes tokens a day past their expiry, every ten minutes, so the token table does not grow
/// without bound. A day's grace keeps spent refresh tokens long enough to detect most reuse.
fn spawn_purge(engine: Arc<Engine>, audit_retention: i64) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            let now = engine.now();
            let (tokens, audit) = engine.purge(now - 86_400, now - audit_retention).await;
            match tokens {
                Ok(n) if n > 0 => tracing::info!(purged = n, "expired tokens deleted"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "token purge failed"),
            }
            match audit {
                Ok(n) if n > 0 => {
                    tracing::info!(purged = n, "audit events past audit.retention deleted")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "audit purge failed"),
            }
        }
    })
}
