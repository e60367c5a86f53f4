//! Who acts through the admin API and over what: the tenant boundary, checked here in the
//! engine for every admin operation rather than in each handler (issue 15, `docs/security.md`).
//!
//! - A **global** actor (scope `tessera:admin`) may do anything.
//! - A **tenant** actor (scope `tessera:admin:CODE`) sees and changes its tenant's objects. A
//!   user who also belongs to another tenant is *shared*: the tenant actor reads the user and
//!   manages the user's memberships in its own tenant, but changes to the account itself
//!   (password, phone, e-mail, enabled, lock, tokens and sessions, the default membership) need
//!   authority over every tenant of that user, which only a global actor has.

use super::{AdminFailure, Engine};
use crate::error::EngineError;
use crate::ids::{TenantId, UserId};
use crate::model::{Membership, User};

/// The scope of the admin API over every tenant.
pub const ADMIN_SCOPE: &str = "tessera:admin";
/// `tessera:admin:CODE`: the admin API restricted to the tenant `CODE`.
pub const TENANT_ADMIN_PREFIX: &str = "tessera:admin:";
/// Scopes under this prefix are Tessera's own privileges.
pub const RESERVED_SCOPE_PREFIX: &str = "tessera:";

/// The authority of an admin actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authority {
    Global,
    Tenant { id: TenantId, code: String },
}

/// An admin caller: its name for the audit log, its authority, and the scopes its token holds.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub authority: Authority,
    pub scopes: Vec<String>,
}

/// How far an operation on a user reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Reading the user (its data, its tokens and sessions in the actor's tenant).
    Read,
    /// Adding, changing or removing the user's memberships and product links in the actor's
    /// tenant.
    Membership,
    /// Changing the account itself: password, phone, e-mail, enabled, lock, all its tokens and
    /// sessions, its default membership, its audit trail.
    Account,
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. A scope entry or a tenant
/// code (which becomes part of `tessera:admin:CODE`) must be one such token: an entry with a
/// space in it would become two scopes once the entries are joined (issue 15, finding 1).
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

impl Actor {
    /// An actor with authority over everything (the bootstrap, the command line, tests).
    pub fn global(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            authority: Authority::Global,
            scopes: vec![ADMIN_SCOPE.to_string()],
        }
    }

    pub fn is_global(&self) -> bool {
        self.authority == Authority::Global
    }

    /// The tenant a tenant actor is restricted to.
    pub fn tenant_id(&self) -> Option<TenantId> {
        match &self.authority {
            Authority::Global => None,
            Authority::Tenant { id, .. } => Some(*id),
        }
    }

    pub fn tenant_code(&self) -> Option<&str> {
        match &self.authority {
            Authority::Global => None,
            Authority::Tenant { code, .. } => Some(code),
        }
    }

    /// Refused unless the actor may act on every tenant (tenants, products, open login ways,
    /// directories: what belongs to no tenant).
    pub fn global_only(&self, what: &str) -> Result<(), AdminFailure> {
        if self.is_global() {
            Ok(())
        } else {
            Err(AdminFailure::Forbidden(format!(
                "{what} needs the scope {ADMIN_SCOPE} (this token is restricted to one tenant)"
            )))
        }
    }

    /// Not found for a tenant outside a tenant actor's own (its existence is not revealed).
    pub fn may_tenant(&self, code: &str) -> Result<(), AdminFailure> {
        match &self.authority {
            Authority::Tenant { code: own, .. } if own != code => Err(AdminFailure::NotFound),
            _ => Ok(()),
        }
    }

    /// Not found for an object bound to another tenant, or to none, under a tenant actor.
    pub fn may_tenant_id(&self, id: Option<TenantId>) -> Result<(), AdminFailure> {
        match &self.authority {
            Authority::Tenant { id: own, .. } if id != Some(*own) => Err(AdminFailure::NotFound),
            _ => Ok(()),
        }
    }

    /// Whether the actor may put these scopes on a client. Every entry must be one scope token
    /// (400). A tenant actor may grant Tessera's own `tessera:*` scopes only when it holds them
    /// itself and never an admin scope beyond its own tenant (403); ordinary scopes (`openid`,
    /// an API's scopes) grant no power in Tessera and are free.
    pub fn may_grant(&self, scopes: &[String]) -> Result<(), AdminFailure> {
        if let Some(bad) = scopes.iter().find(|s| !is_scope_token(s)) {
            return Err(AdminFailure::Invalid {
                field: "scopes",
                message: format!(
                    "{bad:?} is not one scope token (RFC 6749 §3.3: no spaces, quotes or backslashes, not empty)"
                ),
            });
        }
        let Authority::Tenant { code, .. } = &self.authority else {
            return Ok(());
        };
        let mine = format!("{TENANT_ADMIN_PREFIX}{code}");
        let refused = scopes.iter().find(|s| {
            s.starts_with(RESERVED_SCOPE_PREFIX)
                && (s.as_str() == ADMIN_SCOPE
                    || (s.starts_with(TENANT_ADMIN_PREFIX) && **s != mine)
                    || !self.scopes.iter().any(|h| h == *s))
        });
        match refused {
            Some(s) => Err(AdminFailure::Forbidden(format!(
                "the scope {s} cannot be granted by a token restricted to tenant {code}"
            ))),
            None => Ok(()),
        }
    }
}

