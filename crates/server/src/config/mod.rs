//! `tessera.toml` (`docs/reference/configuration.md`): every key has a default, every key can be
//! overridden by `TESSERA_<SECTION>__<KEY>`, unknown keys are errors. Errors are one line that
//! names the file (or variable), the key and the line.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub log: LogConfig,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub keys: KeysConfig,
    pub tokens: TokensConfig,
    pub passwords: PasswordsConfig,
    pub login: LoginConfig,
    pub captcha: CaptchaConfig,
    pub sms: SmsConfig,
    pub dialects: DialectsConfig,
    pub bootstrap: BootstrapConfig,
    pub sso: SsoConfig,
    pub audit: AuditConfig,
}

/// The audit log (ours).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Events older than this are deleted by the background purge.
    pub retention: Seconds,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            retention: Seconds::known("365d", 31536000),
        }
    }
}

/// The browser SSO session of the hosted login page (ours).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsoConfig {
    /// A session unused this long ends.
    pub idle_timeout: Seconds,
    /// A session ends this long after sign-in, used or not.
    pub absolute_timeout: Seconds,
}

impl Default for SsoConfig {
    fn default() -> Self {
        Self {
            idle_timeout: Seconds::known("8h", 28800),
            absolute_timeout: Seconds::known("7d", 604800),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: String,
    pub issuer: String,
    #[serde(deserialize_with = "list_or_string")]
    pub trusted_proxies: Vec<String>,
    pub tls_cert: String,
    pub tls_key: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            issuer: "http://127.0.0.1:8080".into(),
            trusted_proxies: vec![],
            tls_cert: String::new(),
            tls_key: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub level: String,
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub url: String,
    pub max_connections: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://tessera-data/tessera.db".into(),
            max_connections: 16,
        }
    }
}

