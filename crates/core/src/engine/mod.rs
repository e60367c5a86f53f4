//! The engine: identify the caller, authenticate the principal, apply the policy, and issue,
//! refresh, check or revoke tokens. Written once; every dialect calls it and renders its typed
//! outcomes. Expected refusals come back as `Ok(Err(failure))`; `Err(EngineError)` is a fault.

mod actor;
mod admin;
mod appkey;
mod audit;
mod bootstrap;
mod clients;
mod console;
mod hoth;
mod login;
mod names;
mod pending;
mod signin;
mod sms;
mod sso;
mod token_cache;
mod tokens;

pub use actor::{
    is_scope_token, Actor, Authority, Reach, ADMIN_SCOPE, RESERVED_SCOPE_PREFIX,
    TENANT_ADMIN_PREFIX,
};
pub use admin::{check_client_id, check_tenant_code, AdminFailure, CreateUser};
pub use appkey::{AppKeyFailure, AppKeyGrant};
pub use audit::{
    audit_text, unknown_name, AdminAction, AuditKind, LoginOutcome, AUDIT_DETAIL_MAX,
    AUDIT_FIELD_MAX, AUDIT_NAME_MAX,
};
pub use clients::resolve_scope;
pub use console::{ConsoleAccess, CONSOLE_ADMIN_ROLE};
pub use hoth::SmsLogin;
pub use login::{LoginName, PasswordLogin, SecondFactorInput, SignedIn, TenantChoice};
pub use names::UsernameKeyReport;
pub use pending::{PendingFailure, PendingSignIn};
pub use signin::{
    CaptchaAnswer, CaptchaRefusal, Origin, PasswordForm, PasswordSignIn, SignInFailure, TokenGrant,
};
pub use sso::{pkce_s256, user_claims, CodeFailure, CodeGrant, CodeTokens};
pub use tokens::{Introspection, IssueRequest, Issued};

use crate::clock::{Clock, UnixTime};
use crate::ephemeral::Ephemeral;
use crate::lang::Catalogue;
use crate::password::PasswordHasher;
use crate::signer::IdTokenSigner;
use crate::sms::{SmsPolicy, SmsSender};
use crate::store::Store;
use crate::transport::PasswordTransport;
use std::sync::Arc;

/// The policies the engine applies, from `[tokens]` and `[login]`.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Seconds.
    pub access_ttl: i64,
    pub refresh_ttl: i64,
    /// Seconds a refresh family lives at most, counted from its sign-in
    /// (`[tokens] refresh_family_max`): rotation gives each new refresh token a fresh
    /// `refresh_ttl`, and without this bound a family used often enough would never end.
    pub refresh_family_max: i64,
    pub auth_code_ttl: i64,
    pub max_password_failures: i64,
    /// Seconds.
    pub lock_duration: i64,
    pub hide_unknown_user: bool,
    pub captcha_after_failures: i64,
    /// LDAP is not wired in yet: an LDAP user is refused (`ldapIsDisable`).
    pub ldap_enabled: bool,
    /// Seconds a client row is kept in memory; 0 reads it on every request.
    pub client_cache_ttl: i64,
    /// Seconds a password ciphertext is remembered, so that a replay is refused: the transport
    /// key's lifetime plus its grace period.
    pub replay_window: u64,
    /// Seconds a captcha lives.
    pub captcha_ttl: u64,
    /// Public base URL (`server.issuer`): the `iss` of ID tokens.
    pub issuer: String,
    /// Seconds an SSO session lives without use.
    pub sso_idle: i64,
    /// Seconds an SSO session lives at most.
    pub sso_absolute: i64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            access_ttl: 2 * 3600,
            refresh_ttl: 30 * 86400,
            refresh_family_max: 90 * 86400,
            auth_code_ttl: 60,
            max_password_failures: 5,
            lock_duration: 30 * 60,
            hide_unknown_user: true,
            captcha_after_failures: 3,
            ldap_enabled: false,
            client_cache_ttl: 5,
            replay_window: 86_400 + 600,
            captcha_ttl: 300,
            issuer: "http://127.0.0.1:8080".into(),
            sso_idle: 8 * 3600,
            sso_absolute: 7 * 86_400,
        }
    }
}

