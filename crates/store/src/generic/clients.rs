//! OAuth clients and app keys.

use super::*;

pub(super) async fn client_by_client_id(
    this: &S,
    client_id: &str,
) -> Result<Option<Client>, StoreError> {
    let q = format!("SELECT {CLIENT_COLS} FROM clients WHERE client_id = $1");
    let r: Option<ClientRow> = sqlx::query_as(&q)
        .bind(client_id)
        .fetch_optional(&this.pool)
        .await
        .map_err(map_err)?;
    r.map(Client::try_from).transpose()
}

pub(super) async fn app_key_by_key(this: &S, app_key: &str) -> Result<Option<AppKey>, StoreError> {
    let r: Option<AppKeyRow> = sqlx::query_as(
        "SELECT id, app_id, app_key, secret_hash, org_id, product_id, user_id, system_admin, enabled FROM app_keys WHERE app_key = $1",
    )
    .bind(app_key).fetch_optional(&this.pool).await.map_err(map_err)?;
    r.map(AppKey::try_from).transpose()
}

pub(super) async fn list_app_keys(this: &S) -> Result<Vec<AppKey>, StoreError> {
    let rows: Vec<AppKeyRow> = sqlx::query_as("SELECT id, app_id, app_key, secret_hash, org_id, product_id, user_id, system_admin, enabled FROM app_keys ORDER BY app_key LIMIT 1000")
        .fetch_all(&this.pool).await.map_err(map_err)?;
    rows.into_iter().map(AppKey::try_from).collect()
}

pub(super) async fn put_app_key(this: &S, k: &AppKey, now: UnixTime) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO app_keys (id, app_id, app_key, secret_hash, org_id, product_id, user_id, system_admin, enabled, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (app_key) DO UPDATE SET app_id = excluded.app_id, \
                 secret_hash = excluded.secret_hash, org_id = excluded.org_id, product_id = excluded.product_id, user_id = excluded.user_id, \
                 system_admin = excluded.system_admin, enabled = excluded.enabled")
        .bind(k.id.0).bind(&k.app_id).bind(&k.app_key).bind(&k.secret_hash.0[..]).bind(k.org_id.0).bind(k.product_id.0)
        .bind(k.user_id.map(|u| u.0)).bind(k.system_admin).bind(k.enabled).bind(now)
        .execute(&this.writer).await.map_err(map_err)?;
    Ok(())
}

pub(super) async fn list_clients(this: &S) -> Result<Vec<Client>, StoreError> {
    let q = format!("SELECT {CLIENT_COLS} FROM clients ORDER BY client_id LIMIT 1000");
    let rows: Vec<ClientRow> = sqlx::query_as(&q)
        .fetch_all(&this.pool)
        .await
        .map_err(map_err)?;
    rows.into_iter().map(Client::try_from).collect()
}

pub(super) async fn put_client(this: &S, c: &Client, now: UnixTime) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO clients (id, client_id, secret_hash, dialect, grant_types, redirect_uris, post_logout_redirect_uris, scopes, \
                 tenant_id, access_ttl, refresh_ttl, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                 ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash, dialect = excluded.dialect, \
                 grant_types = excluded.grant_types, redirect_uris = excluded.redirect_uris, \
                 post_logout_redirect_uris = excluded.post_logout_redirect_uris, scopes = excluded.scopes, tenant_id = excluded.tenant_id, \
                 access_ttl = excluded.access_ttl, refresh_ttl = excluded.refresh_ttl")
        .bind(c.row_id.0).bind(&c.client_id.0).bind(c.secret_hash.map(|h| h.0.to_vec())).bind(c.dialect.as_str())
        .bind(json_list(&c.grant_types)).bind(json_list(&c.redirect_uris)).bind(json_list(&c.post_logout_redirect_uris))
        .bind(json_list(&c.scopes)).bind(c.tenant_id.map(|t| t.0)).bind(c.access_ttl).bind(c.refresh_ttl).bind(now)
        .execute(&this.writer).await.map_err(map_err)?;
    Ok(())
}

pub(super) async fn delete_client(
    this: &S,
    client_id: &str,
    now: UnixTime,
) -> Result<bool, StoreError> {
    let mut tx = this.writer.begin().await.map_err(map_err)?;
    sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(client_id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    let r = sqlx::query("DELETE FROM clients WHERE client_id = $1")
        .bind(client_id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(r.rows_affected() > 0)
}
