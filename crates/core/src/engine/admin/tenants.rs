//! Admin operations on tenants, orgs and memberships.

use super::{AdminFailure, Outcome};
use crate::engine::actor::{is_scope_token, Actor, Reach};
use crate::engine::{AdminAction, Engine};
use crate::error::EngineError;
use crate::ids::{new_id, UserId};
use crate::model::*;

impl Engine {
    /// The tenants the actor may see.
    pub async fn admin_list_tenants(&self, actor: &Actor) -> Result<Vec<Tenant>, EngineError> {
        let mut ts = self.store.list_tenants().await?;
        ts.retain(|t| actor.may_tenant(&t.code).is_ok());
        Ok(ts)
    }

    pub async fn admin_tenant(&self, code: &str) -> Result<Option<Tenant>, EngineError> {
        Ok(self.store.tenant_by_code(code).await?)
    }

    /// Creates (`create`: 409 if the code is taken) or updates (404 if missing) a tenant.
    pub async fn admin_put_tenant(
        &self,
        actor: &Actor,
        mut t: Tenant,
        create: bool,
    ) -> Outcome<Tenant> {
        if create {
            refuse!(actor.global_only("creating a tenant"));
        } else {
            refuse!(actor.may_tenant(&t.code));
        }
        if let Err(f) = check_tenant_code(&t.code) {
            return Ok(Err(f));
        }
        match (self.store.tenant_by_code(&t.code).await?, create) {
            (Some(_), true) => return Ok(Err(AdminFailure::Conflict("code".into()))),
            (None, false) => return Ok(Err(AdminFailure::NotFound)),
            (Some(old), false) => {
                // Suspending or restoring a tenant is the global admin's: a tenant's own
                // admin cannot undo a suspension.
                if old.enabled != t.enabled {
                    refuse!(actor.global_only("enabling or disabling a tenant"));
                }
                t.id = old.id
            }
            (None, true) => t.id = crate::ids::TenantId(new_id()),
        }
        self.store.put_tenant(&t, self.now()).await?;
        self.admin_audit(
            actor,
            if create {
                AdminAction::TenantCreate
            } else {
                AdminAction::TenantUpdate
            },
            &format!("tenant {}", t.code),
        )
        .await;
        Ok(Ok(t))
    }

    pub async fn admin_list_orgs(&self, actor: &Actor, tenant: &str) -> Outcome<Vec<Org>> {
        refuse!(actor.may_tenant(tenant));
        let Some(t) = self.store.tenant_by_code(tenant).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        Ok(Ok(self.store.list_orgs(t.id).await?))
    }

    /// Creates or updates the org `code` of tenant `tenant` (`o.id`/`o.tenant_id` are set here).
    pub async fn admin_put_org(
        &self,
        actor: &Actor,
        tenant: &str,
        mut o: Org,
        create: bool,
    ) -> Outcome<Org> {
        refuse!(actor.may_tenant(tenant));
        let Some(t) = self.store.tenant_by_code(tenant).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        if o.code.trim().is_empty() || o.code.len() > 64 {
            return Ok(Err(AdminFailure::Invalid {
                field: "code",
                message: "1 to 64 characters".into(),
            }));
        }
        let existing = self
            .store
            .list_orgs(t.id)
            .await?
            .into_iter()
            .find(|x| x.code == o.code);
        match (existing, create) {
            (Some(_), true) => return Ok(Err(AdminFailure::Conflict("code".into()))),
            (None, false) => return Ok(Err(AdminFailure::NotFound)),
            (Some(old), false) => o.id = old.id,
            (None, true) => o.id = crate::ids::OrgId(new_id()),
        }
        o.tenant_id = t.id;
        self.store.put_org(&o).await?;
        self.admin_audit(
            actor,
            if create {
                AdminAction::OrgCreate
            } else {
                AdminAction::OrgUpdate
            },
            &format!("org {tenant}/{}", o.code),
        )
        .await;
        Ok(Ok(o))
    }

    /// Puts a user in a tenant's org with roles (or changes them).
    pub async fn admin_put_membership(
        &self,
        actor: &Actor,
        user: UserId,
        tenant: &str,
        org: &str,
        roles: &[String],
        default: bool,
    ) -> Outcome<()> {
        refuse!(actor.may_tenant(tenant));
        // Making a membership the default takes the flag from the user's others, which may be
        // in another tenant: an account-level change.
        let reach = if default {
            Reach::Account
        } else {
            Reach::Membership
        };
        refuse!(self.admin_reach_user(actor, user, reach).await?);
        let Some((t, o)) = self.org_by_codes(tenant, org).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        self.store
            .put_membership(user, t.id, o.id, roles, default)
            .await?;
        self.admin_audit(
            actor,
            AdminAction::MembershipPut,
            &format!("user {} in {tenant}/{org}: {}", user.0, roles.join(",")),
        )
        .await;
        Ok(Ok(()))
    }

    pub async fn admin_delete_membership(
        &self,
        actor: &Actor,
        user: UserId,
        tenant: &str,
        org: &str,
    ) -> Outcome<()> {
        refuse!(actor.may_tenant(tenant));
        refuse!(
            self.admin_reach_user(actor, user, Reach::Membership)
                .await?
        );
        let Some((t, o)) = self.org_by_codes(tenant, org).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        if !self.store.delete_membership(user, t.id, o.id).await? {
            return Ok(Err(AdminFailure::NotFound));
        }
        // An app key of that org signs in as its user only while the user is a member there
        // (issue 15): the keys that named this user are disabled with the membership.
        for mut k in self.store.list_app_keys().await? {
            if k.user_id == Some(user) && k.org_id == o.id && k.enabled {
                k.enabled = false;
                self.store.put_app_key(&k, self.now()).await?;
                self.admin_audit(
                    actor,
                    AdminAction::AppKeyUpdate,
                    &format!("app key {} disabled with the membership", k.app_key),
                )
                .await;
            }
        }
        self.admin_audit(
            actor,
            AdminAction::MembershipDelete,
            &format!("user {} in {tenant}/{org}", user.0),
        )
        .await;
        Ok(Ok(()))
    }
}

/// A tenant code: 1 to 64 characters, one scope token (it becomes `tessera:admin:CODE`).
pub fn check_tenant_code(code: &str) -> Result<(), AdminFailure> {
    if code.len() > 64 || !is_scope_token(code) {
        return Err(AdminFailure::Invalid {
            field: "code",
            message: "1 to 64 characters, no spaces, quotes or backslashes (one scope token)"
                .into(),
        });
    }
    Ok(())
}
