//! Tenants, orgs and memberships.

use super::*;

pub(super) async fn tenant_by_code(this: &S, code: &str) -> Result<Option<Tenant>, StoreError> {
    let r: Option<TenantRow> = sqlx::query_as("SELECT id, code, name, enabled, sso_url, server_url, sms_second_factor FROM tenants WHERE code = $1")
        .bind(code).fetch_optional(&this.pool).await.map_err(map_err)?;
    r.map(Tenant::try_from).transpose()
}

pub(super) async fn tenant_by_id(this: &S, id: TenantId) -> Result<Option<Tenant>, StoreError> {
    let r: Option<TenantRow> = sqlx::query_as("SELECT id, code, name, enabled, sso_url, server_url, sms_second_factor FROM tenants WHERE id = $1")
        .bind(id.0).fetch_optional(&this.pool).await.map_err(map_err)?;
    r.map(Tenant::try_from).transpose()
}

pub(super) async fn org_by_id(this: &S, id: OrgId) -> Result<Option<Org>, StoreError> {
    let r: Option<OrgRow> = sqlx::query_as(
        "SELECT id, tenant_id, code, name, org_type, logo, enabled FROM orgs WHERE id = $1",
    )
    .bind(id.0)
    .fetch_optional(&this.pool)
    .await
    .map_err(map_err)?;
    r.map(Org::try_from).transpose()
}

pub(super) async fn list_tenants(this: &S) -> Result<Vec<Tenant>, StoreError> {
    let rows: Vec<TenantRow> = sqlx::query_as("SELECT id, code, name, enabled, sso_url, server_url, sms_second_factor FROM tenants ORDER BY code LIMIT 1000")
        .fetch_all(&this.pool).await.map_err(map_err)?;
    rows.into_iter().map(Tenant::try_from).collect()
}

pub(super) async fn put_tenant(this: &S, t: &Tenant, now: UnixTime) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO tenants (id, code, name, enabled, sso_url, server_url, sms_second_factor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, enabled = excluded.enabled, sso_url = excluded.sso_url, \
                 server_url = excluded.server_url, sms_second_factor = excluded.sms_second_factor")
        .bind(t.id.0).bind(&t.code).bind(&t.name).bind(t.enabled).bind(&t.sso_url).bind(&t.server_url).bind(t.sms_second_factor.as_str()).bind(now)
        .execute(&this.writer).await.map_err(map_err)?;
    Ok(())
}

pub(super) async fn list_orgs(this: &S, tenant: TenantId) -> Result<Vec<Org>, StoreError> {
    let rows: Vec<OrgRow> = sqlx::query_as("SELECT id, tenant_id, code, name, org_type, logo, enabled FROM orgs WHERE tenant_id = $1 ORDER BY code LIMIT 1000")
        .bind(tenant.0).fetch_all(&this.pool).await.map_err(map_err)?;
    rows.into_iter().map(Org::try_from).collect()
}

pub(super) async fn put_org(this: &S, o: &Org) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO orgs (id, tenant_id, code, name, org_type, logo, enabled) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (tenant_id, code) DO UPDATE SET name = excluded.name, org_type = excluded.org_type, logo = excluded.logo, enabled = excluded.enabled")
        .bind(o.id.0).bind(o.tenant_id.0).bind(&o.code).bind(&o.name).bind(o.org_type.as_str()).bind(&o.logo).bind(o.enabled)
        .execute(&this.writer).await.map_err(map_err)?;
    Ok(())
}

pub(super) async fn put_membership(
    this: &S,
    user: UserId,
    tenant: TenantId,
    org: OrgId,
    roles: &[String],
    default: bool,
) -> Result<(), StoreError> {
    let mut tx = this.writer.begin().await.map_err(map_err)?;
    if default {
        sqlx::query("UPDATE memberships SET is_default = $1 WHERE user_id = $2 AND is_default")
            .bind(false)
            .bind(user.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
    }
    sqlx::query("INSERT INTO memberships (user_id, tenant_id, org_id, roles, is_default) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (user_id, tenant_id, org_id) DO UPDATE SET roles = excluded.roles, is_default = excluded.is_default")
        .bind(user.0).bind(tenant.0).bind(org.0).bind(json_list(roles)).bind(default)
        .execute(&mut *tx).await.map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(())
}

pub(super) async fn delete_membership(
    this: &S,
    user: UserId,
    tenant: TenantId,
    org: OrgId,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "DELETE FROM memberships WHERE user_id = $1 AND tenant_id = $2 AND org_id = $3",
    )
    .bind(user.0)
    .bind(tenant.0)
    .bind(org.0)
    .execute(&this.writer)
    .await
    .map_err(map_err)?;
    Ok(r.rows_affected() > 0)
}
