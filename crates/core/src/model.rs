//! The model of `docs/reference/model.md`: what the store keeps and the engine reasons about.

use crate::clock::UnixTime;
use crate::ids::*;
use crate::secret::TokenHash;
use serde::{Deserialize, Serialize};

/// The wire format a client speaks at `POST /oauth/token` (`docs/reference/oauth.md`, "Dialect dispatch").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Standard,
    Cluster,
    Hoth,
    Appkey,
    Maxkey,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Standard => "standard",
            Dialect::Cluster => "cluster",
            Dialect::Hoth => "hoth",
            Dialect::Appkey => "appkey",
            Dialect::Maxkey => "maxkey",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "standard" => Dialect::Standard,
            "cluster" => Dialect::Cluster,
            "hoth" => Dialect::Hoth,
            "appkey" => Dialect::Appkey,
            "maxkey" => Dialect::Maxkey,
            _ => return None,
        })
    }
}

/// A tenant's SMS second-factor policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SmsSecondFactor {
    Always,
    NewDevice,
    Never,
}

impl SmsSecondFactor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::NewDevice => "new_device",
            Self::Never => "never",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "always" => Self::Always,
            "new_device" => Self::NewDevice,
            "never" => Self::Never,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub code: String,
    pub name: String,
    pub enabled: bool,
    pub sso_url: String,
    pub server_url: String,
    pub sms_second_factor: SmsSecondFactor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OrgType {
    #[serde(rename = "CHANNEL")]
    Channel,
    #[serde(rename = "SERVICE")]
    Service,
    #[serde(rename = "SAAS")]
    Saas,
}

impl OrgType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Channel => "CHANNEL",
            Self::Service => "SERVICE",
            Self::Saas => "SAAS",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "CHANNEL" => Self::Channel,
            "SERVICE" => Self::Service,
            "SAAS" => Self::Saas,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: OrgId,
    pub tenant_id: TenantId,
    pub code: String,
    pub name: String,
    pub org_type: OrgType,
    pub logo: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserType {
    /// Platform user.
    P,
    /// Customer.
    C,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserSource {
    Local,
    Ldap,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// PHC string (`$argon2id$…`), or a bcrypt hash (`$2a$…`, `{bcrypt}$2a$…`) from an import.
    pub password_hash: Option<String>,
    pub user_type: UserType,
    pub source: UserSource,
    pub display_name: String,
    pub real_name: String,
    pub gender: i64,
    /// `yyyy-MM-dd`.
    pub birthday: Option<String>,
    pub title: String,
    pub employee_number: String,
    pub portrait: String,
    pub state: String,
    pub enabled: bool,
    pub active: bool,
    pub locked_until: Option<UnixTime>,
    pub expires_at: Option<UnixTime>,
    pub phone_verified: bool,
    pub email_verified: bool,
    /// Consecutive wrong passwords since the last success, unlock or lock.
    pub failed_attempts: i64,
    pub created_at: UnixTime,
    /// Administers every tenant and the global objects from the console (issue 17).
    pub superuser: bool,
}

/// Which field a sign-in names the user by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginField {
    Username,
    Phone,
    Email,
}

/// A user's membership with its tenant and org, as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub user_id: UserId,
    pub tenant: Tenant,
    pub org: Org,
    pub roles: Vec<String>,
    pub is_default: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    Password,
    /// Seed 001's SMS login.
    Implicit,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::Password => "password",
            Self::Implicit => "implicit",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "authorization_code" => Self::AuthorizationCode,
            "refresh_token" => Self::RefreshToken,
            "client_credentials" => Self::ClientCredentials,
            "password" => Self::Password,
            "implicit" => Self::Implicit,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub row_id: ClientRowId,
    pub client_id: ClientId,
    /// SHA-256 of the secret; `None` for a public client.
    pub secret_hash: Option<TokenHash>,
    pub dialect: Dialect,
    pub grant_types: Vec<GrantType>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub tenant_id: Option<TenantId>,
    /// Seconds; `None`: the `[tokens]` default.
    pub access_ttl: Option<i64>,
    pub refresh_ttl: Option<i64>,
}

