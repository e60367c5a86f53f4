//! The audit log.

use super::*;

pub(super) async fn query_audit(this: &S, f: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT at, kind, dialect, outcome, user_id, client_id, ip, detail FROM audit_events \
         WHERE ($1 IS NULL OR user_id = $1) AND ($2 IS NULL OR client_id = $2) AND ($3 IS NULL OR dialect = $3) \
         AND ($4 IS NULL OR outcome = $4) AND ($5 IS NULL OR kind = $5) AND ($6 IS NULL OR at >= $6) AND ($7 IS NULL OR at < $7) \
         ORDER BY id DESC LIMIT $8")
        .bind(f.user.map(|u| u.0)).bind(&f.client).bind(&f.dialect).bind(&f.outcome).bind(&f.kind).bind(f.from).bind(f.to).bind(f.limit)
        .fetch_all(&this.pool).await.map_err(map_err)?;
    Ok(rows.into_iter().map(AuditEvent::from).collect())
}

pub(super) async fn purge_audit(this: &S, before: UnixTime) -> Result<u64, StoreError> {
    let r = sqlx::query("DELETE FROM audit_events WHERE at < $1")
        .bind(before)
        .execute(&this.writer)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected())
}

pub(super) async fn record_audit(this: &S, ev: &AuditEvent) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO audit_events (id, at, kind, dialect, outcome, user_id, client_id, ip, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(audit_id(ev.at)).bind(ev.at).bind(&ev.kind).bind(&ev.dialect).bind(&ev.outcome).bind(ev.user_id.map(|u| u.0))
        .bind(&ev.client_id).bind(&ev.ip).bind(&ev.detail)
        .execute(&this.writer).await.map_err(map_err)?;
    Ok(())
}

pub(super) async fn recent_audit(this: &S, limit: i64) -> Result<Vec<AuditEvent>, StoreError> {
    let rows: Vec<AuditRow> = sqlx::query_as("SELECT at, kind, dialect, outcome, user_id, client_id, ip, detail FROM audit_events ORDER BY at DESC, id DESC LIMIT $1")
        .bind(limit).fetch_all(&this.pool).await.map_err(map_err)?;
    Ok(rows.into_iter().map(AuditEvent::from).collect())
}

/// Audit ids sort like the events: the second, then this process's sequence
/// (below 2^53 until the year 2255, so JavaScript reads them exactly).
pub(super) fn audit_id(at: UnixTime) -> i64 {
    static SEQ: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    at.saturating_mul(1_000_000)
        + SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 1_000_000
}
