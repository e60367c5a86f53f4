//! Admin operations on OAuth clients: what a tenant actor may see, change and grant.

use super::{conflict, AdminFailure, Outcome};
use crate::engine::actor::{is_scope_token, Actor};
use crate::engine::{AdminAction, Engine};
use crate::error::EngineError;
use crate::ids::new_id;
use crate::model::*;
use crate::secret::{new_token, TokenFormat};

impl Engine {
    /// The clients the actor may see: a tenant actor's are those bound to its tenant.
    pub async fn admin_list_clients(&self, actor: &Actor) -> Result<Vec<Client>, EngineError> {
        let mut cs = self.store.list_clients().await?;
        cs.retain(|c| actor.may_tenant_id(c.tenant_id).is_ok());
        Ok(cs)
    }

    /// The client `client_id` if the actor may see it.
    pub async fn admin_client(&self, actor: &Actor, client_id: &str) -> Outcome<Client> {
        match self.store.client_by_client_id(client_id).await? {
            Some(c) if actor.may_tenant_id(c.tenant_id).is_ok() => Ok(Ok(c)),
            _ => Ok(Err(AdminFailure::NotFound)),
        }
    }

    /// The client `client_id` if the actor may change it: it sees it, and could grant every
    /// scope it holds. A tenant admin does not take over (rotate, re-point, delete) a client a
    /// global admin gave `tessera:introspect` or an admin scope.
    async fn admin_client_in_hand(&self, actor: &Actor, client_id: &str) -> Outcome<Client> {
        let c = refuse!(self.admin_client(actor, client_id).await?);
        refuse!(may_grant_held(actor, &c.scopes));
        Ok(Ok(c))
    }

    /// Creates (`create`) or replaces a client; a new confidential client gets a generated
    /// secret, answered once. Client ids are unique (409).
    pub async fn admin_put_client(
        &self,
        actor: &Actor,
        mut c: Client,
        create: bool,
        confidential: bool,
    ) -> Outcome<(Client, Option<String>)> {
        let id = c.client_id.0.trim().to_string();
        if id.is_empty() || id.len() > 128 {
            return Ok(Err(AdminFailure::Invalid {
                field: "client_id",
                message: "1 to 128 characters".into(),
            }));
        }
        if let Err(f) = check_client_id(&id) {
            return Ok(Err(f));
        }
        if let Some(own) = actor.tenant_id() {
            // A tenant's operator registers clients bound to that tenant.
            match c.tenant_id {
                None if create => c.tenant_id = Some(own),
                t => refuse!(actor.may_tenant_id(t)),
            }
        }
        let existing = self.store.client_by_client_id(&id).await?;
        if let Some(old) = &existing {
            // Not found for another tenant's client, whatever `create` says; forbidden for a
            // client holding more than the actor could grant (no take-over).
            refuse!(actor.may_tenant_id(old.tenant_id));
            refuse!(may_grant_held(actor, &old.scopes));
        }
        // Every entry must be one scope token, and one the actor may grant.
        refuse!(actor.may_grant(&c.scopes));
        let mut secret = None;
        match (&existing, create) {
            (Some(_), true) => return Ok(Err(AdminFailure::Conflict("client_id".into()))),
            (None, false) => return Ok(Err(AdminFailure::NotFound)),
            (Some(old), false) => {
                c.row_id = old.row_id;
                c.secret_hash = old.secret_hash;
            }
            (None, true) => {
                c.row_id = crate::ids::ClientRowId(new_id());
                if confidential {
                    let s = new_token(TokenFormat::Opaque);
                    c.secret_hash = Some(crate::secret::TokenHash::of(&s));
                    secret = Some(s);
                }
            }
        }
        if let Err(e) = self.store.put_client(&c, self.now()).await {
            return Ok(Err(conflict(e)?));
        }
        self.forget_clients();
        self.admin_audit(
            actor,
            if create {
                AdminAction::ClientCreate
            } else {
                AdminAction::ClientUpdate
            },
            &format!("client {id}"),
        )
        .await;
        Ok(Ok((c, secret)))
    }

    /// A new secret for a confidential client, answered once; the old one stops working.
    pub async fn admin_rotate_client_secret(
        &self,
        actor: &Actor,
        client_id: &str,
    ) -> Outcome<String> {
        let mut c = refuse!(self.admin_client_in_hand(actor, client_id).await?);
        let s = new_token(TokenFormat::Opaque);
        c.secret_hash = Some(crate::secret::TokenHash::of(&s));
        self.store.put_client(&c, self.now()).await?;
        self.forget_clients();
        self.admin_audit(
            actor,
            AdminAction::ClientSecretRotate,
            &format!("client {client_id}"),
        )
        .await;
        Ok(Ok(s))
    }

    pub async fn admin_delete_client(&self, actor: &Actor, client_id: &str) -> Outcome<()> {
        refuse!(self.admin_client_in_hand(actor, client_id).await?);
        if !self.store.delete_client(client_id, self.now()).await? {
            return Ok(Err(AdminFailure::NotFound));
        }
        self.forget_clients();
        self.tokens.clear();
        self.admin_audit(
            actor,
            AdminAction::ClientDelete,
            &format!("client {client_id}"),
        )
        .await;
        Ok(Ok(()))
    }
}

/// Whether the actor could grant the well-formed scopes a client already holds (entries stored
/// before scope tokens were checked are never granted, `resolve_scope`, and are skipped here).
fn may_grant_held(actor: &Actor, held: &[String]) -> Result<(), AdminFailure> {
    let held: Vec<String> = held.iter().filter(|s| is_scope_token(s)).cloned().collect();
    actor.may_grant(&held)
}

/// Client ids under `appkey:` are the app keys' own (their tokens carry `appkey:KEY`): a client
/// of that name could refresh, revoke or, deleted, revoke every token of that key (issue 15).
pub const RESERVED_CLIENT_PREFIX: &str = "appkey:";

/// A client id an admin or the bootstrap may register.
pub fn check_client_id(id: &str) -> Result<(), AdminFailure> {
    if id.starts_with(RESERVED_CLIENT_PREFIX) {
        return Err(AdminFailure::Invalid {
            field: "client_id",
            message: format!("{RESERVED_CLIENT_PREFIX}… is reserved for app keys"),
        });
    }
    Ok(())
}
