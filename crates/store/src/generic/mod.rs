//! The store's SQL, written once as plain Rust and compiled twice: `sqlite.rs` and
//! `postgres.rs` each include this folder as their module `store_impl`, with `super::Db` (the
//! sqlx database) and `super::Backend` (the store type) set to their own. Where the SQL is the
//! same it lives here, one module per aggregate; where the backends differ (token inserts,
//! the spend statement, the bootstrap lock) each backend's file has its own function, called
//! as `super::super::…`. `impl Store` below only forwards to the aggregates.
#![allow(unused_imports)]

pub(super) use crate::map_err;
pub(super) use crate::rows::*;
pub(super) use crate::shared::*;
pub(super) use async_trait::async_trait;
pub(super) use sqlx::Row as _;
pub(super) use tessera_core::bootstrap::{entry_digest, user_digest, PreparedBootstrap};
pub(super) use tessera_core::clock::UnixTime;
pub(super) use tessera_core::ids::*;
pub(super) use tessera_core::model::*;
pub(super) use tessera_core::secret::TokenHash;
pub(super) use tessera_core::store::*;
pub(super) use tessera_core::StoreError;

/// The sqlx database of the including backend.
pub(super) type Db = super::Db;
/// The store type of the including backend.
pub(super) type S = super::Backend;
pub(super) type Tx<'a> = sqlx::Transaction<'a, Db>;

mod audit;
mod batch;
mod bootstrap;
mod bootstrap_accounts;
mod bootstrap_catalog;
mod catalog;
mod clients;
mod ops;
mod sessions;
mod tenants;
mod tokens;
mod users;

pub(super) use self::audit::*;
pub(super) use self::batch::*;
pub(super) use self::bootstrap::*;
pub(super) use self::bootstrap_accounts::*;
pub(super) use self::bootstrap_catalog::*;
pub(super) use self::tokens::*;

#[async_trait]
impl Store for S {
    fn pool_usage(&self) -> (u32, usize) {
        ops::pool_usage(self)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        ops::ping(self).await
    }

    async fn client_by_client_id(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        clients::client_by_client_id(self, client_id).await
    }

    async fn app_key_by_key(&self, app_key: &str) -> Result<Option<AppKey>, StoreError> {
        clients::app_key_by_key(self, app_key).await
    }

    async fn tenant_by_code(&self, code: &str) -> Result<Option<Tenant>, StoreError> {
        tenants::tenant_by_code(self, code).await
    }

    async fn tenant_by_id(&self, id: TenantId) -> Result<Option<Tenant>, StoreError> {
        tenants::tenant_by_id(self, id).await
    }

    async fn org_by_id(&self, id: OrgId) -> Result<Option<Org>, StoreError> {
        tenants::org_by_id(self, id).await
    }

    async fn open_login_ways(&self) -> Result<Vec<OpenLoginWay>, StoreError> {
        catalog::open_login_ways(self).await
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        users::user_by_id(self, id).await
    }

    async fn user_by_login(
        &self,
        field: LoginField,
        value: &str,
    ) -> Result<Option<User>, StoreError> {
        users::user_by_login(self, field, value).await
    }

    async fn users_holding(&self, field: LoginField, value: &str) -> Result<Vec<User>, StoreError> {
        users::users_holding(self, field, value).await
    }

    async fn username_keys(
        &self,
        after: Option<UserId>,
        limit: i64,
    ) -> Result<Vec<UsernameKeyRow>, StoreError> {
        users::username_keys(self, after, limit).await
    }

    async fn shadowed_names(
        &self,
        limit: i64,
    ) -> Result<Vec<(String, String, LoginField)>, StoreError> {
        users::shadowed_names(self, limit).await
    }

    async fn set_username_key(&self, id: UserId, key: Option<&str>) -> Result<(), StoreError> {
        users::set_username_key(self, id, key).await
    }

    async fn memberships_of(&self, user: UserId) -> Result<Vec<Membership>, StoreError> {
        users::memberships_of(self, user).await
    }

    async fn record_password_failure(
        &self,
        user: UserId,
        max: i64,
        lock_until: UnixTime,
    ) -> Result<FailureCount, StoreError> {
        users::record_password_failure(self, user, max, lock_until).await
    }

    async fn record_login_success(
        &self,
        user: UserId,
        new_hash: Option<&str>,
    ) -> Result<(), StoreError> {
        users::record_login_success(self, user, new_hash).await
    }

    async fn insert_grant(&self, grant: &NewGrant) -> Result<(), StoreError> {
        tokens::insert_grant(self, grant).await
    }

