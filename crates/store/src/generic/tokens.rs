//! Tokens: grants, rotation and the one-statement spend of a refresh, revocation, purge.

use super::*;

pub(super) async fn insert_grant(this: &S, grant: &NewGrant) -> Result<(), StoreError> {
    this.batch
        .submit(crate::batch::WriteOp::Insert(grant.clone()))
        .await
        .map(|_| ())
}

pub(super) async fn token_by_hash(
    this: &S,
    hash: &TokenHash,
) -> Result<Option<TokenRecord>, StoreError> {
    let q = format!("{TOKEN_SELECT} WHERE t.hash = $1");
    let r: Option<TokenRow> = sqlx::query_as(&q)
        .bind(&hash.0[..])
        .fetch_optional(&this.pool)
        .await
        .map_err(map_err)?;
    r.map(TokenRecord::try_from).transpose()
}

pub(super) async fn rotate_refresh(
    this: &S,
    old: &TokenHash,
    now: UnixTime,
    new: &NewGrant,
) -> Result<RotateOutcome, StoreError> {
    let op = crate::batch::WriteOp::Rotate {
        old: *old,
        now,
        new: new.clone(),
    };
    match this.batch.submit(op).await? {
        crate::batch::Written::Rotated(o) => Ok(o),
        _ => Err(StoreError::Other(
            "a rotation answered as another write".into(),
        )),
    }
}

pub(super) async fn spend_refresh(
    this: &S,
    old: &TokenHash,
    client: &ClientId,
    now: UnixTime,
    since: UnixTime,
    next: &[NewToken],
) -> Result<SpendOutcome, StoreError> {
    let op = crate::batch::WriteOp::Spend {
        old: *old,
        client: client.clone(),
        now,
        since,
        next: next.to_vec(),
    };
    match this.batch.submit(op).await? {
        crate::batch::Written::Spent(o) => Ok(o),
        _ => Err(StoreError::Other(
            "a spend answered as another write".into(),
        )),
    }
}

pub(super) async fn revoke_token(
    this: &S,
    hash: &TokenHash,
    now: UnixTime,
) -> Result<bool, StoreError> {
    let r = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE hash = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(&hash.0[..])
        .execute(&this.writer)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected() > 0)
}

pub(super) async fn revoke_family(
    this: &S,
    family: FamilyId,
    now: UnixTime,
) -> Result<u64, StoreError> {
    let mut tx = this.writer.begin().await.map_err(map_err)?;
    let n = revoke_family_in(&mut tx, family, now)
        .await
        .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(n)
}

pub(super) async fn revoke_device_tokens(
    this: &S,
    user: UserId,
    client: &ClientId,
    device: &str,
    now: UnixTime,
) -> Result<u64, StoreError> {
    let r = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE user_id = $2 AND client_id = $3 AND device_id = $4 AND revoked_at IS NULL")
        .bind(now).bind(user.0).bind(&client.0).bind(device).execute(&this.writer).await.map_err(map_err)?;
    Ok(r.rows_affected())
}

pub(super) async fn purge_expired_tokens(this: &S, before: UnixTime) -> Result<u64, StoreError> {
    let r = sqlx::query("DELETE FROM tokens WHERE expires_at < $1")
        .bind(before)
        .execute(&this.writer)
        .await
        .map_err(map_err)?;
    // No token outlives its family's revocation by more than MAX_TOKEN_LIFETIME.
    sqlx::query("DELETE FROM revoked_families WHERE revoked_at < $1")
        .bind(before - tessera_core::model::MAX_TOKEN_LIFETIME)
        .execute(&this.writer)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected())
}

pub(super) async fn user_tokens(
    this: &S,
    id: UserId,
    now: UnixTime,
) -> Result<Vec<TokenRecord>, StoreError> {
    let q = format!("{TOKEN_SELECT} WHERE t.user_id = $1 AND t.revoked_at IS NULL AND rf.family_id IS NULL AND t.used_at IS NULL AND t.expires_at > $2 ORDER BY t.issued_at DESC LIMIT 500");
    let rows: Vec<TokenRow> = sqlx::query_as(&q)
        .bind(id.0)
        .bind(now)
        .fetch_all(&this.pool)
        .await
        .map_err(map_err)?;
    rows.into_iter().map(TokenRecord::try_from).collect()
}

pub(super) async fn revoke_user_tokens(
    this: &S,
    id: UserId,
    now: UnixTime,
) -> Result<u64, StoreError> {
    let r =
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id.0)
            .execute(&this.writer)
            .await
            .map_err(map_err)?;
    Ok(r.rows_affected())
}

pub(super) async fn insert_tokens(tx: &mut Tx<'_>, g: &NewGrant) -> Result<(), sqlx::Error> {
    let rows: Vec<(&NewGrant, &NewToken)> = g.tokens.iter().map(|t| (g, t)).collect();
    insert_rows(tx, &rows).await
}

pub(super) async fn revoke_family_in(
    tx: &mut Tx<'_>,
    family: FamilyId,
    now: UnixTime,
) -> Result<u64, sqlx::Error> {
    // Lone tokens share family 0 (`FamilyId::NONE`): it is not a family.
    if family == FamilyId::NONE {
        return Ok(0);
    }
    // Remembered, not marked on each token: see `Store::revoke_family`.
    let r = sqlx::query("INSERT INTO revoked_families (family_id, revoked_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(family.0)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected())
}

/// Spends `old` and inserts `new` in `tx`; a second use revokes the family.
pub(super) async fn rotate_in(
    tx: &mut Tx<'_>,
    old: &TokenHash,
    now: UnixTime,
    new: &NewGrant,
) -> Result<RotateOutcome, sqlx::Error> {
    let spent = sqlx::query(
        "UPDATE tokens SET used_at = $1 WHERE hash = $2 AND kind = 'refresh' AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1 \
         AND NOT EXISTS (SELECT 1 FROM revoked_families rf WHERE rf.family_id = tokens.family_id)",
    )
    .bind(now).bind(&old.0[..]).execute(&mut **tx).await?;
    if spent.rows_affected() == 1 {
        insert_tokens(tx, new).await?;
        return Ok(RotateOutcome::Rotated);
    }
    let row = sqlx::query("SELECT family_id, used_at FROM tokens WHERE hash = $1")
        .bind(&old.0[..])
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(r) => {
            let used: Option<i64> = r.try_get(1)?;
            if used.is_some() {
                let family: i64 = r.try_get(0)?;
                revoke_family_in(tx, FamilyId(family), now).await?;
                RotateOutcome::Reused
            } else {
                RotateOutcome::NotLive
            }
        }
        None => RotateOutcome::NotLive,
    })
}

/// Inserts token rows: one statement per `INSERT_CHUNK` rows (`insert_token_rows`).
pub(super) async fn insert_rows(
    tx: &mut Tx<'_>,
    rows: &[(&NewGrant, &NewToken)],
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(super::super::INSERT_CHUNK) {
        super::super::insert_token_rows(&mut **tx, chunk, true).await?;
    }
    Ok(())
}
