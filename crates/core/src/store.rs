//! The storage interface. Each method is one atomic unit of meaning; transactions stay inside
//! the store. Implemented for SQLite and PostgreSQL by the `tessera-store` crate, and checked
//! by one conformance suite for both.

use crate::bootstrap::PreparedBootstrap;
use crate::clock::UnixTime;
use crate::error::StoreError;
use crate::ids::*;
use crate::model::*;
use crate::secret::TokenHash;
use async_trait::async_trait;

/// What applying a bootstrap file did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootstrapReport {
    /// Rows inserted or whose fields changed.
    pub changed: u64,
    /// Rows already as the file says.
    pub unchanged: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// A reference to something that neither the file nor the database has; names the entry.
    #[error("{entry}: {message}")]
    Invalid { entry: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Result of counting one wrong password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCount {
    /// Consecutive failures after this one (0 once it locked the account).
    pub failures: i64,
    /// Set when this failure locked the account.
    pub locked_until: Option<UnixTime>,
}

/// A user's name and its stored key (`Store::username_keys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsernameKeyRow {
    pub id: UserId,
    pub username: String,
    /// `None`: the user has no key (see `crate::names`), and cannot sign in by username.
    pub key: Option<String>,
    pub created_at: UnixTime,
}

/// Filters of the admin API's user list.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub username: Option<String>,
    pub phone: Option<String>,
    /// Members of this tenant (code).
    pub tenant: Option<String>,
    pub enabled: Option<bool>,
    pub offset: i64,
    pub limit: i64,
}

/// Filters of the audit log query.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub user: Option<UserId>,
    pub client: Option<String>,
    pub dialect: Option<String>,
    pub outcome: Option<String>,
    pub kind: Option<String>,
    pub from: Option<UnixTime>,
    pub to: Option<UnixTime>,
    pub limit: i64,
}

/// A new user from the admin API (the password already hashed).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub user_type: UserType,
    pub display_name: String,
    pub real_name: String,
    pub enabled: bool,
    pub active: bool,
    pub superuser: bool,
}

