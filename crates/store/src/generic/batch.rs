//! The group-commit writer (`crate::batch`): the queued token writes of many requests in one transaction.

use super::*;

/// Runs queued token writes in one transaction (`crate::batch`), with the result of
/// running them one after another.
// PostgreSQL's statement takes any number of rows (`INSERT_CHUNK` is `usize::MAX` there).
#[allow(clippy::absurd_extreme_comparisons)]
pub(super) async fn run_batch(
    writer: &sqlx::Pool<Db>,
    ops: &[&crate::batch::WriteOp],
) -> Result<Vec<crate::batch::Written>, sqlx::Error> {
    use crate::batch::{WriteOp, Written};
    // Only new tokens (client_credentials, sign-ins): one statement, which the
    // database runs as its own transaction; no BEGIN and COMMIT round trips.
    let inserts: Option<Vec<(&NewGrant, &NewToken)>> = ops
        .iter()
        .map(|op| match op {
            WriteOp::Insert(g) => Some(g.tokens.iter().map(move |t| (g, t))),
            WriteOp::Rotate { .. } | WriteOp::Spend { .. } => None,
        })
        .collect::<Option<Vec<_>>>()
        .map(|v| v.into_iter().flatten().collect());
    // (More rows than one statement takes go through the transaction below.)
    if let Some(rows) = inserts.filter(|r| r.len() <= super::super::INSERT_CHUNK) {
        super::super::insert_token_rows(writer, &rows, false).await?;
        return Ok(ops.iter().map(|_| Written::Inserted).collect());
    }
    let mut tx = writer.begin().await?;
    let mut out: Vec<Option<Written>> = (0..ops.len()).map(|_| None).collect();
    // New rows go out as multi-row INSERTs, and consecutive rotations of distinct
    // refresh tokens at the same second are spent by one UPDATE: a few round trips
    // to the database for many tokens. Inserts can wait until a rotation finds a
    // token already spent, whose family revocation must see them; a rotation of a
    // token already in the group starts a new group, so it sees the first as spent.
    let mut rows: Vec<(&NewGrant, &NewToken)> = Vec::new();
    let mut group: Vec<(usize, &TokenHash, &NewGrant)> = Vec::new();
    let mut group_now: UnixTime = 0;
    let mut spends: Vec<(usize, &TokenHash, &[NewToken])> = Vec::new();
    let mut spends_key: (UnixTime, UnixTime, Option<&ClientId>) = (0, 0, None);
    for (i, op) in ops.iter().enumerate() {
        match op {
            WriteOp::Insert(g) => {
                rows.extend(g.tokens.iter().map(|t| (g, t)));
                out[i] = Some(Written::Inserted);
            }
            WriteOp::Rotate { old, now, new } => {
                spend_refresh_group(&mut tx, &mut spends, spends_key, &mut rows, &mut out).await?;
                if *now != group_now || group.iter().any(|(_, h, _)| *h == old) {
                    spend_group(&mut tx, &mut group, group_now, &mut rows, &mut out).await?;
                    group_now = *now;
                }
                group.push((i, old, new));
            }
            WriteOp::Spend {
                old,
                client,
                now,
                since,
                next,
            } => {
                spend_group(&mut tx, &mut group, group_now, &mut rows, &mut out).await?;
                if (*now, *since, Some(client)) != spends_key
                    || spends.iter().any(|(_, h, _)| *h == old)
                {
                    spend_refresh_group(&mut tx, &mut spends, spends_key, &mut rows, &mut out)
                        .await?;
                    spends_key = (*now, *since, Some(client));
                }
                spends.push((i, old, next));
            }
        }
    }
    spend_refresh_group(&mut tx, &mut spends, spends_key, &mut rows, &mut out).await?;
    spend_group(&mut tx, &mut group, group_now, &mut rows, &mut out).await?;
    insert_rows(&mut tx, &rows).await?;
    tx.commit().await?;
    // Every write of the batch has its result by now; a gap would be a bug here,
    // reported as an error rather than answered as a success.
    out.into_iter()
        .map(|w| {
            w.ok_or_else(|| sqlx::Error::Protocol("a queued token write got no result".into()))
        })
        .collect()
}

