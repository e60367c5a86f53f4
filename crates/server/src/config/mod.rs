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
    pub retention: String,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            retention: "365d".into(),
        }
    }
}

/// The browser SSO session of the hosted login page (ours).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsoConfig {
    /// A session unused this long ends.
    pub idle_timeout: String,
    /// A session ends this long after sign-in, used or not.
    pub absolute_timeout: String,
}

impl Default for SsoConfig {
    fn default() -> Self {
        Self {
            idle_timeout: "8h".into(),
            absolute_timeout: "7d".into(),
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
    pub format: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: "text".into(),
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
    pub transport_rotate: String,
    /// How long the previous transport key keeps decrypting (ours).
    pub transport_grace: String,
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self {
            dir: "tessera-data/keys".into(),
            rsa_bits: 2048,
            transport_rotate: "24h".into(),
            transport_grace: "10m".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokensConfig {
    pub access_ttl: String,
    pub refresh_ttl: String,
    pub auth_code_ttl: String,
    /// The absolute lifetime of a refresh family, from its sign-in.
    pub refresh_family_max: String,
}

impl Default for TokensConfig {
    fn default() -> Self {
        Self {
            access_ttl: "2h".into(),
            refresh_ttl: "30d".into(),
            auth_code_ttl: "60s".into(),
            refresh_family_max: "90d".into(),
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
    pub max_wait: String,
}

impl Default for PasswordsConfig {
    fn default() -> Self {
        Self {
            argon2_m_kib: 19456,
            argon2_t: 2,
            argon2_p: 1,
            max_concurrent: 0,
            max_wait: "1s".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginConfig {
    pub hide_unknown_user: bool,
    pub max_password_failures: i64,
    pub lock_duration: String,
    pub captcha_after_failures: i64,
    pub phone_pattern: String,
}

impl Default for LoginConfig {
    fn default() -> Self {
        Self {
            hide_unknown_user: true,
            max_password_failures: 5,
            lock_duration: "30m".into(),
            captcha_after_failures: 3,
            phone_pattern: r"^1[3-9]\d{9}$".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptchaConfig {
    pub mode: String,
}

impl Default for CaptchaConfig {
    fn default() -> Self {
        Self {
            mode: "image".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    pub sender: String,
    pub webhook_url: String,
    pub code_ttl: String,
    pub resend_interval: String,
    pub max_verify_attempts: i64,
    /// Codes one phone may be sent per day (ours).
    pub daily_cap: i64,
    /// Codes one client IP may ask for per hour (ours).
    pub ip_per_hour: i64,
    /// How long the webhook may take before the send counts as failed (ours).
    pub webhook_timeout: String,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            sender: "log".into(),
            webhook_url: String::new(),
            code_ttl: "5m".into(),
            resend_interval: "60s".into(),
            max_verify_attempts: 5,
            // Generous enough for a team testing against one server from one address, tight
            // enough to stop a phone being flooded or numbers being pumped from one address.
            daily_cap: 30,
            ip_per_hour: 200,
            webhook_timeout: "5s".into(),
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
        let dur = |key: &str, v: &str| {
            tessera_core::bootstrap::parse_duration(v).map_err(|m| (key.to_string(), m))
        };
        let listen = self.server.listen.parse().map_err(|_| {
            (
                "server.listen".to_string(),
                format!("{:?} is not an address:port", self.server.listen),
            )
        })?;
        let d = Derived {
            listen,
            access_ttl: dur("tokens.access_ttl", &self.tokens.access_ttl)?,
            refresh_ttl: dur("tokens.refresh_ttl", &self.tokens.refresh_ttl)?,
            refresh_family_max: dur("tokens.refresh_family_max", &self.tokens.refresh_family_max)?,
            auth_code_ttl: dur("tokens.auth_code_ttl", &self.tokens.auth_code_ttl)?,
            lock_duration: dur("login.lock_duration", &self.login.lock_duration)?,
            max_wait: std::time::Duration::from_secs_f64(
                // A bare number is seconds, as for every other duration.
                self.passwords
                    .max_wait
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .map(std::time::Duration::from_secs_f64)
                    .map_or_else(
                        || humantime::parse_duration(self.passwords.max_wait.trim()),
                        Ok,
                    )
                    .map_err(|e| {
                        (
                            "passwords.max_wait".to_string(),
                            format!("bad duration {:?}: {e}", self.passwords.max_wait),
                        )
                    })?
                    .as_secs_f64(),
            ),
            sms: tessera_core::sms::SmsPolicy {
                code_ttl: dur("sms.code_ttl", &self.sms.code_ttl)?.max(1) as u64,
                resend_interval: dur("sms.resend_interval", &self.sms.resend_interval)?.max(1)
                    as u64,
                max_verify_attempts: self.sms.max_verify_attempts.max(1),
                daily_cap: self.sms.daily_cap.max(1),
                ip_per_hour: self.sms.ip_per_hour.max(1),
            },
            sms_webhook_timeout: std::time::Duration::from_secs(
                dur("sms.webhook_timeout", &self.sms.webhook_timeout)?.max(1) as u64,
            ),
            transport_rotate: dur("keys.transport_rotate", &self.keys.transport_rotate)?.max(60),
            transport_grace: dur("keys.transport_grace", &self.keys.transport_grace)?,
            sso_idle: dur("sso.idle_timeout", &self.sso.idle_timeout)?.max(60),
            audit_retention: dur("audit.retention", &self.audit.retention)?.max(3600),
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
            sso_absolute: dur("sso.absolute_timeout", &self.sso.absolute_timeout)?.max(60),
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
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err((
                "log.format".into(),
                format!("{:?}: use \"text\" or \"json\"", self.log.format),
            ));
        }
        if !matches!(self.captcha.mode.as_str(), "image" | "test") {
            return Err((
                "captcha.mode".into(),
                format!("{:?}: use \"image\" or \"test\"", self.captcha.mode),
            ));
        }
        if !matches!(self.sms.sender.as_str(), "log" | "webhook") {
            return Err((
                "sms.sender".into(),
                format!("{:?}: use \"log\" or \"webhook\"", self.sms.sender),
            ));
        }
        if self.sms.sender == "webhook" && self.sms.webhook_url.is_empty() {
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

pub use mask::mask_url;
use sources::{figment_error, list_or_string, locate, toml_error, EnvVar};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Config::default().derive().unwrap();
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
