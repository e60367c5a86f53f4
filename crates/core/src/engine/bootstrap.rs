//! Preparing a bootstrap file: clear-text secrets are hashed; a clear password that the stored
//! hash already verifies keeps that hash, so that applying the same file twice changes nothing.

use super::Engine;
use crate::bootstrap::*;
use crate::error::EngineError;
use crate::model::LoginField;
use crate::secret::{Secret, TokenHash};
use crate::store::{BootstrapError, BootstrapReport};

impl Engine {
    pub async fn prepare_bootstrap(
        &self,
        file: BootstrapFile,
    ) -> Result<PreparedBootstrap, BootstrapError> {
        check(&file).map_err(|e| BootstrapError::Invalid {
            entry: e.entry,
            message: e.message,
        })?;
        // Issue 15 against the database (the file against itself: `check`). Each entry is
        // compared with the users as they are now, except the one it updates.
        for (i, u) in file.users.iter().enumerate() {
            let except = self
                .store
                .user_by_login(LoginField::Username, &u.username)
                .await?
                .filter(|x| x.username == u.username)
                .map(|x| x.id);
            let clash = self
                .name_clash(
                    Some(&u.username),
                    u.phone.as_deref(),
                    u.email.as_deref(),
                    except,
                    false,
                )
                .await
                .map_err(engine_fault)?;
            if let Some(c) = clash {
                return Err(BootstrapError::Invalid {
                    entry: format!("users[{i}] ({})", u.username),
                    message: c.message(),
                });
            }
        }
        let mut users = Vec::with_capacity(file.users.len());
        for u in file.users {
            let mut password_unchanged = true;
            let password_hash = match (&u.password, &u.password_hash) {
                (Some(clear), _) => {
                    let secret = Secret::new(clear.clone());
                    let existing = self
                        .store
                        .user_by_login(LoginField::Username, &u.username)
                        .await?
                        .and_then(|x| x.password_hash);
                    // The file's password as last applied: if it is the same, the password
                    // the user has now stands (a reset through the admin API, an upgraded
                    // hash); if the file changed it, the file's applies.
                    password_unchanged = match self.store.bootstrap_user_secret(&u.username).await?
                    {
                        Some(h) => {
                            self.hasher
                                .verify(secret.clone(), h)
                                .await
                                .map_err(fault)?
                                .ok
                        }
                        None => false,
                    };
                    let keep = match &existing {
                        Some(_) if password_unchanged => true,
                        Some(h) => {
                            self.hasher
                                .verify(secret.clone(), h.clone())
                                .await
                                .map_err(fault)?
                                .ok
                        }
                        None => false,
                    };
                    if keep {
                        existing
                    } else {
                        Some(self.hasher.hash(secret).await.map_err(fault)?)
                    }
                }
                (None, Some(h)) => Some(h.clone()),
                (None, None) => None,
            };
            let expires_at = u
                .expires_at
                .as_deref()
                .map(parse_instant)
                .transpose()
                .map_err(|m| inv(&u.username, m))?;
            let locked_until = u
                .locked_until
                .as_deref()
                .map(parse_instant)
                .transpose()
                .map_err(|m| inv(&u.username, m))?;
            users.push(PreparedUser {
                entry: u,
                password_unchanged,
                password_hash,
                expires_at,
                locked_until,
            });
        }
        let clients = file
            .clients
            .into_iter()
            .map(|c| {
                let secret_hash = match (&c.client_secret, &c.client_secret_sha256) {
                    (Some(s), _) => Some(TokenHash::of(s)),
                    (None, Some(h)) => TokenHash::from_hex(h),
                    (None, None) => None,
                };
                let access_ttl = c
                    .access_ttl
                    .as_deref()
                    .map(parse_duration)
                    .transpose()
                    .map_err(|m| inv(&c.client_id, m))?;
                let refresh_ttl = c
                    .refresh_ttl
                    .as_deref()
                    .map(parse_duration)
                    .transpose()
                    .map_err(|m| inv(&c.client_id, m))?;
                Ok(PreparedClient {
                    entry: c,
                    secret_hash,
                    access_ttl,
                    refresh_ttl,
                })
            })
            .collect::<Result<Vec<_>, BootstrapError>>()?;
        let app_keys = file
            .app_keys
            .into_iter()
            .map(|a| {
                let secret_hash = match (&a.app_secret, &a.app_secret_sha256) {
                    (Some(s), _) => Some(TokenHash::of(s)),
                    (None, Some(h)) => TokenHash::from_hex(h),
                    (None, None) => None,
                };
                let secret_hash =
                    secret_hash.ok_or_else(|| inv(&a.app_key, "app secret missing".into()))?;
                Ok(PreparedAppKey {
                    entry: a,
                    secret_hash,
                })
            })
            .collect::<Result<Vec<_>, BootstrapError>>()?;
        Ok(PreparedBootstrap {
            tenants: file.tenants,
            orgs: file.orgs,
            products: file.products,
            org_products: file.org_products,
            users,
            memberships: file.memberships,
            clients,
            app_keys,
            open_login_ways: file.open_login_ways,
        })
    }

    /// Parses, prepares and applies bootstrap text in one transaction.
    pub async fn apply_bootstrap_text(
        &self,
        text: &str,
    ) -> Result<BootstrapReport, BootstrapError> {
        let file = parse(text).map_err(|m| BootstrapError::Invalid {
            entry: "file".into(),
            message: m,
        })?;
        // The keys the name checks compare must be the current rules' (issue 15).
        self.refresh_username_keys().await.map_err(engine_fault)?;
        let prepared = self.prepare_bootstrap(file).await?;
        let report = self.store.apply_bootstrap(&prepared, self.now()).await;
        self.forget_clients();
        report
    }
}

fn fault(e: EngineError) -> BootstrapError {
    BootstrapError::Invalid {
        entry: "passwords".into(),
        message: e.to_string(),
    }
}

/// A fault of the store stays one; anything else names the users.
fn engine_fault(e: EngineError) -> BootstrapError {
    match e {
        EngineError::Store(e) => BootstrapError::Store(e),
        other => BootstrapError::Invalid {
            entry: "users".into(),
            message: other.to_string(),
        },
    }
}

fn inv(name: &str, message: String) -> BootstrapError {
    BootstrapError::Invalid {
        entry: name.to_string(),
        message,
    }
}