impl Client {
    pub fn allows(&self, g: GrantType) -> bool {
        self.grant_types.contains(&g)
    }
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppKey {
    pub id: AppKeyId,
    pub app_id: String,
    pub app_key: String,
    pub secret_hash: TokenHash,
    pub org_id: OrgId,
    pub product_id: ProductId,
    pub user_id: Option<UserId>,
    pub system_admin: bool,
    pub enabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// Who and what a token speaks for; shared by the access and refresh tokens of one grant and
/// carried over on refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSubject {
    pub client_id: ClientId,
    pub user_id: Option<UserId>,
    pub tenant_id: Option<TenantId>,
    pub org_id: Option<OrgId>,
    pub app_key_id: Option<AppKeyId>,
    /// Space-separated scopes.
    pub scope: String,
    pub device_id: Option<String>,
    pub source_type: Option<String>,
    pub session_id: Option<String>,
}

/// A token to store: its hash, never the token.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub hash: TokenHash,
    pub kind: TokenKind,
    pub expires_at: UnixTime,
}

/// No token lives longer than this (seconds; 400 days), whatever the configured or per-client
/// lifetime. The store relies on it: a revoked family is remembered for this long after its
/// revocation (`Store::revoke_family`), after which every token of it has expired.
pub const MAX_TOKEN_LIFETIME: i64 = 400 * 86_400;

/// The tokens of one issue: an access token and perhaps a refresh token, in one family.
#[derive(Debug, Clone)]
pub struct NewGrant {
    pub family: FamilyId,
    pub subject: TokenSubject,
    pub issued_at: UnixTime,
    /// When the family's sign-in happened: carried over on every rotation, it bounds the
    /// family's whole life (`[tokens] refresh_family_max`).
    pub auth_time: UnixTime,
    pub tokens: Vec<NewToken>,
}

/// A stored token as the store returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub kind: TokenKind,
    pub family: FamilyId,
    pub subject: TokenSubject,
    pub issued_at: UnixTime,
    /// When the family's sign-in happened (see [`NewGrant::auth_time`]).
    pub auth_time: UnixTime,
    pub expires_at: UnixTime,
    /// When a refresh token was spent on a rotation.
    pub used_at: Option<UnixTime>,
    pub revoked_at: Option<UnixTime>,
}

impl TokenRecord {
    pub fn is_live(&self, now: UnixTime) -> bool {
        self.revoked_at.is_none() && self.used_at.is_none() && self.expires_at > now
    }
}

/// What [`crate::store::Store::spend_refresh`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpendOutcome {
    /// The old refresh token was spent and the new tokens stored in its family, with its
    /// subject; this is the spent token as it was.
    Rotated(Box<TokenRecord>),
    /// A token of this client spent before: its whole family is now revoked.
    Reused,
    /// Unknown, expired, revoked, not a refresh token, another client's, or its user may no
    /// longer sign in: nothing changed.
    NotLive,
}

/// What [`crate::store::Store::rotate_refresh`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The old refresh token was spent and the new grant stored.
    Rotated,
    /// The token had been spent before: its whole family is now revoked.
    Reused,
    /// Unknown, expired or revoked: nothing changed.
    NotLive,
}

/// One line of the audit log.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub at: UnixTime,
    /// `login`, `token`, `refresh`, `revoke`, …
    pub kind: String,
    pub dialect: String,
    /// `success` or the failure's name.
    pub outcome: String,
    pub user_id: Option<UserId>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct OpenLoginWay {
    pub code: String,
    pub name: String,
    pub url: String,
}

/// The browser session behind the hosted login page; its id is seed 003's `online_ticket`
/// (`OT_` + id). The cookie carries a separate secret, stored as SHA-256 only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSession {
    pub id: String,
    pub user_id: UserId,
    pub tenant_id: Option<TenantId>,
    /// When the user authenticated (OpenID Connect `auth_time`).
    pub created_at: UnixTime,
    pub last_seen: UnixTime,
    /// The absolute end.
    pub expires_at: UnixTime,
    pub revoked_at: Option<UnixTime>,
}
