//! Names that shadow other people (issue 15): a sign-in name (username, phone or e-mail)
//! names one user only. A username may not equal, once keyed ([`crate::names`]), another
//! user's username, phone or e-mail; a phone or e-mail may not equal another user's username
//! key, nor another user's e-mail or phone. Without this, `find_user`, which tries the
//! username first, would send Bob's correct sign-in by phone to the account named after it.
//! `docs/decisions.md`, "Usernames (issue 15)".

use super::{AdminFailure, Engine};
use crate::error::{EngineError, StoreError};
use crate::ids::UserId;
use crate::model::{LoginField, User};
use crate::names::{fold, username_key, NameProblem};

/// Why a user may not have the names asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameClash {
    /// The username has no key.
    BadUsername(NameProblem),
    /// The asked `field` is what `other` holds as its `held_as`.
    Held {
        field: LoginField,
        other: Box<User>,
        held_as: LoginField,
    },
}

fn field_name(f: LoginField) -> &'static str {
    match f {
        LoginField::Username => "username",
        LoginField::Phone => "phone",
        LoginField::Email => "email",
    }
}

impl NameClash {
    /// The admin API's refusal: 400 for a bad username, 409 naming the asked field.
    pub(crate) fn admin_failure(&self) -> AdminFailure {
        match self {
            NameClash::BadUsername(p) => AdminFailure::Invalid {
                field: "username",
                message: p.to_string(),
            },
            NameClash::Held { field, .. } => AdminFailure::Conflict(field_name(*field).into()),
        }
    }

    /// One line for the bootstrap, after the entry's name: names the other user.
    pub(crate) fn message(&self) -> String {
        match self {
            NameClash::BadUsername(p) => format!("username {p}"),
            NameClash::Held {
                field: LoginField::Username,
                other,
                held_as: LoginField::Username,
            } => format!(
                "username is taken by user {:?} (usernames are compared ignoring case, width and compatibility forms)",
                other.username
            ),
            NameClash::Held {
                field,
                other,
                held_as,
            } if field == held_as => {
                format!(
                    "{} is taken by user {:?}",
                    field_name(*field),
                    other.username
                )
            }
            NameClash::Held {
                field,
                other,
                held_as,
            } => format!(
                "{} equals the {} of user {:?}",
                field_name(*field),
                field_name(*held_as),
                other.username
            ),
        }
    }
}

/// What [`Engine::refresh_username_keys`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsernameKeyReport {
    /// Users read.
    pub checked: u64,
    /// Users whose stored key changed.
    pub updated: u64,
    /// Users left without a key (a name with refused characters, or a clash with an older
    /// user's key): they cannot sign in by username until renamed.
    pub without_key: Vec<String>,
    /// Usernames equal to another user's phone or e-mail, made before these checks (at most
    /// 100): `(username, other user, the other's field)`. Sign-in by that value finds the
    /// username; the operator should rename it.
    pub shadowing: Vec<(String, String, LoginField)>,
}

/// Users read per query by [`Engine::refresh_username_keys`].
const KEY_PAGE: i64 = 2000;

impl Engine {
    /// Checks the names a user is to have (admin create: `except = None`; admin update:
    /// `username = None`, `except = Some(id)`): `Invalid { field: "username" }` for a username
    /// without a key, `Conflict("username" | "phone" | "email")` when the name is another
    /// user's (issue 15). Empty phone and e-mail are none.
    pub(crate) async fn check_user_names(
        &self,
        username: Option<&str>,
        phone: Option<&str>,
        email: Option<&str>,
        except: Option<UserId>,
    ) -> Result<Result<(), AdminFailure>, EngineError> {
        Ok(
            match self
                .name_clash(username, phone, email, except, true)
                .await?
            {
                None => Ok(()),
                Some(c) => Err(c.admin_failure()),
            },
        )
    }