impl Engine {
    /// The user `id` if the actor may reach it that far, with its memberships. A tenant actor
    /// gets "not found" for a user outside its tenant (an unattached user counts as inside only
    /// for the tenant whose admin created it) and "forbidden" for an account-level change of a
    /// user shared with another tenant.
    pub async fn admin_reach_user(
        &self,
        actor: &Actor,
        id: UserId,
        reach: Reach,
    ) -> Result<Result<(User, Vec<Membership>), AdminFailure>, EngineError> {
        let Some(user) = self.store.user_by_id(id).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        let ms = self.store.memberships_of(id).await?;
        let Authority::Tenant { id: own, code } = &actor.authority else {
            return Ok(Ok((user, ms)));
        };
        if ms.is_empty() {
            return Ok(match self.store.user_creator(id).await? {
                Some(t) if t == *own => Ok((user, ms)),
                _ => Err(AdminFailure::NotFound),
            });
        }
        if !ms.iter().any(|m| m.tenant.id == *own) {
            return Ok(Err(AdminFailure::NotFound));
        }
        if reach == Reach::Account && user.superuser {
            // A superuser's account is global: a tenant admin who could reset its password
            // would gain every tenant.
            return Ok(Err(AdminFailure::Forbidden(
                "this user is a superuser: only a global admin changes the account".into(),
            )));
        }
        if reach == Reach::Account && ms.iter().any(|m| m.tenant.id != *own) {
            return Ok(Err(AdminFailure::Forbidden(format!(
                "this user also belongs to another tenant: changing the account needs authority over every tenant of the user, not only {code}"
            ))));
        }
        Ok(Ok((user, ms)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant_actor(scopes: &[&str]) -> Actor {
        Actor {
            name: "ops-a".into(),
            authority: Authority::Tenant {
                id: TenantId(1),
                code: "A".into(),
            },
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_scope_entry_with_a_space_is_not_one_scope_token() {
        assert!(!is_scope_token("x tessera:admin"));
        assert!(!is_scope_token(""));
        assert!(!is_scope_token("a\"b"));
        assert!(!is_scope_token("a\\b"));
        assert!(!is_scope_token("a\tb"));
        assert!(!is_scope_token("é"));
        assert!(is_scope_token("tessera:admin:A"));
        assert!(is_scope_token("openid"));
        let g = Actor::global("ops");
        assert!(matches!(
            g.may_grant(&v(&["x tessera:admin"])),
            Err(AdminFailure::Invalid { .. })
        ));
    }

    #[test]
    fn a_tenant_actor_grants_only_reserved_scopes_it_holds_in_its_tenant() {
        let a = tenant_actor(&["tessera:admin:A"]);
        assert!(a
            .may_grant(&v(&["openid", "profile", "tessera:admin:A"]))
            .is_ok());
        for s in [
            "tessera:admin",
            "tessera:admin:B",
            "tessera:introspect",
            "tessera:anything",
        ] {
            assert!(
                matches!(a.may_grant(&v(&[s])), Err(AdminFailure::Forbidden(_))),
                "{s}"
            );
        }
        let b = tenant_actor(&["tessera:admin:A", "tessera:introspect"]);
        assert!(b.may_grant(&v(&["tessera:introspect"])).is_ok());
        assert!(Actor::global("ops")
            .may_grant(&v(&["tessera:admin", "tessera:introspect"]))
            .is_ok());
    }
}