pub struct Engine {
    store: Arc<dyn Store>,
    ephemeral: Arc<dyn Ephemeral>,
    sms_sender: Arc<dyn SmsSender>,
    sms_policy: SmsPolicy,
    transport: Arc<dyn PasswordTransport>,
    signer: Arc<dyn IdTokenSigner>,
    clock: Arc<dyn Clock>,
    hasher: PasswordHasher,
    cfg: EngineConfig,
    catalogue: Arc<Catalogue>,
    /// An Argon2id hash of a random password with the configured parameters: unknown users are
    /// checked against it so that they cost the same time as known ones.
    dummy_hash: String,
    clients: clients::ClientCache,
    /// Hot access-token lookups (`token_cache`).
    tokens: token_cache::TokenCache,
    /// The sequence in new tokens' ordering bytes (`token_order`); starts at a random value.
    token_seq: std::sync::atomic::AtomicU32,
}

/// What `/readyz` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    pub database: bool,
    /// Memory or Redis (`redis.url`).
    pub short_lived_store: bool,
}

/// What an engine is made of.
pub struct EngineDeps {
    pub store: Arc<dyn Store>,
    pub ephemeral: Arc<dyn Ephemeral>,
    pub sms_sender: Arc<dyn SmsSender>,
    pub sms_policy: SmsPolicy,
    pub transport: Arc<dyn PasswordTransport>,
    pub signer: Arc<dyn IdTokenSigner>,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    pub cfg: EngineConfig,
    pub catalogue: Arc<Catalogue>,
}

impl Engine {
    pub fn new(d: EngineDeps) -> Result<Self, crate::EngineError> {
        let dummy = crate::secret::Secret::new(crate::secret::new_token(
            crate::secret::TokenFormat::Opaque,
        ));
        let dummy_hash = d.hasher.hash_blocking(&dummy)?;
        let clients = clients::ClientCache::new(d.cfg.client_cache_ttl);
        Ok(Self {
            store: d.store,
            ephemeral: d.ephemeral,
            sms_sender: d.sms_sender,
            sms_policy: d.sms_policy,
            transport: d.transport,
            signer: d.signer,
            clock: d.clock,
            hasher: d.hasher,
            cfg: d.cfg,
            catalogue: d.catalogue,
            dummy_hash,
            clients,
            tokens: token_cache::TokenCache::default(),
            token_seq: std::sync::atomic::AtomicU32::new(rand::random()),
        })
    }

    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// Ordering bytes for a new opaque token (`secret::new_ordered_token`): the second, then
    /// this process's sequence, so that the tokens a process issues are stored in issue order.
    /// Uniqueness does not rest on it (the random part and the digest make the key unique).
    pub(crate) fn token_order(&self, now: UnixTime) -> u64 {
        let seq = self
            .token_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ((now.max(0) as u64 & 0xFFFF_FFFF) << 32) | u64::from(seq)
    }
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }
    /// The database pool's size and idle connections (for `/metrics`).
    pub fn pool_usage(&self) -> (u32, usize) {
        self.store.pool_usage()
    }

    /// Deletes tokens expired before `tokens_before` and audit events older than
    /// `audit_before`; answers how many of each.
    pub async fn purge(
        &self,
        tokens_before: crate::clock::UnixTime,
        audit_before: crate::clock::UnixTime,
    ) -> (
        Result<u64, crate::EngineError>,
        Result<u64, crate::EngineError>,
    ) {
        (
            self.store
                .purge_expired_tokens(tokens_before)
                .await
                .map_err(Into::into),
            self.store
                .purge_audit(audit_before)
                .await
                .map_err(Into::into),
        )
    }
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// Whether the database and the short-lived store answer (for `/readyz`).
    pub async fn ready(&self) -> bool {
        let r = self.readiness().await;
        r.database && r.short_lived_store
    }

    /// Which of the database and the short-lived store answer (for `/readyz`'s body).
    pub async fn readiness(&self) -> Readiness {
        let (db, eph) = tokio::join!(self.store.ping(), self.ephemeral.ping());
        Readiness {
            database: db.is_ok(),
            short_lived_store: eph.is_ok(),
        }
    }
}
