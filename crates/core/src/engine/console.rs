//! Who may use the web console (issue 17, `docs/console.md`): a person signed in through the
//! login page whose account is a superuser (every tenant and the global objects), or who holds
//! the membership role `tessera:admin` (that membership's tenant). The console then acts with
//! the same [`Actor`] as the admin API, so every tenant boundary is checked by the same engine
//! calls; the actor's name is the person's, for the audit log.

use super::actor::{Actor, Authority, ADMIN_SCOPE, TENANT_ADMIN_PREFIX};
use super::Engine;
use crate::error::EngineError;
use crate::model::{SsoSession, User};

/// The membership role that makes a person the console admin of that membership's tenant.
pub const CONSOLE_ADMIN_ROLE: &str = "tessera:admin";

/// What the console makes of a browser.
#[derive(Debug, Clone)]
pub enum ConsoleAccess {
    /// No live SSO session (or its account is gone or disabled): sign in first.
    SignIn,
    /// Signed in, but neither a superuser nor a tenant's console admin: a 403 page.
    Refused { user: User },
    /// Signed in with authority: the actor to act as.
    Granted {
        user: User,
        session: SsoSession,
        actor: Actor,
    },
}

impl Engine {
    /// The enabled account behind a live SSO session, if any (the front door's greeting, the
    /// login page's "signed in as").
    pub async fn session_user(&self, secret: &str) -> Result<Option<User>, EngineError> {
        let Some(session) = self.session(secret).await? else {
            return Ok(None);
        };
        Ok(self
            .store
            .user_by_id(session.user_id)
            .await?
            .filter(|u| u.enabled))
    }

    /// The console access of the SSO session behind `secret`. A tenant admin acts on the
    /// tenant of the session's sign-in when the role is held there, otherwise on the first
    /// enabled tenant (in code order) where it is held.
    pub async fn console_access(&self, secret: &str) -> Result<ConsoleAccess, EngineError> {
        let Some(session) = self.session(secret).await? else {
            return Ok(ConsoleAccess::SignIn);
        };
        let Some(user) = self.store.user_by_id(session.user_id).await? else {
            return Ok(ConsoleAccess::SignIn);
        };
        if !user.enabled {
            return Ok(ConsoleAccess::SignIn);
        }
        let name = format!("user:{}", user.username);
        if user.superuser {
            return Ok(ConsoleAccess::Granted {
                actor: Actor {
                    name,
                    authority: Authority::Global,
                    scopes: vec![ADMIN_SCOPE.to_string()],
                },
                user,
                session,
            });
        }
        let mut admin_of: Vec<_> = self
            .store
            .memberships_of(user.id)
            .await?
            .into_iter()
            .filter(|m| m.tenant.enabled && m.roles.iter().any(|r| r == CONSOLE_ADMIN_ROLE))
            .map(|m| m.tenant)
            .collect();
        admin_of.sort_by(|a, b| a.code.cmp(&b.code));
        let chosen = admin_of
            .iter()
            .find(|t| Some(t.id) == session.tenant_id)
            .or(admin_of.first())
            .cloned();
        Ok(match chosen {
            Some(t) => ConsoleAccess::Granted {
                actor: Actor {
                    name,
                    scopes: vec![format!("{TENANT_ADMIN_PREFIX}{}", t.code)],
                    authority: Authority::Tenant {
                        id: t.id,
                        code: t.code,
                    },
                },
                user,
                session,
            },
            None => ConsoleAccess::Refused { user },
        })
    }
}
