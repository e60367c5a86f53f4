//! The checks of a bootstrap file that need no database: formats, enums, duplicate natural
//! keys, one form per secret, and names that stay apart once normalised.

use super::*;

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
