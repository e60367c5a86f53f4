//! The bootstrap file of `spec/configuration.md`: tenants, orgs, products, users, memberships,
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

/// Checks what can be checked without the database: formats, enums, duplicate keys, and that
/// each secret comes in exactly one form.
pub fn check(file: &BootstrapFile) -> Result<(), EntryError> {
    use std::collections::HashSet;
    /// Each table's natural key at most once: two entries for one key would overwrite each
    /// other at every application, and the file would never apply unchanged.
    fn dupes(kind: &str, keys: impl Iterator<Item = String>) -> Result<(), EntryError> {
        let mut seen = HashSet::new();
        for (i, k) in keys.enumerate() {
            if seen.contains(&k) {
                return Err(entry_err(
                    format!("{kind}[{i}] ({k})"),
                    "appears twice in the file",
                ));
            }
            seen.insert(k);
        }
        Ok(())
    }
    let f = file;
    dupes("tenants", f.tenants.iter().map(|t| t.code.clone()))?;
    dupes(
        "orgs",
        f.orgs.iter().map(|o| format!("{}/{}", o.tenant, o.code)),
    )?;
    dupes("products", f.products.iter().map(|p| p.id.to_string()))?;
    dupes(
        "org_products",
        f.org_products
            .iter()
            .map(|p| format!("{} / {}", p.org, p.product)),
    )?;
    dupes("users", f.users.iter().map(|u| u.username.clone()))?;
    dupes(
        "memberships",
        f.memberships
            .iter()
            .map(|m| format!("{} in {}/{}", m.user, m.tenant, m.org)),
    )?;
    dupes("clients", f.clients.iter().map(|c| c.client_id.clone()))?;
    dupes("app_keys", f.app_keys.iter().map(|a| a.app_key.clone()))?;
    dupes(
        "open_login_ways",
        f.open_login_ways.iter().map(|w| w.code.clone()),
    )?;
    let mut defaults = HashSet::new();
    for (i, m) in file.memberships.iter().enumerate() {
        if m.default && !defaults.insert(m.user.as_str()) {
            return Err(entry_err(
                format!("memberships[{i}] ({} in {}/{})", m.user, m.tenant, m.org),
                "a second default membership of this user (one at most)",
            ));
        }
    }
    for (i, t) in file.tenants.iter().enumerate() {
        if t.code.trim().is_empty() {
            return Err(entry_err(format!("tenants[{i}]"), "code is empty"));
        }
        // The code becomes part of the scope `tessera:admin:CODE` (issue 15, finding 1).
        if let Err(crate::engine::AdminFailure::Invalid { message, .. }) =
            crate::engine::check_tenant_code(&t.code)
        {
            return Err(entry_err(
                format!("tenants[{i}] ({})", t.code),
                format!("code: {message}"),
            ));
        }
    }
    for (i, o) in file.orgs.iter().enumerate() {
        if o.code.trim().is_empty() {
            return Err(entry_err(format!("orgs[{i}]"), "code is empty"));
        }
    }
    for (i, u) in file.users.iter().enumerate() {
        let name = format!("users[{i}] ({})", u.username);
        if u.username.trim().is_empty() {
            return Err(entry_err(name, "username is empty"));
        }
        // Issue 15: the rules of `crate::names`; the name is kept as written, so not padded.
        if u.username.trim() != u.username {
            return Err(entry_err(
                name,
                "username has whitespace at its start or end",
            ));
        }
        if let Err(p) = crate::names::username_key(&u.username) {
            return Err(entry_err(name, format!("username {p}")));
        }
        if u.password.is_some() && u.password_hash.is_some() {
            return Err(entry_err(name, "give password or password_hash, not both"));
        }
        if let Some(h) = &u.password_hash {
            if !crate::password::is_supported_hash(h) {
                return Err(entry_err(
                    name,
                    "password_hash is neither Argon2 nor bcrypt",
                ));
            }
        }
        if let Some(b) = &u.birthday {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(b, &fmt).map_err(|_| {
                entry_err(name.clone(), format!("birthday {b:?} is not yyyy-MM-dd"))
            })?;
        }
        for t in [&u.expires_at, &u.locked_until].into_iter().flatten() {
            parse_instant(t).map_err(|m| entry_err(name.clone(), m))?;
        }
    }
    names_apart(&file.users)?;
    for (i, c) in file.clients.iter().enumerate() {
        let name = format!("clients[{i}] ({})", c.client_id);
        if c.client_secret.is_some() && c.client_secret_sha256.is_some() {
            return Err(entry_err(
                name,
                "give client_secret or client_secret_sha256, not both",
            ));
        }
        if let Some(h) = &c.client_secret_sha256 {
            TokenHash::from_hex(h).ok_or_else(|| {
                entry_err(name.clone(), "client_secret_sha256 is not 64 hex digits")
            })?;
        }
        for t in [&c.access_ttl, &c.refresh_ttl].into_iter().flatten() {
            parse_duration(t).map_err(|m| entry_err(name.clone(), m))?;
        }
        if let Err(crate::engine::AdminFailure::Invalid { message, .. }) =
            crate::engine::check_client_id(&c.client_id)
        {
            return Err(entry_err(name, format!("client_id: {message}")));
        }
        // Each entry is one scope: `"x tessera:admin"` would become two once joined (issue 15).
        if let Some(bad) = c.scopes.iter().find(|s| !crate::engine::is_scope_token(s)) {
            return Err(entry_err(
                name,
                format!("scopes: {bad:?} is not one scope token (no spaces, quotes or backslashes, not empty)"),
            ));
        }
    }
    for (i, a) in file.app_keys.iter().enumerate() {
        let name = format!("app_keys[{i}] ({})", a.app_key);
        match (&a.app_secret, &a.app_secret_sha256) {
            (Some(_), None) => {}
            (None, Some(h)) => {
                TokenHash::from_hex(h)
                    .ok_or_else(|| entry_err(name, "app_secret_sha256 is not 64 hex digits"))?;
            }
            _ => {
                return Err(entry_err(
                    name,
                    "give exactly one of app_secret, app_secret_sha256",
                ))
            }
        }
    }
    Ok(())
}

