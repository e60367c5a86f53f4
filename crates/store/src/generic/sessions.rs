//! SSO sessions.

use super::*;

pub(super) async fn create_session(
    this: &S,
    s: &SsoSession,
    secret: &TokenHash,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO sso_sessions (id, secret_hash, user_id, tenant_id, created_at, last_seen, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&s.id).bind(&secret.0[..]).bind(s.user_id.0).bind(s.tenant_id.map(|t| t.0)).bind(s.created_at).bind(s.last_seen).bind(s.expires_at)
        .execute(&this.writer).await.map_err(map_err)?;
    Ok(())
}

pub(super) async fn session_by_secret(
    this: &S,
    secret: &TokenHash,
) -> Result<Option<SsoSession>, StoreError> {
    let r: Option<SessionRow> = sqlx::query_as("SELECT id, user_id, tenant_id, created_at, last_seen, expires_at, revoked_at FROM sso_sessions WHERE secret_hash = $1")
        .bind(&secret.0[..]).fetch_optional(&this.pool).await.map_err(map_err)?;
    Ok(r.map(SsoSession::from))
}

pub(super) async fn session_by_id(this: &S, id: &str) -> Result<Option<SsoSession>, StoreError> {
    let r: Option<SessionRow> = sqlx::query_as("SELECT id, user_id, tenant_id, created_at, last_seen, expires_at, revoked_at FROM sso_sessions WHERE id = $1")
        .bind(id).fetch_optional(&this.pool).await.map_err(map_err)?;
    Ok(r.map(SsoSession::from))
}

pub(super) async fn touch_session(this: &S, id: &str, now: UnixTime) -> Result<(), StoreError> {
    sqlx::query("UPDATE sso_sessions SET last_seen = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&this.writer)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub(super) async fn revoke_session(this: &S, id: &str, now: UnixTime) -> Result<(), StoreError> {
    sqlx::query("UPDATE sso_sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&this.writer)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub(super) async fn user_sessions(
    this: &S,
    id: UserId,
    now: UnixTime,
) -> Result<Vec<SsoSession>, StoreError> {
    let rows: Vec<SessionRow> = sqlx::query_as("SELECT id, user_id, tenant_id, created_at, last_seen, expires_at, revoked_at FROM sso_sessions \
                                                WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC")
        .bind(id.0).bind(now).fetch_all(&this.pool).await.map_err(map_err)?;
    Ok(rows.into_iter().map(SsoSession::from).collect())
}

pub(super) async fn live_sessions(
    this: &S,
    tenant: Option<TenantId>,
    user: Option<UserId>,
    now: UnixTime,
) -> Result<Vec<SsoSession>, StoreError> {
    let rows: Vec<SessionRow> = sqlx::query_as("SELECT id, user_id, tenant_id, created_at, last_seen, expires_at, revoked_at FROM sso_sessions \
                                                WHERE revoked_at IS NULL AND expires_at > $1 AND ($2 IS NULL OR tenant_id = $2) AND ($3 IS NULL OR user_id = $3) \
                                                ORDER BY created_at DESC LIMIT 500")
        .bind(now).bind(tenant.map(|t| t.0)).bind(user.map(|u| u.0)).fetch_all(&this.pool).await.map_err(map_err)?;
    Ok(rows.into_iter().map(SsoSession::from).collect())
}