    /// The first clash of these names with another user than `except`. `same_field`: also a
    /// phone or e-mail taken as such (the bootstrap leaves that to the unique indexes, which
    /// see the file's entries in order, so that a phone may move from one user to another).
    pub(crate) async fn name_clash(
        &self,
        username: Option<&str>,
        phone: Option<&str>,
        email: Option<&str>,
        except: Option<UserId>,
        same_field: bool,
    ) -> Result<Option<NameClash>, EngineError> {
        use LoginField::*;
        let held = |field: LoginField, held_as: LoginField, users: Vec<User>| {
            users
                .into_iter()
                .find(|u| Some(u.id) != except)
                .map(|other| NameClash::Held {
                    field,
                    other: Box::new(other),
                    held_as,
                })
        };
        if let Some(name) = username {
            let key = match username_key(name) {
                Ok(k) => k,
                Err(p) => return Ok(Some(NameClash::BadUsername(p))),
            };
            for held_as in [Username, Phone, Email] {
                let users = self.store.users_holding(held_as, &key).await?;
                if let Some(c) = held(Username, held_as, users) {
                    return Ok(Some(c));
                }
            }
        }
        let phone = phone.filter(|v| !v.is_empty());
        let email = email.filter(|v| !v.is_empty());
        for (field, value, other) in [(Phone, phone, Email), (Email, email, Phone)] {
            let Some(v) = value else { continue };
            let users = self.store.users_holding(Username, &fold(v)).await?;
            if let Some(c) = held(field, Username, users) {
                return Ok(Some(c));
            }
            if let Some(c) = held(field, other, self.store.users_holding(other, v).await?) {
                return Ok(Some(c));
            }
            if same_field {
                if let Some(c) = held(field, field, self.store.users_holding(field, v).await?) {
                    return Ok(Some(c));
                }
            }
        }
        Ok(None)
    }

    /// Recomputes every user's username key in Rust ([`crate::names::username_key`]) where the
    /// stored one differs: after migration 0008 (which could only lowercase in SQL), after an
    /// upgrade of the Unicode tables, or for a row an older version wrote. A key wanted by two
    /// users goes to the one holding it already, else to the older; the other, and a name
    /// without a key, is left without one and named in a warning (it cannot sign in by
    /// username until renamed). Run at start-up and before each bootstrap.
    pub async fn refresh_username_keys(&self) -> Result<UsernameKeyReport, EngineError> {
        let mut rep = UsernameKeyReport::default();
        let mut stale = Vec::new();
        let mut after = None;
        loop {
            let page = self.store.username_keys(after, KEY_PAGE).await?;
            let full = i64::try_from(page.len()).unwrap_or(i64::MAX) >= KEY_PAGE;
            after = page.last().map(|r| r.id);
            for r in page {
                rep.checked += 1;
                let want = username_key(&r.username).ok();
                if want != r.key {
                    stale.push((r.key.is_some(), r.created_at, r.id, r.username, want));
                } else if want.is_none() {
                    rep.without_key.push(r.username);
                }
            }
            if !full {
                break;
            }
        }
        // Clear the stale keys first, so that each key can go to its rightful holder.
        for (had_key, _, id, _, _) in &stale {
            if *had_key {
                self.store.set_username_key(*id, None).await?;
            }
        }
        stale.sort_by_key(|s| (s.1, s.2));
        for (had_key, _, id, username, want) in stale {
            let Some(key) = want else {
                rep.updated += u64::from(had_key);
                rep.without_key.push(username);
                continue;
            };
            match self.store.set_username_key(id, Some(&key)).await {
                Ok(()) => rep.updated += 1,
                Err(StoreError::Conflict { .. }) => {
                    tracing::warn!(user = id.0, username = ?username, key = ?key, "username is another user's once case, width and compatibility forms are ignored (issue 15): no sign-in by username until it is renamed");
                    rep.updated += u64::from(had_key);
                    rep.without_key.push(username);
                }
                Err(e) => return Err(e.into()),
            }
        }
        if rep.updated > 0 {
            tracing::info!(
                checked = rep.checked,
                updated = rep.updated,
                "username keys refreshed"
            );
        }
        rep.shadowing = self.store.shadowed_names(100).await?;
        for (name, other, field) in &rep.shadowing {
            tracing::warn!(username = ?name, other = ?other, field = field_name(*field), "a username equals another user's phone or e-mail (issue 15): a sign-in by that value finds the username, not the other user; rename it");
        }
        if !rep.without_key.is_empty() {
            let some: Vec<&String> = rep.without_key.iter().take(20).collect();
            tracing::warn!(count = rep.without_key.len(), usernames = ?some, "users without a username key (refused characters, or another user's name once case and width are ignored; issue 15): they cannot sign in by username until renamed");
        }
        Ok(rep)
    }
}