/// Issue 15 within the file: no two users' usernames with one key, and no username equal
/// (keyed) to another entry's phone or e-mail, nor a phone equal to another entry's e-mail.
/// Names the later of the two entries, as a duplicate entry is named. (The database's users
/// are checked by `Engine::prepare_bootstrap`.)
fn names_apart(users: &[UserEntry]) -> Result<(), EntryError> {
    use crate::names::{fold, username_key};
    use std::collections::HashMap;
    let entry = |i: usize| format!("users[{i}] ({})", users[i].username);
    let mut keys: HashMap<String, usize> = HashMap::new();
    for (i, u) in users.iter().enumerate() {
        let Ok(k) = username_key(&u.username) else {
            continue;
        };
        if let Some(&j) = keys.get(&k) {
            return Err(entry_err(
                entry(i),
                format!(
                    "same username as {} once case, width and compatibility forms are ignored",
                    entry(j)
                ),
            ));
        }
        keys.insert(k, i);
    }
    let emails: HashMap<String, usize> = users
        .iter()
        .enumerate()
        .filter_map(|(i, u)| u.email.as_ref().map(|e| (e.to_lowercase(), i)))
        .collect();
    for (i, u) in users.iter().enumerate() {
        let values = [("phone", &u.phone), ("email", &u.email)];
        for (field, v) in values
            .iter()
            .filter_map(|(f, v)| v.as_ref().map(|v| (*f, v)))
        {
            let mut clash = keys.get(&fold(v)).map(|&j| (j, "username"));
            if field == "phone" {
                clash = clash.or(emails.get(&v.to_lowercase()).map(|&j| (j, "email")));
            }
            match clash {
                Some((j, what)) if j > i => {
                    return Err(entry_err(
                        entry(j),
                        format!("{what} equals the {field} of {}", entry(i)),
                    ));
                }
                Some((j, what)) if j < i => {
                    return Err(entry_err(
                        entry(i),
                        format!("{field} equals the {what} of {}", entry(j)),
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_an_error_with_its_line() {
        let e = parse("[[tenants]]\ncode = \"A\"\nname = \"a\"\nfoo = 1\n").unwrap_err();
        assert!(e.starts_with("line 4:"), "{e}");
        assert!(e.contains("foo"), "{e}");
    }

    #[test]
    fn durations_and_instants_parse() {
        assert_eq!(parse_duration("30m").unwrap(), 1800);
        assert_eq!(parse_duration("2h").unwrap(), 7200);
        assert_eq!(parse_duration("30d").unwrap(), 30 * 86400);
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_instant("1970-01-01T00:01:00Z").unwrap(), 60);
    }

    #[test]
    fn names_that_shadow_another_entry_are_refused_naming_the_later_entry() {
        let users = |t: &str| check(&parse(t).unwrap()).map_err(|e| e.to_string());
        assert_eq!(
            users("[[users]]\nusername = \"bob\"\nphone = \"13500000002\"\n[[users]]\nusername = \"13500000002\"\n"),
            Err("users[1] (13500000002): username equals the phone of users[0] (bob)".into())
        );
        assert_eq!(
            users("[[users]]\nusername = \"Bob@B.test\"\n[[users]]\nusername = \"bob\"\nemail = \"bob@b.test\"\n"),
            Err("users[1] (bob): email equals the username of users[0] (Bob@B.test)".into())
        );
        assert_eq!(
            users("[[users]]\nusername = \"alice\"\n[[users]]\nusername = \"ＡＬＩＣＥ\"\n"),
            Err("users[1] (ＡＬＩＣＥ): same username as users[0] (alice) once case, width and compatibility forms are ignored".into())
        );
        assert_eq!(
            users("[[users]]\nusername = \"a\"\nphone = \"x@y.test\"\n[[users]]\nusername = \"b\"\nemail = \"X@y.test\"\n"),
            Err("users[1] (b): email equals the phone of users[0] (a)".into())
        );
        assert!(
            users("[[users]]\nusername = \"13500000002\"\nphone = \"13500000002\"\n").is_ok(),
            "one's own phone"
        );
        let e = users("[[users]]\nusername = \"al\\u200bice\"\n").unwrap_err();
        assert!(
            e.starts_with("users[0] (al\u{200b}ice): username contains an invisible"),
            "{e}"
        );
        let e = users("[[users]]\nusername = \" alice\"\n").unwrap_err();
        assert!(e.contains("whitespace at its start or end"), "{e}");
    }

    #[test]
    fn check_names_the_entry() {
        let f = parse("[[users]]\nusername = \"a\"\nbirthday = \"1990/01/02\"\n").unwrap();
        let e = check(&f).unwrap_err();
        assert_eq!(e.entry, "users[0] (a)");
    }

    /// Issue 15: what the admin API refuses, the file refuses too, naming the entry.
    #[test]
    fn scopes_tenant_codes_and_app_key_client_ids_are_checked_in_the_file() {
        let refused = |text: &str| check(&parse(text).unwrap()).unwrap_err();
        let e = refused("[[clients]]\nclient_id = \"c\"\nscopes = [\"x tessera:admin\"]\n");
        assert_eq!(e.entry, "clients[0] (c)");
        assert!(e.to_string().contains("scope"), "{e}");
        let e = refused("[[clients]]\nclient_id = \"appkey:k\"\n");
        assert!(e.to_string().contains("reserved"), "{e}");
        let e = refused("[[tenants]]\ncode = \"A B\"\nname = \"a\"\n");
        assert_eq!(e.entry, "tenants[0] (A B)");
        assert!(check(
            &parse("[[tenants]]\ncode = \"A\"\nname = \"a\"\n[[clients]]\nclient_id = \"c\"\nscopes = [\"openid\", \"tessera:admin:A\"]\n")
                .unwrap()
        )
        .is_ok());
    }
}