/// Fields the admin API may change on a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub display_name: Option<String>,
    pub real_name: Option<String>,
    pub title: Option<String>,
    pub enabled: Option<bool>,
    pub active: Option<bool>,
    pub expires_at: Option<Option<UnixTime>>,
    pub phone_verified: Option<bool>,
    pub email_verified: Option<bool>,
    pub superuser: Option<bool>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Cheap round trip, for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Connections open and idle in the pool, for `/metrics`.
    fn pool_usage(&self) -> (u32, usize);

    // --- clients and app keys
    async fn client_by_client_id(&self, client_id: &str) -> Result<Option<Client>, StoreError>;
    async fn app_key_by_key(&self, app_key: &str) -> Result<Option<AppKey>, StoreError>;

    // --- tenants, orgs, products
    async fn tenant_by_code(&self, code: &str) -> Result<Option<Tenant>, StoreError>;
    async fn tenant_by_id(&self, id: TenantId) -> Result<Option<Tenant>, StoreError>;
    async fn org_by_id(&self, id: OrgId) -> Result<Option<Org>, StoreError>;
    async fn open_login_ways(&self) -> Result<Vec<OpenLoginWay>, StoreError>;

    // --- users
    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// The user whose `phone` or `email` (as `field` says) equals `value`, or for
    /// [`LoginField::Username`] whose username key is [`crate::names::username_key`] of
    /// `value` (none when `value` has no key: issue 15, `docs/decisions.md` "Usernames").
    async fn user_by_login(
        &self,
        field: LoginField,
        value: &str,
    ) -> Result<Option<User>, StoreError>;
    /// Every user holding `value` as a sign-in name (issue 15): for `Username`, whose
    /// username key is `value` (already a key: [`crate::names::username_key`] or
    /// [`crate::names::fold`]); for `Phone`, whose phone is `value`; for `Email`, whose email
    /// equals `value` ignoring case (SQL `lower`: ASCII letters only on SQLite).
    async fn users_holding(&self, field: LoginField, value: &str) -> Result<Vec<User>, StoreError>;
    /// Up to `limit` users after the id `after`, by id, with their stored username keys
    /// (`Engine::refresh_username_keys`).
    async fn username_keys(
        &self,
        after: Option<UserId>,
        limit: i64,
    ) -> Result<Vec<UsernameKeyRow>, StoreError>;
    /// Up to `limit` pairs (user, other user, field) where the user's username key equals the
    /// other's phone, or e-mail ignoring case: names that shadow another user, made before
    /// issue 15's checks (`Engine::refresh_username_keys` warns about them).
    async fn shadowed_names(
        &self,
        limit: i64,
    ) -> Result<Vec<(String, String, LoginField)>, StoreError>;
    /// Sets or clears a user's username key; `Conflict` when another user holds the key.
    async fn set_username_key(&self, id: UserId, key: Option<&str>) -> Result<(), StoreError>;
    /// Every membership of the user, with its tenant and org, the default first.
    async fn memberships_of(&self, user: UserId) -> Result<Vec<Membership>, StoreError>;
    /// Counts one wrong password atomically; the failure that reaches `max` sets
    /// `locked_until = lock_until` and starts the count again.
    async fn record_password_failure(
        &self,
        user: UserId,
        max: i64,
        lock_until: UnixTime,
    ) -> Result<FailureCount, StoreError>;
    /// A successful sign-in: resets the failure count; stores `new_hash` when the password was
    /// re-hashed (bcrypt import, or older Argon2 parameters).
    async fn record_login_success(
        &self,
        user: UserId,
        new_hash: Option<&str>,
    ) -> Result<(), StoreError>;

    // --- tokens
    async fn insert_grant(&self, grant: &NewGrant) -> Result<(), StoreError>;
    async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError>;
    /// The refresh grant in one step, without reading the token first: spends the live
    /// refresh token `old` if it was issued to `client`, its family's sign-in (`auth_time`) is
    /// not before `since`, and its user, if any, may still sign in at `now` (enabled, active,
    /// not locked, not expired, its tenant enabled and still a member of it), and stores `next`
    /// in its family with its subject and `auth_time`, in one transaction. A token of `client`
    /// spent before revokes its whole family.
    async fn spend_refresh(
        &self,
        old: &TokenHash,
        client: &ClientId,
        now: UnixTime,
        since: UnixTime,
        next: &[NewToken],
    ) -> Result<SpendOutcome, StoreError>;
    /// Spends the live refresh token `old` and stores `new` (same family) in one transaction.
    /// A token spent before revokes its whole family and answers [`RotateOutcome::Reused`].
    async fn rotate_refresh(
        &self,
        old: &TokenHash,
        now: UnixTime,
        new: &NewGrant,
    ) -> Result<RotateOutcome, StoreError>;
    /// Revokes one token; answers whether a live token was revoked.
    async fn revoke_token(&self, hash: &TokenHash, now: UnixTime) -> Result<bool, StoreError>;
    /// Revokes every token of a family, those stored later included; answers 1 if the family
    /// was live until now, 0 if it was revoked already or is `FamilyId::NONE` (never revoked
    /// as a family). The family is remembered as revoked (not each of its tokens marked, which
    /// needed an index on the family that each refresh wrote to at a random place) for
    /// `model::MAX_TOKEN_LIFETIME` after `now`; every read and spend of a token checks it.
    async fn revoke_family(&self, family: FamilyId, now: UnixTime) -> Result<u64, StoreError>;
    /// Revokes the live tokens of a user at a client on one device (device-unique tokens).
    async fn revoke_device_tokens(
        &self,
        user: UserId,
        client: &ClientId,
        device: &str,
        now: UnixTime,
    ) -> Result<u64, StoreError>;
    /// Deletes tokens expired before `before`, and revoked families whose tokens have all
    /// expired by then (revoked more than `model::MAX_TOKEN_LIFETIME` before it); answers how
    /// many tokens.
    async fn purge_expired_tokens(&self, before: UnixTime) -> Result<u64, StoreError>;

    // --- devices (the `new_device` second-factor policy)
    async fn is_known_device(&self, user: UserId, device_key: &str) -> Result<bool, StoreError>;
    async fn remember_device(
        &self,
        user: UserId,
        device_key: &str,
        now: UnixTime,
    ) -> Result<(), StoreError>;

    // --- products (seed 002's `orgProduct`, `userProduct`)
    /// The name of the org's link to the product.
    async fn org_product_name(
        &self,
        org: OrgId,
        product: ProductId,
    ) -> Result<Option<String>, StoreError>;
    /// The user's link to the product in that org: its id and `systemAdmin`.
    async fn user_product(
        &self,
        user: UserId,
        org: OrgId,
        product: ProductId,
    ) -> Result<Option<(UserProductId, bool)>, StoreError>;

    // --- SSO sessions
    async fn create_session(&self, s: &SsoSession, secret: &TokenHash) -> Result<(), StoreError>;
    async fn session_by_secret(&self, secret: &TokenHash)
        -> Result<Option<SsoSession>, StoreError>;
    async fn session_by_id(&self, id: &str) -> Result<Option<SsoSession>, StoreError>;
    async fn touch_session(&self, id: &str, now: UnixTime) -> Result<(), StoreError>;
    async fn revoke_session(&self, id: &str, now: UnixTime) -> Result<(), StoreError>;

    // --- administration
    /// The password hash the bootstrap last wrote for a user from a clear password
    /// (`bootstrap_applied`, see [`crate::bootstrap::entry_digest`]).
    async fn bootstrap_user_secret(&self, username: &str) -> Result<Option<String>, StoreError>;
    async fn list_users(&self, f: &UserFilter) -> Result<(Vec<User>, i64), StoreError>;
    /// Fails with `Conflict` on a taken username, phone or email.
    async fn create_user(&self, u: &NewUser, id: UserId, now: UnixTime) -> Result<(), StoreError>;
    /// Answers whether the user exists.
    async fn update_user(&self, id: UserId, p: &UserPatch) -> Result<bool, StoreError>;
    async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<bool, StoreError>;
    /// Clears the lock and the failure count.
    async fn unlock_user(&self, id: UserId) -> Result<bool, StoreError>;
    /// Remembers the tenant whose admin created the user (issue 15: only that tenant's admin
    /// may attach it while it belongs to no tenant).
    async fn set_user_creator(&self, id: UserId, tenant: TenantId) -> Result<(), StoreError>;
    /// The tenant whose admin created the user, if a tenant admin did.
    async fn user_creator(&self, id: UserId) -> Result<Option<TenantId>, StoreError>;
    /// Live tokens of a user, newest first.
    async fn user_tokens(&self, id: UserId, now: UnixTime) -> Result<Vec<TokenRecord>, StoreError>;
    async fn revoke_user_tokens(&self, id: UserId, now: UnixTime) -> Result<u64, StoreError>;
    /// Live SSO sessions of a user.
    async fn user_sessions(&self, id: UserId, now: UnixTime)
        -> Result<Vec<SsoSession>, StoreError>;
    /// Live SSO sessions, newest first, at most 500; of one tenant and/or one user if given.
    async fn live_sessions(
        &self,
        tenant: Option<TenantId>,
        user: Option<UserId>,
        now: UnixTime,
    ) -> Result<Vec<SsoSession>, StoreError>;
    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError>;
    /// Inserts or updates the tenant with `t.code` (the id of an existing one is kept).
    async fn put_tenant(&self, t: &Tenant, now: UnixTime) -> Result<(), StoreError>;
    async fn list_orgs(&self, tenant: TenantId) -> Result<Vec<Org>, StoreError>;
    /// Inserts or updates the org `(t.tenant_id, t.code)`.
    async fn put_org(&self, o: &Org) -> Result<(), StoreError>;
    /// Sets a membership's roles and default flag (one default per user).
    async fn put_membership(
        &self,
        user: UserId,
        tenant: TenantId,
        org: OrgId,
        roles: &[String],
        default: bool,
    ) -> Result<(), StoreError>;
    async fn delete_membership(
        &self,
        user: UserId,
        tenant: TenantId,
        org: OrgId,
    ) -> Result<bool, StoreError>;
    async fn list_products(&self) -> Result<Vec<Product>, StoreError>;
    async fn put_product(&self, p: &Product) -> Result<(), StoreError>;
    /// Links an org to a product under a name (or renames the link).
    async fn put_org_product(
        &self,
        org: OrgId,
        product: ProductId,
        name: &str,
    ) -> Result<(), StoreError>;
    async fn delete_org_product(&self, org: OrgId, product: ProductId) -> Result<bool, StoreError>;
    /// A user's product links (seed 002's `userProduct`), as (tenant code, org code, product,
    /// `systemAdmin`).
    async fn list_user_products(
        &self,
        user: UserId,
    ) -> Result<Vec<(String, String, ProductId, bool)>, StoreError>;
    /// Links a user to a product in an org (or changes `system_admin`); `id` is used on insert.
    async fn put_user_product(
        &self,
        id: UserProductId,
        user: UserId,
        org: OrgId,
        product: ProductId,
        system_admin: bool,
    ) -> Result<(), StoreError>;
    async fn delete_user_product(
        &self,
        user: UserId,
        org: OrgId,
        product: ProductId,
    ) -> Result<bool, StoreError>;
    async fn put_open_login_way(&self, w: &OpenLoginWay, position: i64) -> Result<(), StoreError>;
    async fn delete_open_login_way(&self, code: &str) -> Result<bool, StoreError>;
    async fn list_app_keys(&self) -> Result<Vec<AppKey>, StoreError>;
    /// Inserts or updates the app key `k.app_key` (its id is kept on update).
    async fn put_app_key(&self, k: &AppKey, now: UnixTime) -> Result<(), StoreError>;
    async fn list_clients(&self) -> Result<Vec<Client>, StoreError>;
    /// Inserts or replaces the client named `c.client_id` (its row id is kept on replace).
    async fn put_client(&self, c: &Client, now: UnixTime) -> Result<(), StoreError>;
    /// Deletes a client and revokes its tokens; answers whether it existed.
    async fn delete_client(&self, client_id: &str, now: UnixTime) -> Result<bool, StoreError>;
    async fn query_audit(&self, f: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError>;
    /// Deletes audit events older than `before`; answers how many.
    async fn purge_audit(&self, before: UnixTime) -> Result<u64, StoreError>;

    // --- bootstrap and audit
    /// Applies a prepared bootstrap file in one transaction: all or nothing.
    async fn apply_bootstrap(
        &self,
        b: &PreparedBootstrap,
        now: UnixTime,
    ) -> Result<BootstrapReport, BootstrapError>;
    async fn record_audit(&self, e: &AuditEvent) -> Result<(), StoreError>;
    async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditEvent>, StoreError>;
}
