//! What the admin API does, as engine operations: each validates, changes the store, and
//! writes an audit event (`kind = "admin"`). Refusals are typed ([`AdminFailure`]).

use super::actor::{Actor, Reach};
use super::Engine;
use crate::error::{EngineError, StoreError};
use crate::model::*;
use crate::secret::Secret;
use crate::store::AuditFilter;

/// Why an admin operation was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminFailure {
    NotFound,
    /// A unique value is taken (username, phone, email, client id…).
    Conflict(String),
    /// A field's value is not acceptable.
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The actor may see the object but not do this to it (a tenant admin and a global
    /// object, a user shared with another tenant, a scope it cannot grant).
    Forbidden(String),
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct CreateUser {
    pub username: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub password: Option<Secret>,
    pub user_type: UserType,
    pub display_name: String,
    pub real_name: String,
    pub enabled: bool,
    pub active: bool,
    /// Only a global actor may create a superuser.
    pub superuser: bool,
}

pub(crate) type Outcome<T> = Result<Result<T, AdminFailure>, EngineError>;

/// `?` for an expected refusal inside an [`Outcome`].
macro_rules! refuse {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(f) => return Ok(Err(f)),
        }
    };
}

mod app_keys;
mod catalog;
mod clients;
mod tenants;
mod users;

pub use clients::check_client_id;
pub use tenants::check_tenant_code;

pub(crate) fn conflict(e: StoreError) -> Result<AdminFailure, EngineError> {
    match e {
        StoreError::Conflict { constraint } => Ok(AdminFailure::Conflict(constraint)),
        other => Err(other.into()),
    }
}

impl Engine {
    async fn admin_audit(&self, actor: &Actor, action: super::AdminAction, target: &str) {
        let actor = actor.name.as_str();
        self.audit(AuditEvent {
            at: self.now(),
            kind: super::AuditKind::Admin.as_str().into(),
            dialect: "admin".into(),
            outcome: action.as_str().into(),
            user_id: None,
            client_id: Some(actor.to_string()),
            ip: None,
            detail: target.to_string(),
        })
        .await
    }

    /// The org `org` of the tenant `tenant` (codes), with its tenant.
    async fn org_by_codes(
        &self,
        tenant: &str,
        org: &str,
    ) -> Result<Option<(Tenant, Org)>, EngineError> {
        let Some(t) = self.store.tenant_by_code(tenant).await? else {
            return Ok(None);
        };
        let o = self
            .store
            .list_orgs(t.id)
            .await?
            .into_iter()
            .find(|x| x.code == org);
        Ok(o.map(|o| (t, o)))
    }

    /// The audit log. A tenant actor reads one user's events at a time (events carry a user
    /// and a client, not a tenant), and only of a user wholly within its tenant.
    pub async fn admin_audit_log(
        &self,
        actor: &Actor,
        f: &AuditFilter,
    ) -> Outcome<Vec<AuditEvent>> {
        if !actor.is_global() {
            let Some(user) = f.user else {
                return Ok(Err(AdminFailure::Invalid {
                    field: "user",
                    message: "required for a tenant-scoped token".into(),
                }));
            };
            refuse!(self.admin_reach_user(actor, user, Reach::Account).await?);
        }
        Ok(Ok(self.store.query_audit(f).await?))
    }
}
