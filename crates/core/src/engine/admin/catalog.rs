//! Admin operations on what belongs to no tenant or links across: products, org–product
//! links, user–product links, open login ways.

use super::{AdminFailure, Outcome};
use crate::engine::actor::{Actor, Reach};
use crate::engine::{AdminAction, Engine};
use crate::error::EngineError;
use crate::ids::UserId;
use crate::model::*;

impl Engine {
    pub async fn admin_list_products(&self) -> Result<Vec<Product>, EngineError> {
        Ok(self.store.list_products().await?)
    }

    /// Creates (409 if the id is taken) or renames (404 if missing) a product.
    pub async fn admin_put_product(
        &self,
        actor: &Actor,
        p: Product,
        create: bool,
    ) -> Outcome<Product> {
        refuse!(actor.global_only(if create {
            "creating a product"
        } else {
            "renaming a product"
        }));
        if p.name.trim().is_empty() {
            return Ok(Err(AdminFailure::Invalid {
                field: "name",
                message: "required".into(),
            }));
        }
        let exists = self
            .store
            .list_products()
            .await?
            .iter()
            .any(|x| x.id == p.id);
        match (exists, create) {
            (true, true) => return Ok(Err(AdminFailure::Conflict("id".into()))),
            (false, false) => return Ok(Err(AdminFailure::NotFound)),
            _ => {}
        }
        self.store.put_product(&p).await?;
        self.admin_audit(
            actor,
            if create {
                AdminAction::ProductCreate
            } else {
                AdminAction::ProductUpdate
            },
            &format!("product {}", p.id.0),
        )
        .await;
        Ok(Ok(p))
    }

    /// Links (or unlinks, `name = None`) the org `tenant/org` and a product.
    pub async fn admin_org_product(
        &self,
        actor: &Actor,
        tenant: &str,
        org: &str,
        product: i64,
        name: Option<&str>,
    ) -> Outcome<()> {
        refuse!(actor.may_tenant(tenant));
        let Some((_, o)) = self.org_by_codes(tenant, org).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        let pid = crate::ids::ProductId(product);
        if !self
            .store
            .list_products()
            .await?
            .iter()
            .any(|x| x.id == pid)
        {
            return Ok(Err(AdminFailure::NotFound));
        }
        match name {
            Some(n) => self.store.put_org_product(o.id, pid, n).await?,
            None => {
                if !self.store.delete_org_product(o.id, pid).await? {
                    return Ok(Err(AdminFailure::NotFound));
                }
            }
        }
        self.admin_audit(
            actor,
            if name.is_some() {
                AdminAction::OrgProductPut
            } else {
                AdminAction::OrgProductDelete
            },
            &format!("{tenant}/{org} product {product}"),
        )
        .await;
        Ok(Ok(()))
    }

    /// A user's product links (a tenant actor sees those in its tenant).
    pub async fn admin_user_products(
        &self,
        actor: &Actor,
        user: UserId,
    ) -> Outcome<Vec<(String, String, crate::ids::ProductId, bool)>> {
        refuse!(self.admin_reach_user(actor, user, Reach::Read).await?);
        let mut links = self.store.list_user_products(user).await?;
        if let Some(own) = actor.tenant_code() {
            links.retain(|(t, ..)| t == own);
        }
        Ok(Ok(links))
    }

    /// Links a user to a product in one of the user's orgs (`system_admin = Some`), or removes
    /// the link (`None`). The org must be linked to the product and the user a member of the org.
    pub async fn admin_user_product(
        &self,
        actor: &Actor,
        user: UserId,
        tenant: &str,
        org: &str,
        product: i64,
        system_admin: Option<bool>,
    ) -> Outcome<()> {
        refuse!(actor.may_tenant(tenant));
        let (_, ms) = refuse!(
            self.admin_reach_user(actor, user, Reach::Membership)
                .await?
        );
        let Some((t, o)) = self.org_by_codes(tenant, org).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        let pid = crate::ids::ProductId(product);
        match system_admin {
            Some(flag) => {
                if self.store.org_product_name(o.id, pid).await?.is_none() {
                    return Ok(Err(AdminFailure::Invalid {
                        field: "product",
                        message: format!("{tenant}/{org} is not linked to product {product}"),
                    }));
                }
                if !ms.iter().any(|m| m.tenant.id == t.id && m.org.id == o.id) {
                    return Ok(Err(AdminFailure::Invalid {
                        field: "org",
                        message: format!("the user is not a member of {tenant}/{org}"),
                    }));
                }
                let id = crate::ids::UserProductId(crate::ids::new_id());
                self.store
                    .put_user_product(id, user, o.id, pid, flag)
                    .await?;
            }
            None => {
                if !self.store.delete_user_product(user, o.id, pid).await? {
                    return Ok(Err(AdminFailure::NotFound));
                }
            }
        }
        self.admin_audit(
            actor,
            if system_admin.is_some() {
                AdminAction::UserProductPut
            } else {
                AdminAction::UserProductDelete
            },
            &format!("user {} {tenant}/{org} product {product}", user.0),
        )
        .await;
        Ok(Ok(()))
    }

    pub async fn admin_open_login_ways(&self) -> Result<Vec<OpenLoginWay>, EngineError> {
        Ok(self.store.open_login_ways().await?)
    }

    pub async fn admin_put_open_login_way(
        &self,
        actor: &Actor,
        w: OpenLoginWay,
        position: i64,
    ) -> Outcome<OpenLoginWay> {
        refuse!(actor.global_only("changing open login ways"));
        if w.code.trim().is_empty() || w.name.trim().is_empty() {
            return Ok(Err(AdminFailure::Invalid {
                field: "code",
                message: "code and name are required".into(),
            }));
        }
        self.store.put_open_login_way(&w, position).await?;
        self.admin_audit(
            actor,
            AdminAction::OpenLoginWayPut,
            &format!("open login way {}", w.code),
        )
        .await;
        Ok(Ok(w))
    }

    pub async fn admin_delete_open_login_way(&self, actor: &Actor, code: &str) -> Outcome<()> {
        refuse!(actor.global_only("changing open login ways"));
        if !self.store.delete_open_login_way(code).await? {
            return Ok(Err(AdminFailure::NotFound));
        }
        self.admin_audit(
            actor,
            AdminAction::OpenLoginWayDelete,
            &format!("open login way {code}"),
        )
        .await;
        Ok(Ok(()))
    }
}