/// `Store::spend_refresh` for a group of one client's tokens at one second: one
/// statement spends every token that may be spent and returns it; the new tokens of
/// each go in with its subject. A token not spent was reused (its family revoked,
/// after every queued row is written) if it is this client's spent refresh token,
/// else it is not live.
pub(super) async fn spend_refresh_group(
    tx: &mut Tx<'_>,
    group: &mut Vec<(usize, &TokenHash, &[NewToken])>,
    (now, since, client): (UnixTime, UnixTime, Option<&ClientId>),
    rows: &mut Vec<(&NewGrant, &NewToken)>,
    out: &mut [Option<crate::batch::Written>],
) -> Result<(), sqlx::Error> {
    use crate::batch::Written;
    let Some(client) = client else { return Ok(()) };
    if group.is_empty() {
        return Ok(());
    }
    let hashes: Vec<&TokenHash> = group.iter().map(|(_, h, _)| *h).collect();
    let spent = super::super::spend_refresh_rows(tx, now, since, client, &hashes).await?;
    let mut spent: Vec<(Vec<u8>, TokenRecord)> = spent
        .into_iter()
        .map(|k| {
            let mut rec = k
                .unpack()
                .and_then(TokenRecord::try_from)
                .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
            rec.used_at = None;
            Ok((k.hash, rec))
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let mut grants: Vec<NewGrant> = Vec::new();
    let mut rest = Vec::new();
    for (i, h, next) in group.drain(..) {
        match spent.iter().position(|(k, _)| k[..] == h.0[..]) {
            Some(p) => {
                let (_, rec) = spent.swap_remove(p);
                grants.push(NewGrant {
                    family: rec.family,
                    subject: rec.subject.clone(),
                    issued_at: now,
                    auth_time: rec.auth_time,
                    tokens: next.to_vec(),
                });
                out[i] = Some(Written::Spent(SpendOutcome::Rotated(Box::new(rec))));
            }
            None => rest.push((i, h)),
        }
    }
    let new_rows: Vec<(&NewGrant, &NewToken)> = grants
        .iter()
        .flat_map(|g| g.tokens.iter().map(move |t| (g, t)))
        .collect();
    insert_rows(tx, &new_rows).await?;
    if !rest.is_empty() {
        insert_rows(tx, rows).await?;
        rows.clear();
        for (i, h) in rest {
            let row = sqlx::query(
                "SELECT family_id, used_at, client_id, kind FROM tokens WHERE hash = $1",
            )
            .bind(&h.0[..])
            .fetch_optional(&mut **tx)
            .await?;
            let outcome = match row {
                Some(r) => {
                    let family: i64 = r.try_get(0)?;
                    let used: Option<i64> = r.try_get(1)?;
                    let owner: String = r.try_get(2)?;
                    let kind: String = r.try_get(3)?;
                    if used.is_some() && owner == client.0 && kind == "refresh" {
                        revoke_family_in(tx, FamilyId(family), now).await?;
                        SpendOutcome::Reused
                    } else {
                        SpendOutcome::NotLive
                    }
                }
                None => SpendOutcome::NotLive,
            };
            out[i] = Some(Written::Spent(outcome));
        }
    }
    Ok(())
}

/// Spends the group's refresh tokens in one statement; each one spent queues its
/// new tokens in `rows`. One not spent is reused (its family revoked, after the
/// queued rows are written) or not live: [`rotate_in`] decides, alone.
pub(super) async fn spend_group<'g>(
    tx: &mut Tx<'_>,
    group: &mut Vec<(usize, &'g TokenHash, &'g NewGrant)>,
    now: UnixTime,
    rows: &mut Vec<(&'g NewGrant, &'g NewToken)>,
    out: &mut [Option<crate::batch::Written>],
) -> Result<(), sqlx::Error> {
    if group.is_empty() {
        return Ok(());
    }
    let hashes: Vec<String> = group.iter().map(|(_, h, _)| h.to_hex()).collect();
    let hashes = serde_json::to_string(&hashes).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let spent: Vec<Vec<u8>> = sqlx::query_scalar(super::super::SPEND_TOKENS_SQL)
        .bind(now)
        .bind(hashes)
        .fetch_all(&mut **tx)
        .await?;
    let mut rest = Vec::new();
    for (i, h, new) in group.drain(..) {
        if spent.iter().any(|s| s[..] == h.0[..]) {
            rows.extend(new.tokens.iter().map(|t| (new, t)));
            out[i] = Some(crate::batch::Written::Rotated(RotateOutcome::Rotated));
        } else {
            rest.push((i, h, new));
        }
    }
    if !rest.is_empty() {
        insert_rows(tx, rows).await?;
        rows.clear();
        for (i, h, new) in rest {
            out[i] = Some(crate::batch::Written::Rotated(
                rotate_in(tx, h, now, new).await?,
            ));
        }
    }
    Ok(())
}

/// Starts the group-commit task for `writer` (`crate::batch`); it ends when every
/// `Batcher` is dropped.
pub(crate) fn spawn_batcher(writer: sqlx::Pool<Db>) -> crate::batch::Batcher {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<crate::batch::Job>(4 * crate::batch::MAX_BATCH);
    tokio::spawn(async move {
        while let Some(jobs) = crate::batch::next_batch(&mut rx).await {
            let ops: Vec<&crate::batch::WriteOp> = jobs.iter().map(|(op, _)| op).collect();
            match run_batch(&writer, &ops).await {
                Ok(results) => {
                    for ((_, done), r) in jobs.into_iter().zip(results) {
                        let _ = done.send(Ok(r));
                    }
                }
                Err(e) if jobs.len() == 1 => {
                    if let Some((_, done)) = jobs.into_iter().next() {
                        let _ = done.send(Err(map_err(e)));
                    }
                }
                Err(_) => {
                    // One bad write must not fail the others: each alone.
                    for (op, done) in jobs {
                        let r =
                            run_batch(&writer, &[&op])
                                .await
                                .map_err(map_err)
                                .and_then(|mut v| {
                                    v.pop().ok_or_else(|| {
                                        StoreError::Other("empty batch result".into())
                                    })
                                });
                        let _ = done.send(r);
                    }
                }
            }
        }
    });
    crate::batch::Batcher::new(tx)
}