/// Optional: empty means no Redis (one process keeps its short-lived state in memory).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    pub dir: String,
    /// Size of the RSA transport key (seed 001); 2048 at least (ours).
    pub rsa_bits: usize,
    /// Age after which the transport key is replaced (ours).
    pub transport_rotate: Seconds,
    /// How long the previous transport key keeps decrypting (ours).
    pub transport_grace: Seconds,
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self {
            dir: "tessera-data/keys".into(),
            rsa_bits: 2048,
            transport_rotate: Seconds::known("24h", 86400),
            transport_grace: Seconds::known("10m", 600),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokensConfig {
    pub access_ttl: Seconds,
    pub refresh_ttl: Seconds,
    pub auth_code_ttl: Seconds,
    /// The absolute lifetime of a refresh family, from its sign-in.
    pub refresh_family_max: Seconds,
}

impl Default for TokensConfig {
    fn default() -> Self {
        Self {
            access_ttl: Seconds::known("2h", 7200),
            refresh_ttl: Seconds::known("30d", 2592000),
            auth_code_ttl: Seconds::known("60s", 60),
            refresh_family_max: Seconds::known("90d", 7776000),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordsConfig {
    pub argon2_m_kib: u32,
    pub argon2_t: u32,
    pub argon2_p: u32,
    pub max_concurrent: usize,
    pub max_wait: FineDuration,
}

impl Default for PasswordsConfig {
    fn default() -> Self {
        Self {
            argon2_m_kib: 19456,
            argon2_t: 2,
            argon2_p: 1,
            max_concurrent: 0,
            max_wait: FineDuration::known("1s", std::time::Duration::from_secs(1)),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginConfig {
    pub hide_unknown_user: bool,
    pub max_password_failures: i64,
    pub lock_duration: Seconds,
    pub captcha_after_failures: i64,
    pub phone_pattern: String,
}

impl Default for LoginConfig {
    fn default() -> Self {
        Self {
            hide_unknown_user: true,
            max_password_failures: 5,
            lock_duration: Seconds::known("30m", 1800),
            captcha_after_failures: 3,
            phone_pattern: r"^1[3-9]\d{9}$".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptchaConfig {
    pub mode: CaptchaMode,
}

impl Default for CaptchaConfig {
    fn default() -> Self {
        Self {
            mode: CaptchaMode::Image,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    pub sender: SmsSenderKind,
    pub webhook_url: String,
    pub code_ttl: Seconds,
    pub resend_interval: Seconds,
    pub max_verify_attempts: i64,
    /// Codes one phone may be sent per day (ours).
    pub daily_cap: i64,
    /// Codes one client IP may ask for per hour (ours).
    pub ip_per_hour: i64,
    /// How long the webhook may take before the send counts as failed (ours).
    pub webhook_timeout: Seconds,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            sender: SmsSenderKind::Log,
            webhook_url: String::new(),
            code_ttl: Seconds::known("5m", 300),
            resend_interval: Seconds::known("60s", 60),
            max_verify_attempts: 5,
            // Generous enough for a team testing against one server from one address, tight
            // enough to stop a phone being flooded or numbers being pumped from one address.
            daily_cap: 30,
            ip_per_hour: 200,
            webhook_timeout: Seconds::known("5s", 5),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct DialectsConfig {
    pub cluster: ClusterDialectConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterDialectConfig {
    pub default_client: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct BootstrapConfig {
    pub file: String,
}

/// A configuration problem, as the one line the operator sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Durations and other derived values, parsed once.
#[derive(Debug, Clone)]
pub struct Derived {
    pub listen: SocketAddr,
    pub access_ttl: i64,
    pub refresh_ttl: i64,
    pub refresh_family_max: i64,
    pub auth_code_ttl: i64,
    pub lock_duration: i64,
    pub max_wait: std::time::Duration,
    pub sms: tessera_core::sms::SmsPolicy,
    pub sms_webhook_timeout: std::time::Duration,
    pub transport_rotate: i64,
    pub transport_grace: i64,
    pub sso_idle: i64,
    pub sso_absolute: i64,
    pub audit_retention: i64,
    /// `server.tls_cert` and `tls_key`, loaded: serve HTTPS.
    pub tls: Option<std::sync::Arc<tokio_rustls::rustls::ServerConfig>>,
}

impl Config {
    /// Defaults, then the file (if any), then `TESSERA_<SECTION>__<KEY>` variables.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        let mut text = None;
        if let Some(path) = file {
            let t = std::fs::read_to_string(path)
                .map_err(|e| ConfigError(format!("{}: cannot read: {e}", path.display())))?;
            // Parse once with `toml` for errors that carry a line number.
            if let Err(e) = toml::from_str::<Config>(&t) {
                return Err(ConfigError(toml_error(path, &t, &e)));
            }
            fig = fig.merge(Toml::string(&t));
            text = Some((path.to_path_buf(), t));
        }
        // Only section-qualified variables (`TESSERA_DATABASE__URL`); others with the prefix,
        // such as the test suite's `TESSERA_TEST_DATABASE_URL`, are not configuration.
        let env = Env::prefixed("TESSERA_")
            .filter(|k| k.as_str().contains("__"))
            .split("__");
        for (key, value) in env.iter() {
            fig = fig.merge(EnvVar {
                key: key.to_string(),
                value,
                metadata: figment::Provider::metadata(&env),
            });
        }
        // Lossy: a variable's value is a string, read as a number or a boolean where the key
        // wants one (the file was already checked strictly above).
        let cfg: Config = fig
            .extract_lossy()
            .map_err(|e| ConfigError(figment_error(&e)))?;
        cfg.derive()
            .map_err(|(key, msg)| ConfigError(locate(text.as_ref(), &key, &msg)))?;
        Ok(cfg)
    }

    /// Checks and parses values whose type alone does not say they are valid. The error names
    /// the key (`section.key`).
    pub fn derive(&self) -> Result<Derived, (String, String)> {
        let listen = self.server.listen.parse().map_err(|_| {
            (
                "server.listen".to_string(),
                format!("{:?} is not an address:port", self.server.listen),
            )
        })?;
        let d = Derived {
            listen,
            access_ttl: self.tokens.access_ttl.secs(),
            refresh_ttl: self.tokens.refresh_ttl.secs(),
            refresh_family_max: self.tokens.refresh_family_max.secs(),
            auth_code_ttl: self.tokens.auth_code_ttl.secs(),
            lock_duration: self.login.lock_duration.secs(),
            max_wait: self.passwords.max_wait.get(),
            sms: tessera_core::sms::SmsPolicy {
                code_ttl: self.sms.code_ttl.secs().max(1) as u64,
                resend_interval: self.sms.resend_interval.secs().max(1) as u64,
                max_verify_attempts: self.sms.max_verify_attempts.max(1),
                daily_cap: self.sms.daily_cap.max(1),
                ip_per_hour: self.sms.ip_per_hour.max(1),
            },
            sms_webhook_timeout: std::time::Duration::from_secs(
                self.sms.webhook_timeout.secs().max(1) as u64,
            ),
            transport_rotate: self.keys.transport_rotate.secs().max(60),
            transport_grace: self.keys.transport_grace.secs(),
            sso_idle: self.sso.idle_timeout.secs().max(60),
            audit_retention: self.audit.retention.secs().max(3600),
            tls: match (self.server.tls_cert.as_str(), self.server.tls_key.as_str()) {
                ("", "") => None,
                ("", _) | (_, "") => {
                    return Err((
                        "server.tls_cert".into(),
                        "set both tls_cert and tls_key, or neither".into(),
                    ))
                }
                (cert, key) => Some(
                    crate::tls::server_config(Path::new(cert), Path::new(key))
                        .map_err(|m| ("server.tls_cert".to_string(), m))?,
                ),
            },
            sso_absolute: self.sso.absolute_timeout.secs().max(60),
        };
        let url = &self.database.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres:")
            || url.starts_with("postgresql:"))
        {
            return Err((
                "database.url".into(),
                "must start with sqlite:// or postgres://".into(),
            ));
        }
        if self.sms.sender == SmsSenderKind::Webhook && self.sms.webhook_url.is_empty() {
            return Err((
                "sms.webhook_url".into(),
                "required when sms.sender = \"webhook\"".into(),
            ));
        }
        self.trusted_proxies()
            .map_err(|m| ("server.trusted_proxies".to_string(), m))?;
        if let Err(e) = regex::Regex::new(&self.login.phone_pattern) {
            return Err((
                "login.phone_pattern".into(),
                // regex's message spans lines; the error must be one.
                format!("not a regular expression: {e}").replace('\n', " "),
            ));
        }
        if self.keys.rsa_bits < 2048 {
            return Err((
                "keys.rsa_bits".into(),
                format!("{}: 2048 at least", self.keys.rsa_bits),
            ));
        }
        if self.login.max_password_failures < 1 {
            return Err((
                "login.max_password_failures".into(),
                "must be at least 1".into(),
            ));
        }
        argon2::Params::new(
            self.passwords.argon2_m_kib,
            self.passwords.argon2_t,
            self.passwords.argon2_p,
            None,
        )
        .map_err(|e| {
            use argon2::Error as A;
            let key = match e {
                A::TimeTooSmall => "passwords.argon2_t",
                A::ThreadsTooFew | A::ThreadsTooMany => "passwords.argon2_p",
                _ => "passwords.argon2_m_kib",
            };
            (key.to_string(), format!("invalid Argon2 parameters: {e}"))
        })?;
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| ("log.level".to_string(), e.to_string().replace('\n', " ")))?;
        Ok(d)
    }

    /// `server.trusted_proxies` as networks; a bare address is a /32 or /128.
    pub fn trusted_proxies(&self) -> Result<Vec<ipnet::IpNet>, String> {
        self.server
            .trusted_proxies
            .iter()
            .map(|s| {
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("{s:?} is not a CIDR or an IP address"))
            })
            .collect()
    }

    /// The effective configuration as TOML, with passwords in URLs masked.
    pub fn masked_toml(&self) -> String {
        let mut c = self.clone();
        c.database.url = mask_url(&c.database.url);
        c.redis.url = mask_url(&c.redis.url);
        c.sms.webhook_url = mask_url(&c.sms.webhook_url);
        toml::to_string_pretty(&c).unwrap_or_else(|e| format!("# cannot render: {e}"))
    }
}

mod mask;
mod sources;
mod values;

pub use mask::mask_url;
use sources::{figment_error, list_or_string, locate, toml_error, EnvVar};
pub use values::{CaptchaMode, FineDuration, LogFormat, Seconds, SmsSenderKind};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let c = Config::default();
        c.derive().unwrap();
        // Each default's text says what its value is.
        let text = toml::to_string(&c).unwrap();
        let again: Config = toml::from_str(&text).unwrap();
        assert_eq!(format!("{again:?}"), format!("{c:?}"));
    }

    #[test]
    fn masks_url_passwords() {
        assert_eq!(
            mask_url("postgres://u:pw@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(mask_url("sqlite://x.db"), "sqlite://x.db");
        assert_eq!(
            mask_url("postgres://u:p@w@h/db?sslmode=require&password=pw2"),
            "postgres://u:***@h/db?sslmode=***&password=***"
        );
        assert_eq!(
            mask_url("https://hooks.example/x?token=s3cr3t&flag&empty=#frag"),
            "https://hooks.example/x?token=***&flag&empty=#***"
        );
        assert_eq!(
            mask_url("https://hooks.example/a@b?x=1"),
            "https://hooks.example/a@b?x=***",
            "an @ in the path is not userinfo"
        );
        assert_eq!(mask_url(""), "");
    }
}
