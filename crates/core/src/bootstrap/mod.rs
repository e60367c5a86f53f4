//! The bootstrap file of `docs/reference/configuration.md`: tenants, orgs, products, users, memberships,
//! clients, app keys and open login ways, applied as one idempotent upsert keyed by natural keys.
//! Parsing and preparation (hashing clear-text secrets) happen here; the store applies the
//! prepared file in one transaction and resolves references, naming the entry on a miss.

use crate::clock::UnixTime;
use crate::model::*;
use crate::secret::TokenHash;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapFile {
    #[serde(default)]
    pub tenants: Vec<TenantEntry>,
    #[serde(default)]
    pub orgs: Vec<OrgEntry>,
    #[serde(default)]
    pub products: Vec<ProductEntry>,
    #[serde(default)]
    pub org_products: Vec<OrgProductEntry>,
    #[serde(default)]
    pub users: Vec<UserEntry>,
    #[serde(default)]
    pub memberships: Vec<MembershipEntry>,
    #[serde(default)]
    pub clients: Vec<ClientEntry>,
    #[serde(default)]
    pub app_keys: Vec<AppKeyEntry>,
    #[serde(default)]
    pub open_login_ways: Vec<OpenLoginWayEntry>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TenantEntry {
    pub code: String,
    pub id: Option<i64>,
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub sso_url: String,
    #[serde(default)]
    pub server_url: String,
    #[serde(default = "never")]
    pub sms_second_factor: SmsSecondFactor,
}

fn never() -> SmsSecondFactor {
    SmsSecondFactor::Never
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrgEntry {
    pub tenant: String,
    pub code: String,
    pub id: Option<i64>,
    pub name: String,
    #[serde(rename = "type", default = "saas")]
    pub org_type: OrgType,
    #[serde(default)]
    pub logo: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn saas() -> OrgType {
    OrgType::Saas
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProductEntry {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrgProductEntry {
    /// `TENANT/ORG`.
    pub org: String,
    pub product: i64,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    pub username: String,
    pub id: Option<i64>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub password_hash: Option<String>,
    #[serde(default = "platform")]
    pub user_type: UserType,
    #[serde(default = "local")]
    pub source: UserSource,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub real_name: String,
    #[serde(default)]
    pub gender: i64,
    pub birthday: Option<String>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub employee_number: String,
    #[serde(default)]
    pub portrait: String,
    #[serde(default)]
    pub state: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub phone_verified: bool,
    #[serde(default)]
    pub email_verified: bool,
    pub expires_at: Option<String>,
    pub locked_until: Option<String>,
    /// Administers every tenant from the console. Left out of the entry's digest when false,
    /// so that files written before the key existed still apply as unchanged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub superuser: bool,
}

fn platform() -> UserType {
    UserType::P
}
fn local() -> UserSource {
    UserSource::Local
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipEntry {
    pub user: String,
    pub tenant: String,
    pub org: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub default: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientEntry {
    pub client_id: String,
    pub client_secret: Option<String>,
    /// The hex SHA-256 of the secret, instead of `client_secret`.
    pub client_secret_sha256: Option<String>,
    #[serde(default = "standard")]
    pub dialect: Dialect,
    #[serde(default)]
    pub grant_types: Vec<GrantType>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub tenant: Option<String>,
    pub access_ttl: Option<String>,
    pub refresh_ttl: Option<String>,
}

fn standard() -> Dialect {
    Dialect::Standard
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AppKeyEntry {
    pub app_id: String,
    pub app_key: String,
    pub id: Option<i64>,
    pub app_secret: Option<String>,
    /// The hex SHA-256 of the secret, instead of `app_secret`.
    pub app_secret_sha256: Option<String>,
    /// `TENANT/ORG`.
    pub org: String,
    pub product: i64,
    pub user: Option<String>,
    #[serde(default)]
    pub system_admin: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OpenLoginWayEntry {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub url: String,
}

/// What an entry looked like when it was last applied, kept in `bootstrap_applied`: the
/// SHA-256 of its JSON. Applying the file again skips an entry whose digest is the same, so
/// what changed since at run time (a lock, an admin's edit, a rotated secret, a disabled user)
/// stands until the file's entry itself changes (configuration.md: "applying the same file
/// twice changes nothing; a changed field is updated"). A user's clear password is left out of
/// the digest (a fast hash of it would be a weak password hash): [`PreparedUser`] says whether
/// it changed, by an Argon2 hash kept beside the digest.
pub fn entry_digest<T: Serialize>(entry: &T) -> String {
    TokenHash::of(&serde_json::to_string(entry).unwrap_or_default()).to_hex()
}

/// [`entry_digest`] of a user entry, without its clear password.
pub fn user_digest(u: &UserEntry) -> String {
    let mut u = u.clone();
    u.password = None;
    entry_digest(&u)
}

/// A user entry whose password is settled: the hash to store, or `None` for no password.
#[derive(Debug, Clone)]
pub struct PreparedUser {
    pub entry: UserEntry,
    /// The entry's clear password is the one it had when last applied (always `true` without
    /// a clear password): with an unchanged digest, the entry is skipped.
    pub password_unchanged: bool,
    pub password_hash: Option<String>,
    pub expires_at: Option<UnixTime>,
    pub locked_until: Option<UnixTime>,
}

#[derive(Debug, Clone)]
pub struct PreparedClient {
    pub entry: ClientEntry,
    pub secret_hash: Option<TokenHash>,
    pub access_ttl: Option<i64>,
    pub refresh_ttl: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct PreparedAppKey {
    pub entry: AppKeyEntry,
    pub secret_hash: TokenHash,
}

/// A bootstrap file checked and with every secret hashed, ready for the store.
#[derive(Debug, Clone, Default)]
pub struct PreparedBootstrap {
    pub tenants: Vec<TenantEntry>,
    pub orgs: Vec<OrgEntry>,
    pub products: Vec<ProductEntry>,
    pub org_products: Vec<OrgProductEntry>,
    pub users: Vec<PreparedUser>,
    pub memberships: Vec<MembershipEntry>,
    pub clients: Vec<PreparedClient>,
    pub app_keys: Vec<PreparedAppKey>,
    pub open_login_ways: Vec<OpenLoginWayEntry>,
}

/// A problem in the file itself, naming the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{entry}: {message}")]
pub struct EntryError {
    pub entry: String,
    pub message: String,
}

pub fn entry_err(entry: impl Into<String>, message: impl Into<String>) -> EntryError {
    EntryError {
        entry: entry.into(),
        message: message.into(),
    }
}

/// Parses the TOML text; the error names the line (from `toml`).
pub fn parse(text: &str) -> Result<BootstrapFile, String> {
    let mut f: BootstrapFile = toml::from_str(text).map_err(|e| one_line_toml_error(&e, text))?;
    // An empty phone or email is none: they are unique where present, and an exported file
    // writes missing values as "".
    for u in &mut f.users {
        for v in [&mut u.phone, &mut u.email] {
            if v.as_deref().is_some_and(|x| x.trim().is_empty()) {
                *v = None;
            }
        }
    }
    Ok(f)
}

/// `line N: message`, one line, from a `toml` error.
pub fn one_line_toml_error(e: &toml::de::Error, text: &str) -> String {
    let msg = e.message().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {msg}")
        }
        None => msg,
    }
}

/// A duration such as `"30m"`, `"2h"` or `"30d"`, in whole seconds.
/// A duration: `"90s"`, `"5m"`, `"2h"`, `"30d"` (humantime), or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    /// A hundred years: longer would overflow when added to a time, and means nothing here.
    const MAX: u64 = 100 * 366 * 86_400;
    let secs = match s.trim().parse::<u64>() {
        Ok(secs) => secs,
        Err(_) => humantime::parse_duration(s.trim())
            .map_err(|e| format!("bad duration {s:?}: {e}"))?
            .as_secs(),
    };
    if secs > MAX {
        return Err(format!("duration {s:?} too long (100 years at most)"));
    }
    i64::try_from(secs).map_err(|_| format!("duration {s:?} too long"))
}

/// RFC 3339 instant to Unix seconds.
pub fn parse_instant(s: &str) -> Result<UnixTime, String> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| format!("bad RFC 3339 time {s:?}: {e}"))
}

mod check;
pub use check::check;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