    async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        tokens::token_by_hash(self, hash).await
    }

    async fn rotate_refresh(
        &self,
        old: &TokenHash,
        now: UnixTime,
        new: &NewGrant,
    ) -> Result<RotateOutcome, StoreError> {
        tokens::rotate_refresh(self, old, now, new).await
    }

    async fn spend_refresh(
        &self,
        old: &TokenHash,
        client: &ClientId,
        now: UnixTime,
        since: UnixTime,
        next: &[NewToken],
    ) -> Result<SpendOutcome, StoreError> {
        tokens::spend_refresh(self, old, client, now, since, next).await
    }

    async fn revoke_token(&self, hash: &TokenHash, now: UnixTime) -> Result<bool, StoreError> {
        tokens::revoke_token(self, hash, now).await
    }

    async fn revoke_family(&self, family: FamilyId, now: UnixTime) -> Result<u64, StoreError> {
        tokens::revoke_family(self, family, now).await
    }

    async fn revoke_device_tokens(
        &self,
        user: UserId,
        client: &ClientId,
        device: &str,
        now: UnixTime,
    ) -> Result<u64, StoreError> {
        tokens::revoke_device_tokens(self, user, client, device, now).await
    }

    async fn purge_expired_tokens(&self, before: UnixTime) -> Result<u64, StoreError> {
        tokens::purge_expired_tokens(self, before).await
    }

    async fn is_known_device(&self, user: UserId, device_key: &str) -> Result<bool, StoreError> {
        users::is_known_device(self, user, device_key).await
    }

    async fn remember_device(
        &self,
        user: UserId,
        device_key: &str,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        users::remember_device(self, user, device_key, now).await
    }

    async fn org_product_name(
        &self,
        org: OrgId,
        product: ProductId,
    ) -> Result<Option<String>, StoreError> {
        catalog::org_product_name(self, org, product).await
    }

    async fn user_product(
        &self,
        user: UserId,
        org: OrgId,
        product: ProductId,
    ) -> Result<Option<(UserProductId, bool)>, StoreError> {
        catalog::user_product(self, user, org, product).await
    }

    async fn create_session(&self, s: &SsoSession, secret: &TokenHash) -> Result<(), StoreError> {
        sessions::create_session(self, s, secret).await
    }

    async fn session_by_secret(
        &self,
        secret: &TokenHash,
    ) -> Result<Option<SsoSession>, StoreError> {
        sessions::session_by_secret(self, secret).await
    }

    async fn session_by_id(&self, id: &str) -> Result<Option<SsoSession>, StoreError> {
        sessions::session_by_id(self, id).await
    }

    async fn touch_session(&self, id: &str, now: UnixTime) -> Result<(), StoreError> {
        sessions::touch_session(self, id, now).await
    }

    async fn revoke_session(&self, id: &str, now: UnixTime) -> Result<(), StoreError> {
        sessions::revoke_session(self, id, now).await
    }

    async fn list_users(&self, f: &UserFilter) -> Result<(Vec<User>, i64), StoreError> {
        users::list_users(self, f).await
    }

    async fn create_user(&self, u: &NewUser, id: UserId, now: UnixTime) -> Result<(), StoreError> {
        users::create_user(self, u, id, now).await
    }

    async fn update_user(&self, id: UserId, p: &UserPatch) -> Result<bool, StoreError> {
        users::update_user(self, id, p).await
    }

    async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<bool, StoreError> {
        users::set_password_hash(self, id, hash).await
    }

    async fn unlock_user(&self, id: UserId) -> Result<bool, StoreError> {
        users::unlock_user(self, id).await
    }

    async fn set_user_creator(&self, id: UserId, tenant: TenantId) -> Result<(), StoreError> {
        users::set_user_creator(self, id, tenant).await
    }

    async fn user_creator(&self, id: UserId) -> Result<Option<TenantId>, StoreError> {
        users::user_creator(self, id).await
    }

    async fn user_tokens(&self, id: UserId, now: UnixTime) -> Result<Vec<TokenRecord>, StoreError> {
        tokens::user_tokens(self, id, now).await
    }

    async fn revoke_user_tokens(&self, id: UserId, now: UnixTime) -> Result<u64, StoreError> {
        tokens::revoke_user_tokens(self, id, now).await
    }

    async fn user_sessions(
        &self,
        id: UserId,
        now: UnixTime,
    ) -> Result<Vec<SsoSession>, StoreError> {
        sessions::user_sessions(self, id, now).await
    }

    async fn bootstrap_user_secret(&self, username: &str) -> Result<Option<String>, StoreError> {
        users::bootstrap_user_secret(self, username).await
    }

    async fn live_sessions(
        &self,
        tenant: Option<TenantId>,
        user: Option<UserId>,
        now: UnixTime,
    ) -> Result<Vec<SsoSession>, StoreError> {
        sessions::live_sessions(self, tenant, user, now).await
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        tenants::list_tenants(self).await
    }

    async fn put_tenant(&self, t: &Tenant, now: UnixTime) -> Result<(), StoreError> {
        tenants::put_tenant(self, t, now).await
    }

    async fn list_orgs(&self, tenant: TenantId) -> Result<Vec<Org>, StoreError> {
        tenants::list_orgs(self, tenant).await
    }

    async fn put_org(&self, o: &Org) -> Result<(), StoreError> {
        tenants::put_org(self, o).await
    }

    async fn put_membership(
        &self,
        user: UserId,
        tenant: TenantId,
        org: OrgId,
        roles: &[String],
        default: bool,
    ) -> Result<(), StoreError> {
        tenants::put_membership(self, user, tenant, org, roles, default).await
    }

    async fn delete_membership(
        &self,
        user: UserId,
        tenant: TenantId,
        org: OrgId,
    ) -> Result<bool, StoreError> {
        tenants::delete_membership(self, user, tenant, org).await
    }

    async fn list_products(&self) -> Result<Vec<Product>, StoreError> {
        catalog::list_products(self).await
    }

    async fn put_product(&self, p: &Product) -> Result<(), StoreError> {
        catalog::put_product(self, p).await
    }

    async fn put_org_product(
        &self,
        org: OrgId,
        product: ProductId,
        name: &str,
    ) -> Result<(), StoreError> {
        catalog::put_org_product(self, org, product, name).await
    }

    async fn delete_org_product(&self, org: OrgId, product: ProductId) -> Result<bool, StoreError> {
        catalog::delete_org_product(self, org, product).await
    }

    async fn list_user_products(
        &self,
        user: UserId,
    ) -> Result<Vec<(String, String, ProductId, bool)>, StoreError> {
        catalog::list_user_products(self, user).await
    }

    async fn put_user_product(
        &self,
        id: UserProductId,
        user: UserId,
        org: OrgId,
        product: ProductId,
        system_admin: bool,
    ) -> Result<(), StoreError> {
        catalog::put_user_product(self, id, user, org, product, system_admin).await
    }

    async fn delete_user_product(
        &self,
        user: UserId,
        org: OrgId,
        product: ProductId,
    ) -> Result<bool, StoreError> {
        catalog::delete_user_product(self, user, org, product).await
    }

    async fn put_open_login_way(&self, w: &OpenLoginWay, position: i64) -> Result<(), StoreError> {
        catalog::put_open_login_way(self, w, position).await
    }

    async fn delete_open_login_way(&self, code: &str) -> Result<bool, StoreError> {
        catalog::delete_open_login_way(self, code).await
    }

    async fn list_app_keys(&self) -> Result<Vec<AppKey>, StoreError> {
        clients::list_app_keys(self).await
    }

    async fn put_app_key(&self, k: &AppKey, now: UnixTime) -> Result<(), StoreError> {
        clients::put_app_key(self, k, now).await
    }

    async fn list_clients(&self) -> Result<Vec<Client>, StoreError> {
        clients::list_clients(self).await
    }

    async fn put_client(&self, c: &Client, now: UnixTime) -> Result<(), StoreError> {
        clients::put_client(self, c, now).await
    }

    async fn delete_client(&self, client_id: &str, now: UnixTime) -> Result<bool, StoreError> {
        clients::delete_client(self, client_id, now).await
    }

    async fn query_audit(&self, f: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        audit::query_audit(self, f).await
    }

    async fn purge_audit(&self, before: UnixTime) -> Result<u64, StoreError> {
        audit::purge_audit(self, before).await
    }

    async fn apply_bootstrap(
        &self,
        b: &PreparedBootstrap,
        now: UnixTime,
    ) -> Result<BootstrapReport, BootstrapError> {
        bootstrap::apply_bootstrap(self, b, now).await
    }

    async fn record_audit(&self, ev: &AuditEvent) -> Result<(), StoreError> {
        audit::record_audit(self, ev).await
    }

    async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditEvent>, StoreError> {
        audit::recent_audit(self, limit).await
    }
}
