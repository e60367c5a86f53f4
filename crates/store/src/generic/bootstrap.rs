//! Applying a bootstrap file in one transaction, entry by entry (`bootstrap_applied` digests).

use super::*;

pub(super) async fn apply_bootstrap(
    this: &S,
    b: &PreparedBootstrap,
    now: UnixTime,
) -> Result<BootstrapReport, BootstrapError> {
    let mut tx = this.writer.begin().await.map_err(map_err)?;
    // One bootstrap at a time across processes (PostgreSQL); see `bootstrap_lock`.
    super::super::bootstrap_lock(&mut tx)
        .await
        .map_err(map_err)?;
    // On error `tx` is dropped and rolls back: nothing of the file is applied.
    let rep = apply(&mut tx, b, now).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(rep)
}

pub(super) fn inv(entry: String, message: String) -> BootstrapError {
    BootstrapError::Invalid { entry, message }
}

pub(super) async fn tenant_id_by_code(
    tx: &mut Tx<'_>,
    code: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM tenants WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut **tx)
        .await
}

pub(super) async fn user_id_by_name(
    tx: &mut Tx<'_>,
    name: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await
}

pub(super) async fn org_id_by_codes(
    tx: &mut Tx<'_>,
    tenant: &str,
    org: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT o.id FROM orgs o JOIN tenants t ON t.id = o.tenant_id WHERE t.code = $1 AND o.code = $2")
        .bind(tenant)
        .bind(org)
        .fetch_optional(&mut **tx)
        .await
}

pub(super) async fn product_exists(tx: &mut Tx<'_>, id: i64) -> Result<bool, sqlx::Error> {
    let n: Option<i64> = sqlx::query_scalar("SELECT id FROM products WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(n.is_some())
}

/// `TENANT/ORG` to the org's id, or an error naming `entry`.
pub(super) async fn org_ref(tx: &mut Tx<'_>, entry: &str, r: &str) -> Result<i64, BootstrapError> {
    let Some((t, o)) = r.split_once('/') else {
        return Err(inv(
            entry.into(),
            format!("org {r:?} is not of the form TENANT/ORG"),
        ));
    };
    org_id_by_codes(tx, t, o)
        .await
        .map_err(map_err)?
        .ok_or_else(|| inv(entry.into(), format!("org {r:?} not found")))
}

/// Counts a changed or unchanged row.
pub(super) fn tally(report: &mut BootstrapReport, changed: bool) {
    if changed {
        report.changed += 1
    } else {
        report.unchanged += 1
    }
}

/// Whether the entry `(kind, key)` was last applied with this digest: then it is
/// left alone (`tessera_core::bootstrap::entry_digest`); else the digest is recorded
/// and the entry applied (one transaction: a failed apply records nothing).
pub(super) async fn seen_unchanged(
    tx: &mut Tx<'_>,
    kind: &str,
    key: &str,
    digest: &str,
    secret: Option<&str>,
    unchanged_secret: bool,
) -> Result<bool, sqlx::Error> {
    let d: Option<String> = sqlx::query_scalar(
        "SELECT digest FROM bootstrap_applied WHERE kind = $1 AND entry_key = $2",
    )
    .bind(kind)
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    if unchanged_secret && d.as_deref() == Some(digest) {
        return Ok(true);
    }
    sqlx::query("INSERT INTO bootstrap_applied (kind, entry_key, digest, secret) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (kind, entry_key) DO UPDATE SET digest = excluded.digest, secret = excluded.secret")
        .bind(kind).bind(key).bind(digest).bind(secret).execute(&mut **tx).await?;
    Ok(false)
}

pub(super) async fn apply(
    tx: &mut Tx<'_>,
    b: &PreparedBootstrap,
    now: UnixTime,
) -> Result<BootstrapReport, BootstrapError> {
    let mut rep = BootstrapReport::default();
    // In the order entries refer to each other: tenants before their orgs, users before
    // their memberships and app keys.
    apply_tenants(tx, b, now, &mut rep).await?;
    apply_orgs(tx, b, &mut rep).await?;
    apply_products(tx, b, &mut rep).await?;
    apply_org_products(tx, b, &mut rep).await?;
    apply_users(tx, b, now, &mut rep).await?;
    apply_memberships(tx, b, &mut rep).await?;
    apply_clients(tx, b, now, &mut rep).await?;
    apply_app_keys(tx, b, now, &mut rep).await?;
    apply_open_login_ways(tx, b, &mut rep).await?;
    Ok(rep)
}
