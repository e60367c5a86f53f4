//! The SQL of every store method, written once and instantiated for SQLite and PostgreSQL by
//! `impl_store!`. Both accept `$n` placeholders, `ON CONFLICT`, booleans and BIGINT/BLOB(BYTEA).

/// Token rows as `TokenRow` reads them, from `tokens t`: `revoked_at` is the token's own or,
/// failing that, its family's (`revoked_families`, see `Store::revoke_family`).
pub(crate) const TOKEN_SELECT: &str =
    "SELECT t.kind, t.family_id, t.client_id, t.user_id, t.tenant_id, t.org_id, t.app_key_id, t.scope, \
     t.device_id, t.source_type, t.session_id, t.issued_at, t.expires_at, t.used_at, \
     COALESCE(t.revoked_at, rf.revoked_at) AS revoked_at, t.auth_time \
     FROM tokens t LEFT JOIN revoked_families rf ON rf.family_id = t.family_id";

pub(crate) const USER_COLS: &str = "id, username, phone, email, password_hash, user_type, source, display_name, real_name, \
     gender, birthday, title, employee_number, portrait, state, enabled, active, locked_until, expires_at, \
     phone_verified, email_verified, failed_attempts, created_at";

pub(crate) const CLIENT_COLS: &str =
    "id, client_id, secret_hash, dialect, grant_types, redirect_uris, post_logout_redirect_uris, \
     scopes, tenant_id, access_ttl, refresh_ttl";

pub(crate) const MEMBERSHIP_SELECT: &str = "SELECT m.user_id, m.roles, m.is_default, \
     t.id AS t_id, t.code AS t_code, t.name AS t_name, t.enabled AS t_enabled, t.sso_url AS t_sso_url, \
     t.server_url AS t_server_url, t.sms_second_factor AS t_sms, \
     o.id AS o_id, o.code AS o_code, o.name AS o_name, o.org_type AS o_type, o.logo AS o_logo, o.enabled AS o_enabled \
     FROM memberships m JOIN tenants t ON t.id = m.tenant_id JOIN orgs o ON o.id = m.org_id";

macro_rules! impl_store {
    ($name:ident, $db:ty) => {
        mod store_impl {
            use super::$name;
            use crate::map_err;
            use crate::rows::*;
            use crate::shared::*;
            use async_trait::async_trait;
            use sqlx::Row as _;
            use tessera_core::bootstrap::{entry_digest, user_digest, PreparedBootstrap};
            use tessera_core::clock::UnixTime;
            use tessera_core::ids::*;
            use tessera_core::model::*;
            use tessera_core::secret::TokenHash;
            use tessera_core::store::*;
            use tessera_core::StoreError;

            type Tx<'a> = sqlx::Transaction<'a, $db>;

            /// Audit ids sort like the events: the second, then this process's sequence
            /// (below 2^53 until the year 2255, so JavaScript reads them exactly).
            fn audit_id(at: UnixTime) -> i64 {
                static SEQ: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
                at.saturating_mul(1_000_000) + SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 1_000_000
            }

            fn inv(entry: String, message: String) -> BootstrapError {
                BootstrapError::Invalid { entry, message }
            }

            async fn insert_tokens(tx: &mut Tx<'_>, g: &NewGrant) -> Result<(), sqlx::Error> {
                let rows: Vec<(&NewGrant, &NewToken)> = g.tokens.iter().map(|t| (g, t)).collect();
                insert_rows(tx, &rows).await
            }

            async fn revoke_family_in(tx: &mut Tx<'_>, family: FamilyId, now: UnixTime) -> Result<u64, sqlx::Error> {
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
            async fn rotate_in(tx: &mut Tx<'_>, old: &TokenHash, now: UnixTime, new: &NewGrant) -> Result<RotateOutcome, sqlx::Error> {
                let spent = sqlx::query(
                    "UPDATE tokens SET used_at = $1 WHERE hash = $2 AND kind = 'refresh' AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1 \
                     AND NOT EXISTS (SELECT 1 FROM revoked_families rf WHERE rf.family_id = tokens.family_id)",
                )
                .bind(now).bind(&old.0[..]).execute(&mut **tx).await?;
                if spent.rows_affected() == 1 {
                    insert_tokens(tx, new).await?;
                    return Ok(RotateOutcome::Rotated);
                }
                let row = sqlx::query("SELECT family_id, used_at FROM tokens WHERE hash = $1").bind(&old.0[..]).fetch_optional(&mut **tx).await?;
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
            async fn insert_rows(tx: &mut Tx<'_>, rows: &[(&NewGrant, &NewToken)]) -> Result<(), sqlx::Error> {
                for chunk in rows.chunks(super::INSERT_CHUNK) {
                    super::insert_token_rows(&mut **tx, chunk, true).await?;
                }
                Ok(())
            }

            /// Runs queued token writes in one transaction (`crate::batch`), with the result of
            /// running them one after another.
            async fn run_batch(writer: &sqlx::Pool<$db>, ops: &[&crate::batch::WriteOp]) -> Result<Vec<crate::batch::Written>, sqlx::Error> {
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
                if let Some(rows) = inserts.filter(|r| r.len() <= super::INSERT_CHUNK) {
                    super::insert_token_rows(writer, &rows, false).await?;
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
                        WriteOp::Spend { old, client, now, since, next } => {
                            spend_group(&mut tx, &mut group, group_now, &mut rows, &mut out).await?;
                            if (*now, *since, Some(client)) != spends_key || spends.iter().any(|(_, h, _)| *h == old) {
                                spend_refresh_group(&mut tx, &mut spends, spends_key, &mut rows, &mut out).await?;
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
                    .map(|w| w.ok_or_else(|| sqlx::Error::Protocol("a queued token write got no result".into())))
                    .collect()
            }

            /// `Store::spend_refresh` for a group of one client's tokens at one second: one
            /// statement spends every token that may be spent and returns it; the new tokens of
            /// each go in with its subject. A token not spent was reused (its family revoked,
            /// after every queued row is written) if it is this client's spent refresh token,
            /// else it is not live.
            async fn spend_refresh_group(
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
                let spent = super::spend_refresh_rows(tx, now, since, client, &hashes).await?;
                let mut spent: Vec<(Vec<u8>, TokenRecord)> = spent
                    .into_iter()
                    .map(|k| {
                        let mut rec = k.unpack().and_then(TokenRecord::try_from).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
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
                            grants.push(NewGrant { family: rec.family, subject: rec.subject.clone(), issued_at: now, auth_time: rec.auth_time, tokens: next.to_vec() });
                            out[i] = Some(Written::Spent(SpendOutcome::Rotated(Box::new(rec))));
                        }
                        None => rest.push((i, h)),
                    }
                }
                let new_rows: Vec<(&NewGrant, &NewToken)> = grants.iter().flat_map(|g| g.tokens.iter().map(move |t| (g, t))).collect();
                insert_rows(tx, &new_rows).await?;
                if !rest.is_empty() {
                    insert_rows(tx, rows).await?;
                    rows.clear();
                    for (i, h) in rest {
                        let row = sqlx::query("SELECT family_id, used_at, client_id, kind FROM tokens WHERE hash = $1")
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
            async fn spend_group<'g>(
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
                let spent: Vec<Vec<u8>> = sqlx::query_scalar(super::SPEND_TOKENS_SQL).bind(now).bind(hashes).fetch_all(&mut **tx).await?;
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
                        out[i] = Some(crate::batch::Written::Rotated(rotate_in(tx, h, now, new).await?));
                    }
                }
                Ok(())
            }

            /// Starts the group-commit task for `writer` (`crate::batch`); it ends when every
            /// `Batcher` is dropped.
            pub(crate) fn spawn_batcher(writer: sqlx::Pool<$db>) -> crate::batch::Batcher {
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
                                    let r = run_batch(&writer, &[&op]).await.map_err(map_err).and_then(|mut v| {
                                        v.pop().ok_or_else(|| StoreError::Other("empty batch result".into()))
                                    });
                                    let _ = done.send(r);
                                }
                            }
                        }
                    }
                });
                crate::batch::Batcher::new(tx)
            }

            async fn tenant_id_by_code(tx: &mut Tx<'_>, code: &str) -> Result<Option<i64>, sqlx::Error> {
                sqlx::query_scalar("SELECT id FROM tenants WHERE code = $1").bind(code).fetch_optional(&mut **tx).await
            }

            async fn user_id_by_name(tx: &mut Tx<'_>, name: &str) -> Result<Option<i64>, sqlx::Error> {
                sqlx::query_scalar("SELECT id FROM users WHERE username = $1").bind(name).fetch_optional(&mut **tx).await
            }

            async fn org_id_by_codes(tx: &mut Tx<'_>, tenant: &str, org: &str) -> Result<Option<i64>, sqlx::Error> {
                sqlx::query_scalar("SELECT o.id FROM orgs o JOIN tenants t ON t.id = o.tenant_id WHERE t.code = $1 AND o.code = $2")
                    .bind(tenant)
                    .bind(org)
                    .fetch_optional(&mut **tx)
                    .await
            }

            async fn product_exists(tx: &mut Tx<'_>, id: i64) -> Result<bool, sqlx::Error> {
                let n: Option<i64> = sqlx::query_scalar("SELECT id FROM products WHERE id = $1").bind(id).fetch_optional(&mut **tx).await?;
                Ok(n.is_some())
            }

            /// `TENANT/ORG` to the org's id, or an error naming `entry`.
            async fn org_ref(tx: &mut Tx<'_>, entry: &str, r: &str) -> Result<i64, BootstrapError> {
                let Some((t, o)) = r.split_once('/') else {
                    return Err(inv(entry.into(), format!("org {r:?} is not of the form TENANT/ORG")));
                };
                org_id_by_codes(tx, t, o).await.map_err(map_err)?.ok_or_else(|| inv(entry.into(), format!("org {r:?} not found")))
            }

            /// Counts a changed or unchanged row.
            fn tally(report: &mut BootstrapReport, changed: bool) {
                if changed {
                    report.changed += 1
                } else {
                    report.unchanged += 1
                }
            }

            /// Whether the entry `(kind, key)` was last applied with this digest: then it is
            /// left alone (`tessera_core::bootstrap::entry_digest`); else the digest is recorded
            /// and the entry applied (one transaction: a failed apply records nothing).
            async fn seen_unchanged(tx: &mut Tx<'_>, kind: &str, key: &str, digest: &str, secret: Option<&str>, unchanged_secret: bool) -> Result<bool, sqlx::Error> {
                let d: Option<String> = sqlx::query_scalar("SELECT digest FROM bootstrap_applied WHERE kind = $1 AND entry_key = $2")
                    .bind(kind).bind(key).fetch_optional(&mut **tx).await?;
                if unchanged_secret && d.as_deref() == Some(digest) {
                    return Ok(true);
                }
                sqlx::query("INSERT INTO bootstrap_applied (kind, entry_key, digest, secret) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (kind, entry_key) DO UPDATE SET digest = excluded.digest, secret = excluded.secret")
                    .bind(kind).bind(key).bind(digest).bind(secret).execute(&mut **tx).await?;
                Ok(false)
            }

            async fn apply(tx: &mut Tx<'_>, b: &PreparedBootstrap, now: UnixTime) -> Result<BootstrapReport, BootstrapError> {
                let mut rep = BootstrapReport::default();
                let e = map_err;
                for (i, t) in b.tenants.iter().enumerate() {
                    if seen_unchanged(tx, "tenant", &t.code, &entry_digest(t), None, true).await.map_err(e)? {
                        tally(&mut rep, false);
                        continue;
                    }
                    let cur: Option<TenantRow> = sqlx::query_as(
                        "SELECT id, code, name, enabled, sso_url, server_url, sms_second_factor FROM tenants WHERE code = $1",
                    )
                    .bind(&t.code)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(e)?;
                    let sms = t.sms_second_factor.as_str();
                    match cur {
                        Some(c) if c.name == t.name && c.enabled == t.enabled && c.sso_url == t.sso_url && c.server_url == t.server_url && c.sms_second_factor == sms => tally(&mut rep, false),
                        Some(_) => {
                            sqlx::query("UPDATE tenants SET name = $1, enabled = $2, sso_url = $3, server_url = $4, sms_second_factor = $5 WHERE code = $6")
                                .bind(&t.name).bind(t.enabled).bind(&t.sso_url).bind(&t.server_url).bind(sms).bind(&t.code)
                                .execute(&mut **tx).await.map_err(e)?;
                            tally(&mut rep, true)
                        }
                        None => {
                            sqlx::query("INSERT INTO tenants (id, code, name, enabled, sso_url, server_url, sms_second_factor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                                .bind(t.id.unwrap_or_else(new_id)).bind(&t.code).bind(&t.name).bind(t.enabled).bind(&t.sso_url).bind(&t.server_url).bind(sms).bind(now)
                                .execute(&mut **tx).await.map_err(|x| inv(format!("tenants[{i}] ({})", t.code), map_err(x).to_string()))?;
                            tally(&mut rep, true)
                        }
                    }
                }
                for (i, o) in b.orgs.iter().enumerate() {
                    let entry = format!("orgs[{i}] ({}/{})", o.tenant, o.code);
                    let tid = tenant_id_by_code(tx, &o.tenant).await.map_err(e)?.ok_or_else(|| inv(entry.clone(), format!("tenant {:?} not found", o.tenant)))?;
                    if seen_unchanged(tx, "org", &format!("{}/{}", o.tenant, o.code), &entry_digest(o), None, true).await.map_err(e)? {
                        tally(&mut rep, false);
                        continue;
                    }
                    let cur: Option<OrgRow> = sqlx::query_as("SELECT id, tenant_id, code, name, org_type, logo, enabled FROM orgs WHERE tenant_id = $1 AND code = $2")
                        .bind(tid).bind(&o.code).fetch_optional(&mut **tx).await.map_err(e)?;
                    let ty = o.org_type.as_str();
                    match cur {
                        Some(c) if c.name == o.name && c.org_type == ty && c.logo == o.logo && c.enabled == o.enabled => tally(&mut rep, false),
                        Some(c) => {
                            sqlx::query("UPDATE orgs SET name = $1, org_type = $2, logo = $3, enabled = $5 WHERE id = $4")
                                .bind(&o.name).bind(ty).bind(&o.logo).bind(c.id).bind(o.enabled).execute(&mut **tx).await.map_err(e)?;
                            tally(&mut rep, true)
                        }
                        None => {
                            sqlx::query("INSERT INTO orgs (id, tenant_id, code, name, org_type, logo, enabled) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                                .bind(o.id.unwrap_or_else(new_id)).bind(tid).bind(&o.code).bind(&o.name).bind(ty).bind(&o.logo).bind(o.enabled)
                                .execute(&mut **tx).await.map_err(|x| inv(entry.clone(), map_err(x).to_string()))?;
                            tally(&mut rep, true)
                        }
                    }
                }
                for p in &b.products {
                    if seen_unchanged(tx, "product", &p.id.to_string(), &entry_digest(p), None, true).await.map_err(e)? {
                        tally(&mut rep, false);
                        continue;
                    }
                    let cur: Option<String> = sqlx::query_scalar("SELECT name FROM products WHERE id = $1").bind(p.id).fetch_optional(&mut **tx).await.map_err(e)?;
                    match cur {
                        Some(n) if n == p.name => tally(&mut rep, false),
                        Some(_) => {
                            sqlx::query("UPDATE products SET name = $1 WHERE id = $2").bind(&p.name).bind(p.id).execute(&mut **tx).await.map_err(e)?;
                            tally(&mut rep, true)
                        }
                        None => {
                            sqlx::query("INSERT INTO products (id, name) VALUES ($1, $2)").bind(p.id).bind(&p.name).execute(&mut **tx).await.map_err(e)?;
                            tally(&mut rep, true)
                        }
                    }
                }
                for (i, op) in b.org_products.iter().enumerate() {
                    let entry = format!("org_products[{i}] ({} / {})", op.org, op.product);
                    let oid = org_ref(tx, &entry, &op.org).await?;
                    if !product_exists(tx, op.product).await.map_err(e)? {
                        return Err(inv(entry, format!("product {} not found", op.product)));
                    }
                    if seen_unchanged(tx, "org_product", &format!("{}|{}", op.org, op.product), &entry_digest(op), None, true).await.map_err(e)? {
                        tally(&mut rep, false);
                        continue;
                    }
                    let cur: Option<String> = sqlx::query_scalar("SELECT name FROM org_products WHERE org_id = $1 AND product_id = $2")
                        .bind(oid).bind(op.product).fetch_optional(&mut **tx).await.map_err(e)?;
                    match cur {
                        Some(n) if n == op.name => tally(&mut rep, false),
                        Some(_) => {
                            sqlx::query("UPDATE org_products SET name = $1 WHERE org_id = $2 AND product_id = $3")
                                .bind(&op.name).bind(oid).bind(op.product).execute(&mut **tx).await.map_err(e)?;
                            tally(&mut rep, true)
                        }
                        None => {
                            sqlx::query("INSERT INTO org_products (org_id, product_id, name) VALUES ($1, $2, $3)")
                                .bind(oid).bind(op.product).bind(&op.name).execute(&mut **tx).await.map_err(e)?;
                            tally(&mut rep, true)
                        }
                    }
                }
                for (i, pu) in b.users.iter().enumerate() {
                    let u = &pu.entry;
                    let entry = format!("users[{i}] ({})", u.username);
                    let secret = if u.password.is_some() { pu.password_hash.as_deref() } else { None };
                    if seen_unchanged(tx, "user", &u.username, &user_digest(u), secret, pu.password_unchanged).await.map_err(e)? {
                        tally(&mut rep, false);
                        continue;
                    }
                    let q = format!("SELECT {USER_COLS} FROM users WHERE username = $1");
                    let cur: Option<UserRow> = sqlx::query_as(&q).bind(&u.username).fetch_optional(&mut **tx).await.map_err(e)?;
                    let (ut, src) = (user_type_str(u.user_type), source_str(u.source));
                    let same = |c: &UserRow| {
                        c.phone == u.phone && c.email == u.email && c.password_hash == pu.password_hash && c.user_type == ut && c.source == src
                            && c.display_name == u.display_name && c.real_name == u.real_name && c.gender == u.gender && c.birthday == u.birthday
                            && c.title == u.title && c.employee_number == u.employee_number && c.portrait == u.portrait && c.state == u.state
                            && c.enabled == u.enabled && c.active == u.active && c.phone_verified == u.phone_verified
                            && c.email_verified == u.email_verified && c.expires_at == pu.expires_at
                            && (pu.locked_until.is_none() || c.locked_until == pu.locked_until)
                    };
                    let (sql, id) = match &cur {
                        Some(c) if same(c) => {
                            tally(&mut rep, false);
                            continue;
                        }
                        Some(c) => (
                            "UPDATE users SET phone = $2, email = $3, password_hash = $4, user_type = $5, source = $6, display_name = $7, \
                             real_name = $8, gender = $9, birthday = $10, title = $11, employee_number = $12, portrait = $13, state = $14, \
                             enabled = $15, active = $16, phone_verified = $17, email_verified = $18, expires_at = $19, \
                             locked_until = COALESCE($20, locked_until) WHERE id = $1 AND username = $21 AND $22 = $22 AND $23 = $23",
                            c.id,
                        ),
                        None => (
                            "INSERT INTO users (id, phone, email, password_hash, user_type, source, display_name, real_name, gender, birthday, \
                             title, employee_number, portrait, state, enabled, active, phone_verified, email_verified, expires_at, locked_until, \
                             username, created_at, username_key, failed_attempts) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, 0)",
                            u.id.unwrap_or_else(new_id),
                        ),
                    };
                    // The update leaves the key alone (the username does not change); the
                    // engine refused a name without a key already (`prepare_bootstrap`).
                    let key = tessera_core::names::username_key(&u.username).map_err(|p| inv(entry.clone(), format!("username {p}")))?;
                    sqlx::query(sql)
                        .bind(id).bind(&u.phone).bind(&u.email).bind(&pu.password_hash).bind(ut).bind(src).bind(&u.display_name)
                        .bind(&u.real_name).bind(u.gender).bind(&u.birthday).bind(&u.title).bind(&u.employee_number).bind(&u.portrait)
                        .bind(&u.state).bind(u.enabled).bind(u.active).bind(u.phone_verified).bind(u.email_verified)
                        .bind(pu.expires_at).bind(pu.locked_until).bind(&u.username).bind(now).bind(key)
                        .execute(&mut **tx).await.map_err(|x| inv(entry.clone(), map_err(x).to_string()))?;
                    tally(&mut rep, true);
                }
                for (i, m) in b.memberships.iter().enumerate() {
                    let entry = format!("memberships[{i}] ({} in {}/{})", m.user, m.tenant, m.org);
                    let uid = user_id_by_name(tx, &m.user).await.map_err(e)?.ok_or_else(|| inv(entry.clone(), format!("user {:?} not found", m.user)))?;
                    let tid = tenant_id_by_code(tx, &m.tenant).await.map_err(e)?.ok_or_else(|| inv(entry.clone(), format!("tenant {:?} not found", m.tenant)))?;
                    let oid = org_id_by_codes(tx, &m.tenant, &m.org).await.map_err(e)?.ok_or_else(|| inv(entry.clone(), format!("org {:?} not found in tenant {:?}", m.org, m.tenant)))?;
                    if seen_unchanged(tx, "membership", &format!("{}|{}/{}", m.user, m.tenant, m.org), &entry_digest(m), None, true).await.map_err(e)? {
                        tally(&mut rep, false);
                        continue;
                    }
                    let roles = json_list(&m.roles);
                    let cur = sqlx::query("SELECT roles, is_default FROM memberships WHERE user_id = $1 AND tenant_id = $2 AND org_id = $3")
                        .bind(uid).bind(tid).bind(oid).fetch_optional(&mut **tx).await.map_err(e)?;
                    let cur: Option<(String, bool)> = match cur {
                        Some(r) => Some((r.try_get(0).map_err(e)?, r.try_get(1).map_err(e)?)),
                        None => None,
                    };
                    if m.default {
                        // One default membership per user.
                        sqlx::query("UPDATE memberships SET is_default = $1 WHERE user_id = $2 AND NOT (tenant_id = $3 AND org_id = $4) AND is_default")
                            .bind(false).bind(uid).bind(tid).bind(oid).execute(&mut **tx).await.map_err(e)?;
                    }
                    match cur {
                        Some((r, d)) if r == roles && d == m.default => tally(&mut rep, false),
                        Some(_) => {
                            sqlx::query("UPDATE memberships SET roles = $1, is_default = $2 WHERE user_id = $3 AND tenant_id = $4 AND org_id = $5")
                                .bind(&roles).bind(m.default).bind(uid).bind(tid).bind(oid).execute(&mut **tx).await.map_err(e)?;
                            tally(&mut rep, true)
                        }
                        None => {
                            sqlx::query("INSERT INTO memberships (user_id, tenant_id, org_id, roles, is_default) VALUES ($1, $2, $3, $4, $5)")
                                .bind(uid).bind(tid).bind(oid).bind(&roles).bind(m.default).execute(&mut **tx).await.map_err(e)?;
                            tally(&mut rep, true)
                        }
                    }
                }
                for (i, pc) in b.clients.iter().enumerate() {
                    let c = &pc.entry;
                    let entry = format!("clients[{i}] ({})", c.client_id);
                    let tid = match &c.tenant {
                        Some(code) => Some(tenant_id_by_code(tx, code).await.map_err(e)?.ok_or_else(|| inv(entry.clone(), format!("tenant {code:?} not found")))?),
                        None => None,
                    };
                    if seen_unchanged(tx, "client", &c.client_id, &entry_digest(c), None, true).await.map_err(e)? {
                        tally(&mut rep, false);
                        continue;
                    }
                    let q = format!("SELECT {CLIENT_COLS} FROM clients WHERE client_id = $1");
                    let cur: Option<ClientRow> = sqlx::query_as(&q).bind(&c.client_id).fetch_optional(&mut **tx).await.map_err(e)?;
                    let secret = pc.secret_hash.map(|h| h.0.to_vec());
                    let (gt, ru, pl, sc) = (json_list(&c.grant_types), json_list(&c.redirect_uris), json_list(&c.post_logout_redirect_uris), json_list(&c.scopes));
                    let dialect = c.dialect.as_str();
                    let same = |r: &ClientRow| {
                        r.secret_hash == secret && r.dialect == dialect && r.grant_types == gt && r.redirect_uris == ru && r.post_logout_redirect_uris == pl
                            && r.scopes == sc && r.tenant_id == tid && r.access_ttl == pc.access_ttl && r.refresh_ttl == pc.refresh_ttl
                    };
                    let (sql, id) = match &cur {
                        Some(r) if same(r) => {
                            tally(&mut rep, false);
                            continue;
                        }
                        Some(r) => (
                            "UPDATE clients SET secret_hash = $2, dialect = $3, grant_types = $4, redirect_uris = $5, post_logout_redirect_uris = $6, \
                             scopes = $7, tenant_id = $8, access_ttl = $9, refresh_ttl = $10 WHERE id = $1 AND client_id = $11 AND $12 = $12",
                            r.id,
                        ),
                        None => (
                            "INSERT INTO clients (id, secret_hash, dialect, grant_types, redirect_uris, post_logout_redirect_uris, scopes, tenant_id, \
                             access_ttl, refresh_ttl, client_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                            new_id(),
                        ),
                    };
                    sqlx::query(sql)
                        .bind(id).bind(&secret).bind(dialect).bind(&gt).bind(&ru).bind(&pl).bind(&sc).bind(tid)
                        .bind(pc.access_ttl).bind(pc.refresh_ttl).bind(&c.client_id).bind(now)
                        .execute(&mut **tx).await.map_err(|x| inv(entry.clone(), map_err(x).to_string()))?;
                    tally(&mut rep, true);
                }
                for (i, pa) in b.app_keys.iter().enumerate() {
                    let a = &pa.entry;
                    let entry = format!("app_keys[{i}] ({})", a.app_key);
                    let oid = org_ref(tx, &entry, &a.org).await?;
                    if !product_exists(tx, a.product).await.map_err(e)? {
                        return Err(inv(entry, format!("product {} not found", a.product)));
                    }
                    let uid = match &a.user {
                        Some(name) => Some(user_id_by_name(tx, name).await.map_err(e)?.ok_or_else(|| inv(entry.clone(), format!("user {name:?} not found")))?),
                        None => None,
                    };
                    if seen_unchanged(tx, "app_key", &a.app_key, &entry_digest(a), None, true).await.map_err(e)? {
                        tally(&mut rep, false);
                        continue;
                    }
                    let cur: Option<AppKeyRow> = sqlx::query_as(
                        "SELECT id, app_id, app_key, secret_hash, org_id, product_id, user_id, system_admin, enabled FROM app_keys WHERE app_key = $1",
                    )
                    .bind(&a.app_key).fetch_optional(&mut **tx).await.map_err(e)?;
                    let secret = pa.secret_hash.0.to_vec();
                    let same = |r: &AppKeyRow| {
                        r.app_id == a.app_id && r.secret_hash == secret && r.org_id == oid && r.product_id == a.product && r.user_id == uid
                            && r.system_admin == a.system_admin && r.enabled == a.enabled
                    };
                    let (sql, id) = match &cur {
                        Some(r) if same(r) => {
                            tally(&mut rep, false);
                            (None, r.id)
                        }
                        Some(r) => (
                            Some("UPDATE app_keys SET app_id = $2, secret_hash = $3, org_id = $4, product_id = $5, user_id = $6, system_admin = $7, \
                             enabled = $8 WHERE id = $1 AND app_key = $9 AND $10 = $10"),
                            r.id,
                        ),
                        None => (
                            Some("INSERT INTO app_keys (id, app_id, secret_hash, org_id, product_id, user_id, system_admin, enabled, app_key, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
                            a.id.unwrap_or_else(new_id),
                        ),
                    };
                    if let Some(sql) = sql {
                        sqlx::query(sql)
                            .bind(id).bind(&a.app_id).bind(&secret).bind(oid).bind(a.product).bind(uid).bind(a.system_admin).bind(a.enabled)
                            .bind(&a.app_key).bind(now)
                            .execute(&mut **tx).await.map_err(|x| inv(entry.clone(), map_err(x).to_string()))?;
                        tally(&mut rep, true);
                    }
                    // A key bound to a user makes that user's product link (seed 002 `userProduct`).
                    if let Some(uid) = uid {
                        let cur: Option<bool> = sqlx::query_scalar("SELECT system_admin FROM user_products WHERE user_id = $1 AND org_id = $2 AND product_id = $3")
                            .bind(uid).bind(oid).bind(a.product).fetch_optional(&mut **tx).await.map_err(e)?;
                        match cur {
                            Some(s) if s == a.system_admin => {}
                            Some(_) => {
                                sqlx::query("UPDATE user_products SET system_admin = $1 WHERE user_id = $2 AND org_id = $3 AND product_id = $4")
                                    .bind(a.system_admin).bind(uid).bind(oid).bind(a.product).execute(&mut **tx).await.map_err(e)?;
                            }
                            None => {
                                sqlx::query("INSERT INTO user_products (id, user_id, org_id, product_id, system_admin) VALUES ($1, $2, $3, $4, $5)")
                                    .bind(new_id()).bind(uid).bind(oid).bind(a.product).bind(a.system_admin).execute(&mut **tx).await.map_err(e)?;
                            }
                        }
                    }
                }
                for (pos, w) in b.open_login_ways.iter().enumerate() {
                    let pos = pos as i64;
                    if seen_unchanged(tx, "open_login_way", &w.code, &entry_digest(&(w, pos)), None, true).await.map_err(e)? {
                        tally(&mut rep, false);
                        continue;
                    }
                    let cur = sqlx::query("SELECT name, url, position FROM open_login_ways WHERE code = $1").bind(&w.code).fetch_optional(&mut **tx).await.map_err(e)?;
                    let cur: Option<(String, String, i64)> = match cur {
                        Some(r) => Some((r.try_get(0).map_err(e)?, r.try_get(1).map_err(e)?, r.try_get(2).map_err(e)?)),
                        None => None,
                    };
                    match cur {
                        Some((n, u, p)) if n == w.name && u == w.url && p == pos => tally(&mut rep, false),
                        _ => {
                            sqlx::query("INSERT INTO open_login_ways (code, name, url, position) VALUES ($1, $2, $3, $4) \
                                         ON CONFLICT (code) DO UPDATE SET name = excluded.name, url = excluded.url, position = excluded.position")
                                .bind(&w.code).bind(&w.name).bind(&w.url).bind(pos).execute(&mut **tx).await.map_err(e)?;
                            tally(&mut rep, true)
                        }
                    }
                }
                Ok(rep)
            }

            #[async_trait]
            impl Store for $name {
                fn pool_usage(&self) -> (u32, usize) {
                    (self.pool.size(), self.pool.num_idle())
                }

                async fn ping(&self) -> Result<(), StoreError> {
                    sqlx::query("SELECT 1").execute(&self.pool).await.map_err(map_err)?;
                    Ok(())
                }

                async fn client_by_client_id(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
                    let q = format!("SELECT {CLIENT_COLS} FROM clients WHERE client_id = $1");
                    let r: Option<ClientRow> = sqlx::query_as(&q).bind(client_id).fetch_optional(&self.pool).await.map_err(map_err)?;
                    r.map(Client::try_from).transpose()
                }

                async fn app_key_by_key(&self, app_key: &str) -> Result<Option<AppKey>, StoreError> {
                    let r: Option<AppKeyRow> = sqlx::query_as(
                        "SELECT id, app_id, app_key, secret_hash, org_id, product_id, user_id, system_admin, enabled FROM app_keys WHERE app_key = $1",
                    )
                    .bind(app_key).fetch_optional(&self.pool).await.map_err(map_err)?;
                    r.map(AppKey::try_from).transpose()
                }

                async fn tenant_by_code(&self, code: &str) -> Result<Option<Tenant>, StoreError> {
                    let r: Option<TenantRow> = sqlx::query_as("SELECT id, code, name, enabled, sso_url, server_url, sms_second_factor FROM tenants WHERE code = $1")
                        .bind(code).fetch_optional(&self.pool).await.map_err(map_err)?;
                    r.map(Tenant::try_from).transpose()
                }

                async fn tenant_by_id(&self, id: TenantId) -> Result<Option<Tenant>, StoreError> {
                    let r: Option<TenantRow> = sqlx::query_as("SELECT id, code, name, enabled, sso_url, server_url, sms_second_factor FROM tenants WHERE id = $1")
                        .bind(id.0).fetch_optional(&self.pool).await.map_err(map_err)?;
                    r.map(Tenant::try_from).transpose()
                }

                async fn org_by_id(&self, id: OrgId) -> Result<Option<Org>, StoreError> {
                    let r: Option<OrgRow> = sqlx::query_as("SELECT id, tenant_id, code, name, org_type, logo, enabled FROM orgs WHERE id = $1")
                        .bind(id.0).fetch_optional(&self.pool).await.map_err(map_err)?;
                    r.map(Org::try_from).transpose()
                }

                async fn open_login_ways(&self) -> Result<Vec<OpenLoginWay>, StoreError> {
                    let rows = sqlx::query("SELECT code, name, url FROM open_login_ways ORDER BY position, code").fetch_all(&self.pool).await.map_err(map_err)?;
                    rows.iter()
                        .map(|r| Ok(OpenLoginWay { code: r.try_get(0).map_err(map_err)?, name: r.try_get(1).map_err(map_err)?, url: r.try_get(2).map_err(map_err)? }))
                        .collect()
                }

                async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
                    let q = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
                    let r: Option<UserRow> = sqlx::query_as(&q).bind(id.0).fetch_optional(&self.pool).await.map_err(map_err)?;
                    r.map(User::try_from).transpose()
                }

                async fn user_by_login(&self, field: LoginField, value: &str) -> Result<Option<User>, StoreError> {
                    // A username is looked up by its key (issue 15); a name without one
                    // matches no user.
                    let key;
                    let (col, value) = match field {
                        LoginField::Username => match tessera_core::names::username_key(value) {
                            Ok(k) => {
                                key = k;
                                ("username_key", key.as_str())
                            }
                            Err(_) => return Ok(None),
                        },
                        LoginField::Phone => ("phone", value),
                        LoginField::Email => ("email", value),
                    };
                    let q = format!("SELECT {USER_COLS} FROM users WHERE {col} = $1");
                    let r: Option<UserRow> = sqlx::query_as(&q).bind(value).fetch_optional(&self.pool).await.map_err(map_err)?;
                    r.map(User::try_from).transpose()
                }

                async fn users_holding(&self, field: LoginField, value: &str) -> Result<Vec<User>, StoreError> {
                    let (cond, value) = match field {
                        LoginField::Username => ("username_key = $1", value.to_string()),
                        LoginField::Phone => ("phone = $1", value.to_string()),
                        // `users_by_lower_email` (migration 0008).
                        LoginField::Email => ("lower(email) = $1", value.to_lowercase()),
                    };
                    let q = format!("SELECT {USER_COLS} FROM users WHERE {cond} ORDER BY id LIMIT 20");
                    let rows: Vec<UserRow> = sqlx::query_as(&q).bind(value).fetch_all(&self.pool).await.map_err(map_err)?;
                    rows.into_iter().map(User::try_from).collect()
                }

                async fn username_keys(&self, after: Option<UserId>, limit: i64) -> Result<Vec<UsernameKeyRow>, StoreError> {
                    let rows: Vec<(i64, String, Option<String>, i64)> = sqlx::query_as(
                        "SELECT id, username, username_key, created_at FROM users WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2")
                        .bind(after.map(|u| u.0)).bind(limit).fetch_all(&self.pool).await.map_err(map_err)?;
                    Ok(rows.into_iter().map(|(id, username, key, created_at)| UsernameKeyRow { id: UserId(id), username, key, created_at }).collect())
                }

                async fn shadowed_names(&self, limit: i64) -> Result<Vec<(String, String, LoginField)>, StoreError> {
                    let rows: Vec<(String, String, String)> = sqlx::query_as(
                        "SELECT u.username, o.username, 'phone' FROM users u JOIN users o ON o.phone = u.username_key AND o.id <> u.id \
                         UNION ALL \
                         SELECT u.username, o.username, 'email' FROM users u JOIN users o ON lower(o.email) = u.username_key AND o.id <> u.id \
                         LIMIT $1")
                        .bind(limit).fetch_all(&self.pool).await.map_err(map_err)?;
                    Ok(rows.into_iter().map(|(u, o, f)| (u, o, if f == "phone" { LoginField::Phone } else { LoginField::Email })).collect())
                }

                async fn set_username_key(&self, id: UserId, key: Option<&str>) -> Result<(), StoreError> {
                    sqlx::query("UPDATE users SET username_key = $2 WHERE id = $1")
                        .bind(id.0).bind(key).execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn memberships_of(&self, user: UserId) -> Result<Vec<Membership>, StoreError> {
                    let q = format!("{MEMBERSHIP_SELECT} WHERE m.user_id = $1 ORDER BY m.is_default DESC, t.code, o.code");
                    let rows: Vec<MembershipRow> = sqlx::query_as(&q).bind(user.0).fetch_all(&self.pool).await.map_err(map_err)?;
                    rows.into_iter().map(Membership::try_from).collect()
                }

                async fn record_password_failure(&self, user: UserId, max: i64, lock_until: UnixTime) -> Result<FailureCount, StoreError> {
                    // One statement, so that concurrent failures all count. The right-hand
                    // sides read the old row in both databases.
                    let row = sqlx::query(
                        "UPDATE users SET \
                           failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END, \
                           locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END \
                         WHERE id = $1 RETURNING failed_attempts, locked_until",
                    )
                    .bind(user.0).bind(max).bind(lock_until)
                    .fetch_optional(&self.writer).await.map_err(map_err)?;
                    let Some(row) = row else { return Ok(FailureCount { failures: 0, locked_until: None }) };
                    let failures: i64 = row.try_get(0).map_err(map_err)?;
                    let locked: Option<i64> = row.try_get(1).map_err(map_err)?;
                    Ok(FailureCount { failures, locked_until: locked.filter(|l| *l == lock_until && failures == 0) })
                }

                async fn record_login_success(&self, user: UserId, new_hash: Option<&str>) -> Result<(), StoreError> {
                    match new_hash {
                        Some(h) => sqlx::query("UPDATE users SET failed_attempts = 0, password_hash = $2 WHERE id = $1").bind(user.0).bind(h),
                        None => sqlx::query("UPDATE users SET failed_attempts = 0 WHERE id = $1 AND failed_attempts <> 0").bind(user.0),
                    }
                    .execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn insert_grant(&self, grant: &NewGrant) -> Result<(), StoreError> {
                    self.batch.submit(crate::batch::WriteOp::Insert(grant.clone())).await.map(|_| ())
                }

                async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
                    let q = format!("{TOKEN_SELECT} WHERE t.hash = $1");
                    let r: Option<TokenRow> = sqlx::query_as(&q).bind(&hash.0[..]).fetch_optional(&self.pool).await.map_err(map_err)?;
                    r.map(TokenRecord::try_from).transpose()
                }

                async fn rotate_refresh(&self, old: &TokenHash, now: UnixTime, new: &NewGrant) -> Result<RotateOutcome, StoreError> {
                    let op = crate::batch::WriteOp::Rotate { old: *old, now, new: new.clone() };
                    match self.batch.submit(op).await? {
                        crate::batch::Written::Rotated(o) => Ok(o),
                        _ => Err(StoreError::Other("a rotation answered as another write".into())),
                    }
                }

                async fn spend_refresh(&self, old: &TokenHash, client: &ClientId, now: UnixTime, since: UnixTime, next: &[NewToken]) -> Result<SpendOutcome, StoreError> {
                    let op = crate::batch::WriteOp::Spend { old: *old, client: client.clone(), now, since, next: next.to_vec() };
                    match self.batch.submit(op).await? {
                        crate::batch::Written::Spent(o) => Ok(o),
                        _ => Err(StoreError::Other("a spend answered as another write".into())),
                    }
                }

                async fn revoke_token(&self, hash: &TokenHash, now: UnixTime) -> Result<bool, StoreError> {
                    let r = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE hash = $2 AND revoked_at IS NULL")
                        .bind(now).bind(&hash.0[..]).execute(&self.writer).await.map_err(map_err)?;
                    Ok(r.rows_affected() > 0)
                }

                async fn revoke_family(&self, family: FamilyId, now: UnixTime) -> Result<u64, StoreError> {
                    let mut tx = self.writer.begin().await.map_err(map_err)?;
                    let n = revoke_family_in(&mut tx, family, now).await.map_err(map_err)?;
                    tx.commit().await.map_err(map_err)?;
                    Ok(n)
                }

                async fn revoke_device_tokens(&self, user: UserId, client: &ClientId, device: &str, now: UnixTime) -> Result<u64, StoreError> {
                    let r = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE user_id = $2 AND client_id = $3 AND device_id = $4 AND revoked_at IS NULL")
                        .bind(now).bind(user.0).bind(&client.0).bind(device).execute(&self.writer).await.map_err(map_err)?;
                    Ok(r.rows_affected())
                }

                async fn purge_expired_tokens(&self, before: UnixTime) -> Result<u64, StoreError> {
                    let r = sqlx::query("DELETE FROM tokens WHERE expires_at < $1").bind(before).execute(&self.writer).await.map_err(map_err)?;
                    // No token outlives its family's revocation by more than MAX_TOKEN_LIFETIME.
                    sqlx::query("DELETE FROM revoked_families WHERE revoked_at < $1")
                        .bind(before - tessera_core::model::MAX_TOKEN_LIFETIME)
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(r.rows_affected())
                }

                async fn is_known_device(&self, user: UserId, device_key: &str) -> Result<bool, StoreError> {
                    let r: Option<i64> = sqlx::query_scalar("SELECT first_seen FROM known_devices WHERE user_id = $1 AND device_key = $2")
                        .bind(user.0).bind(device_key).fetch_optional(&self.pool).await.map_err(map_err)?;
                    Ok(r.is_some())
                }

                async fn remember_device(&self, user: UserId, device_key: &str, now: UnixTime) -> Result<(), StoreError> {
                    sqlx::query("INSERT INTO known_devices (user_id, device_key, first_seen) VALUES ($1, $2, $3) ON CONFLICT (user_id, device_key) DO NOTHING")
                        .bind(user.0).bind(device_key).bind(now).execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn org_product_name(&self, org: OrgId, product: ProductId) -> Result<Option<String>, StoreError> {
                    sqlx::query_scalar("SELECT name FROM org_products WHERE org_id = $1 AND product_id = $2")
                        .bind(org.0).bind(product.0).fetch_optional(&self.pool).await.map_err(map_err)
                }

                async fn user_product(&self, user: UserId, org: OrgId, product: ProductId) -> Result<Option<(UserProductId, bool)>, StoreError> {
                    let r = sqlx::query("SELECT id, system_admin FROM user_products WHERE user_id = $1 AND org_id = $2 AND product_id = $3")
                        .bind(user.0).bind(org.0).bind(product.0).fetch_optional(&self.pool).await.map_err(map_err)?;
                    match r {
                        Some(r) => Ok(Some((UserProductId(r.try_get(0).map_err(map_err)?), r.try_get(1).map_err(map_err)?))),
                        None => Ok(None),
                    }
                }

                async fn create_session(&self, s: &SsoSession, secret: &TokenHash) -> Result<(), StoreError> {
                    sqlx::query("INSERT INTO sso_sessions (id, secret_hash, user_id, tenant_id, created_at, last_seen, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                        .bind(&s.id).bind(&secret.0[..]).bind(s.user_id.0).bind(s.tenant_id.map(|t| t.0)).bind(s.created_at).bind(s.last_seen).bind(s.expires_at)
                        .execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn session_by_secret(&self, secret: &TokenHash) -> Result<Option<SsoSession>, StoreError> {
                    let r: Option<SessionRow> = sqlx::query_as("SELECT id, user_id, tenant_id, created_at, last_seen, expires_at, revoked_at FROM sso_sessions WHERE secret_hash = $1")
                        .bind(&secret.0[..]).fetch_optional(&self.pool).await.map_err(map_err)?;
                    Ok(r.map(SsoSession::from))
                }

                async fn session_by_id(&self, id: &str) -> Result<Option<SsoSession>, StoreError> {
                    let r: Option<SessionRow> = sqlx::query_as("SELECT id, user_id, tenant_id, created_at, last_seen, expires_at, revoked_at FROM sso_sessions WHERE id = $1")
                        .bind(id).fetch_optional(&self.pool).await.map_err(map_err)?;
                    Ok(r.map(SsoSession::from))
                }

                async fn touch_session(&self, id: &str, now: UnixTime) -> Result<(), StoreError> {
                    sqlx::query("UPDATE sso_sessions SET last_seen = $1 WHERE id = $2").bind(now).bind(id).execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn revoke_session(&self, id: &str, now: UnixTime) -> Result<(), StoreError> {
                    sqlx::query("UPDATE sso_sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL").bind(now).bind(id).execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn list_users(&self, f: &UserFilter) -> Result<(Vec<User>, i64), StoreError> {
                    // Fixed SQL with optional filters ($n IS NULL OR …): one prepared statement.
                    let cond = "($1 IS NULL OR u.username = $1) AND ($2 IS NULL OR u.phone = $2) AND ($3 IS NULL OR u.enabled = $3) \
                                AND ($4 IS NULL OR EXISTS (SELECT 1 FROM memberships m JOIN tenants t ON t.id = m.tenant_id WHERE m.user_id = u.id AND t.code = $4))";
                    let cols = USER_COLS.split(", ").map(|c| format!("u.{}", c.trim())).collect::<Vec<_>>().join(", ");
                    let q = format!("SELECT {cols} FROM users u WHERE {cond} ORDER BY u.username LIMIT $5 OFFSET $6");
                    let rows: Vec<UserRow> = sqlx::query_as(&q)
                        .bind(&f.username).bind(&f.phone).bind(f.enabled).bind(&f.tenant).bind(f.limit).bind(f.offset)
                        .fetch_all(&self.pool).await.map_err(map_err)?;
                    let cq = format!("SELECT COUNT(*) FROM users u WHERE {cond}");
                    let total: i64 = sqlx::query_scalar(&cq).bind(&f.username).bind(&f.phone).bind(f.enabled).bind(&f.tenant)
                        .fetch_one(&self.pool).await.map_err(map_err)?;
                    Ok((rows.into_iter().map(User::try_from).collect::<Result<_, _>>()?, total))
                }

                async fn create_user(&self, u: &NewUser, id: UserId, now: UnixTime) -> Result<(), StoreError> {
                    // The engine refuses such a name first (`Engine::check_user_names`).
                    let key = tessera_core::names::username_key(&u.username)
                        .map_err(|p| StoreError::Other(format!("username {p}")))?;
                    sqlx::query("INSERT INTO users (id, username, phone, email, password_hash, user_type, source, display_name, real_name, gender, title, \
                                 employee_number, portrait, state, enabled, active, phone_verified, email_verified, failed_attempts, created_at, username_key) \
                                 VALUES ($1, $2, $3, $4, $5, $6, 'local', $7, $8, 0, '', '', '', '', $9, $10, $11, $11, 0, $12, $13)")
                        .bind(id.0).bind(&u.username).bind(&u.phone).bind(&u.email).bind(&u.password_hash).bind(user_type_str(u.user_type))
                        .bind(&u.display_name).bind(&u.real_name).bind(u.enabled).bind(u.active).bind(false).bind(now).bind(key)
                        .execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn update_user(&self, id: UserId, p: &UserPatch) -> Result<bool, StoreError> {
                    let mut tx = self.writer.begin().await.map_err(map_err)?;
                    let q = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
                    let Some(cur): Option<UserRow> = sqlx::query_as(&q).bind(id.0).fetch_optional(&mut *tx).await.map_err(map_err)? else {
                        return Ok(false);
                    };
                    sqlx::query("UPDATE users SET phone = $2, email = $3, display_name = $4, real_name = $5, title = $6, enabled = $7, active = $8, \
                                 expires_at = $9, phone_verified = $10, email_verified = $11 WHERE id = $1")
                        .bind(id.0)
                        .bind(p.phone.clone().unwrap_or(cur.phone))
                        .bind(p.email.clone().unwrap_or(cur.email))
                        .bind(p.display_name.clone().unwrap_or(cur.display_name))
                        .bind(p.real_name.clone().unwrap_or(cur.real_name))
                        .bind(p.title.clone().unwrap_or(cur.title))
                        .bind(p.enabled.unwrap_or(cur.enabled))
                        .bind(p.active.unwrap_or(cur.active))
                        .bind(p.expires_at.unwrap_or(cur.expires_at))
                        .bind(p.phone_verified.unwrap_or(cur.phone_verified))
                        .bind(p.email_verified.unwrap_or(cur.email_verified))
                        .execute(&mut *tx).await.map_err(map_err)?;
                    tx.commit().await.map_err(map_err)?;
                    Ok(true)
                }

                async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<bool, StoreError> {
                    let r = sqlx::query("UPDATE users SET password_hash = $2, failed_attempts = 0, locked_until = NULL WHERE id = $1")
                        .bind(id.0).bind(hash).execute(&self.writer).await.map_err(map_err)?;
                    Ok(r.rows_affected() > 0)
                }

                async fn unlock_user(&self, id: UserId) -> Result<bool, StoreError> {
                    let r = sqlx::query("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = $1")
                        .bind(id.0).execute(&self.writer).await.map_err(map_err)?;
                    Ok(r.rows_affected() > 0)
                }

                async fn set_user_creator(&self, id: UserId, tenant: TenantId) -> Result<(), StoreError> {
                    sqlx::query("UPDATE users SET created_by_tenant = $2 WHERE id = $1")
                        .bind(id.0).bind(tenant.0).execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn user_creator(&self, id: UserId) -> Result<Option<TenantId>, StoreError> {
                    let t: Option<Option<i64>> = sqlx::query_scalar("SELECT created_by_tenant FROM users WHERE id = $1")
                        .bind(id.0).fetch_optional(&self.pool).await.map_err(map_err)?;
                    Ok(t.flatten().map(TenantId))
                }

                async fn user_tokens(&self, id: UserId, now: UnixTime) -> Result<Vec<TokenRecord>, StoreError> {
                    let q = format!("{TOKEN_SELECT} WHERE t.user_id = $1 AND t.revoked_at IS NULL AND rf.family_id IS NULL AND t.used_at IS NULL AND t.expires_at > $2 ORDER BY t.issued_at DESC LIMIT 500");
                    let rows: Vec<TokenRow> = sqlx::query_as(&q).bind(id.0).bind(now).fetch_all(&self.pool).await.map_err(map_err)?;
                    rows.into_iter().map(TokenRecord::try_from).collect()
                }

                async fn revoke_user_tokens(&self, id: UserId, now: UnixTime) -> Result<u64, StoreError> {
                    let r = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                        .bind(now).bind(id.0).execute(&self.writer).await.map_err(map_err)?;
                    Ok(r.rows_affected())
                }

                async fn user_sessions(&self, id: UserId, now: UnixTime) -> Result<Vec<SsoSession>, StoreError> {
                    let rows: Vec<SessionRow> = sqlx::query_as("SELECT id, user_id, tenant_id, created_at, last_seen, expires_at, revoked_at FROM sso_sessions \
                                                                WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC")
                        .bind(id.0).bind(now).fetch_all(&self.pool).await.map_err(map_err)?;
                    Ok(rows.into_iter().map(SsoSession::from).collect())
                }

                async fn bootstrap_user_secret(&self, username: &str) -> Result<Option<String>, StoreError> {
                    let s: Option<Option<String>> = sqlx::query_scalar("SELECT secret FROM bootstrap_applied WHERE kind = 'user' AND entry_key = $1")
                        .bind(username).fetch_optional(&self.pool).await.map_err(map_err)?;
                    Ok(s.flatten())
                }

                async fn live_sessions(&self, tenant: Option<TenantId>, user: Option<UserId>, now: UnixTime) -> Result<Vec<SsoSession>, StoreError> {
                    let rows: Vec<SessionRow> = sqlx::query_as("SELECT id, user_id, tenant_id, created_at, last_seen, expires_at, revoked_at FROM sso_sessions \
                                                                WHERE revoked_at IS NULL AND expires_at > $1 AND ($2 IS NULL OR tenant_id = $2) AND ($3 IS NULL OR user_id = $3) \
                                                                ORDER BY created_at DESC LIMIT 500")
                        .bind(now).bind(tenant.map(|t| t.0)).bind(user.map(|u| u.0)).fetch_all(&self.pool).await.map_err(map_err)?;
                    Ok(rows.into_iter().map(SsoSession::from).collect())
                }

                async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
                    let rows: Vec<TenantRow> = sqlx::query_as("SELECT id, code, name, enabled, sso_url, server_url, sms_second_factor FROM tenants ORDER BY code LIMIT 1000")
                        .fetch_all(&self.pool).await.map_err(map_err)?;
                    rows.into_iter().map(Tenant::try_from).collect()
                }

                async fn put_tenant(&self, t: &Tenant, now: UnixTime) -> Result<(), StoreError> {
                    sqlx::query("INSERT INTO tenants (id, code, name, enabled, sso_url, server_url, sms_second_factor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, enabled = excluded.enabled, sso_url = excluded.sso_url, \
                                 server_url = excluded.server_url, sms_second_factor = excluded.sms_second_factor")
                        .bind(t.id.0).bind(&t.code).bind(&t.name).bind(t.enabled).bind(&t.sso_url).bind(&t.server_url).bind(t.sms_second_factor.as_str()).bind(now)
                        .execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn list_orgs(&self, tenant: TenantId) -> Result<Vec<Org>, StoreError> {
                    let rows: Vec<OrgRow> = sqlx::query_as("SELECT id, tenant_id, code, name, org_type, logo, enabled FROM orgs WHERE tenant_id = $1 ORDER BY code LIMIT 1000")
                        .bind(tenant.0).fetch_all(&self.pool).await.map_err(map_err)?;
                    rows.into_iter().map(Org::try_from).collect()
                }

                async fn put_org(&self, o: &Org) -> Result<(), StoreError> {
                    sqlx::query("INSERT INTO orgs (id, tenant_id, code, name, org_type, logo, enabled) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                                 ON CONFLICT (tenant_id, code) DO UPDATE SET name = excluded.name, org_type = excluded.org_type, logo = excluded.logo, enabled = excluded.enabled")
                        .bind(o.id.0).bind(o.tenant_id.0).bind(&o.code).bind(&o.name).bind(o.org_type.as_str()).bind(&o.logo).bind(o.enabled)
                        .execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn put_membership(&self, user: UserId, tenant: TenantId, org: OrgId, roles: &[String], default: bool) -> Result<(), StoreError> {
                    let mut tx = self.writer.begin().await.map_err(map_err)?;
                    if default {
                        sqlx::query("UPDATE memberships SET is_default = $1 WHERE user_id = $2 AND is_default").bind(false).bind(user.0).execute(&mut *tx).await.map_err(map_err)?;
                    }
                    sqlx::query("INSERT INTO memberships (user_id, tenant_id, org_id, roles, is_default) VALUES ($1, $2, $3, $4, $5) \
                                 ON CONFLICT (user_id, tenant_id, org_id) DO UPDATE SET roles = excluded.roles, is_default = excluded.is_default")
                        .bind(user.0).bind(tenant.0).bind(org.0).bind(json_list(roles)).bind(default)
                        .execute(&mut *tx).await.map_err(map_err)?;
                    tx.commit().await.map_err(map_err)?;
                    Ok(())
                }

                async fn delete_membership(&self, user: UserId, tenant: TenantId, org: OrgId) -> Result<bool, StoreError> {
                    let r = sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND tenant_id = $2 AND org_id = $3")
                        .bind(user.0).bind(tenant.0).bind(org.0).execute(&self.writer).await.map_err(map_err)?;
                    Ok(r.rows_affected() > 0)
                }

                async fn list_products(&self) -> Result<Vec<Product>, StoreError> {
                    let rows = sqlx::query("SELECT id, name FROM products ORDER BY id LIMIT 1000").fetch_all(&self.pool).await.map_err(map_err)?;
                    rows.iter().map(|r| Ok(Product { id: ProductId(r.try_get(0).map_err(map_err)?), name: r.try_get(1).map_err(map_err)? })).collect()
                }

                async fn put_product(&self, p: &Product) -> Result<(), StoreError> {
                    sqlx::query("INSERT INTO products (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name")
                        .bind(p.id.0).bind(&p.name).execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn put_org_product(&self, org: OrgId, product: ProductId, name: &str) -> Result<(), StoreError> {
                    sqlx::query("INSERT INTO org_products (org_id, product_id, name) VALUES ($1, $2, $3) ON CONFLICT (org_id, product_id) DO UPDATE SET name = excluded.name")
                        .bind(org.0).bind(product.0).bind(name).execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn delete_org_product(&self, org: OrgId, product: ProductId) -> Result<bool, StoreError> {
                    let r = sqlx::query("DELETE FROM org_products WHERE org_id = $1 AND product_id = $2").bind(org.0).bind(product.0)
                        .execute(&self.writer).await.map_err(map_err)?;
                    Ok(r.rows_affected() > 0)
                }

                async fn list_user_products(&self, user: UserId) -> Result<Vec<(String, String, ProductId, bool)>, StoreError> {
                    let rows: Vec<(String, String, i64, bool)> = sqlx::query_as(
                        "SELECT t.code, o.code, up.product_id, up.system_admin FROM user_products up \
                         JOIN orgs o ON o.id = up.org_id JOIN tenants t ON t.id = o.tenant_id \
                         WHERE up.user_id = $1 ORDER BY t.code, o.code, up.product_id")
                        .bind(user.0).fetch_all(&self.pool).await.map_err(map_err)?;
                    Ok(rows.into_iter().map(|(t, o, p, a)| (t, o, ProductId(p), a)).collect())
                }

                async fn put_user_product(&self, id: UserProductId, user: UserId, org: OrgId, product: ProductId, system_admin: bool) -> Result<(), StoreError> {
                    sqlx::query("INSERT INTO user_products (id, user_id, org_id, product_id, system_admin) VALUES ($1, $2, $3, $4, $5) \
                                 ON CONFLICT (user_id, org_id, product_id) DO UPDATE SET system_admin = excluded.system_admin")
                        .bind(id.0).bind(user.0).bind(org.0).bind(product.0).bind(system_admin).execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn delete_user_product(&self, user: UserId, org: OrgId, product: ProductId) -> Result<bool, StoreError> {
                    let r = sqlx::query("DELETE FROM user_products WHERE user_id = $1 AND org_id = $2 AND product_id = $3")
                        .bind(user.0).bind(org.0).bind(product.0).execute(&self.writer).await.map_err(map_err)?;
                    Ok(r.rows_affected() > 0)
                }

                async fn put_open_login_way(&self, w: &OpenLoginWay, position: i64) -> Result<(), StoreError> {
                    sqlx::query("INSERT INTO open_login_ways (code, name, url, position) VALUES ($1, $2, $3, $4) \
                                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, url = excluded.url, position = excluded.position")
                        .bind(&w.code).bind(&w.name).bind(&w.url).bind(position).execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn delete_open_login_way(&self, code: &str) -> Result<bool, StoreError> {
                    let r = sqlx::query("DELETE FROM open_login_ways WHERE code = $1").bind(code).execute(&self.writer).await.map_err(map_err)?;
                    Ok(r.rows_affected() > 0)
                }

                async fn list_app_keys(&self) -> Result<Vec<AppKey>, StoreError> {
                    let rows: Vec<AppKeyRow> = sqlx::query_as("SELECT id, app_id, app_key, secret_hash, org_id, product_id, user_id, system_admin, enabled FROM app_keys ORDER BY app_key LIMIT 1000")
                        .fetch_all(&self.pool).await.map_err(map_err)?;
                    rows.into_iter().map(AppKey::try_from).collect()
                }

                async fn put_app_key(&self, k: &AppKey, now: UnixTime) -> Result<(), StoreError> {
                    sqlx::query("INSERT INTO app_keys (id, app_id, app_key, secret_hash, org_id, product_id, user_id, system_admin, enabled, created_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (app_key) DO UPDATE SET app_id = excluded.app_id, \
                                 secret_hash = excluded.secret_hash, org_id = excluded.org_id, product_id = excluded.product_id, user_id = excluded.user_id, \
                                 system_admin = excluded.system_admin, enabled = excluded.enabled")
                        .bind(k.id.0).bind(&k.app_id).bind(&k.app_key).bind(&k.secret_hash.0[..]).bind(k.org_id.0).bind(k.product_id.0)
                        .bind(k.user_id.map(|u| u.0)).bind(k.system_admin).bind(k.enabled).bind(now)
                        .execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn list_clients(&self) -> Result<Vec<Client>, StoreError> {
                    let q = format!("SELECT {CLIENT_COLS} FROM clients ORDER BY client_id LIMIT 1000");
                    let rows: Vec<ClientRow> = sqlx::query_as(&q).fetch_all(&self.pool).await.map_err(map_err)?;
                    rows.into_iter().map(Client::try_from).collect()
                }

                async fn put_client(&self, c: &Client, now: UnixTime) -> Result<(), StoreError> {
                    sqlx::query("INSERT INTO clients (id, client_id, secret_hash, dialect, grant_types, redirect_uris, post_logout_redirect_uris, scopes, \
                                 tenant_id, access_ttl, refresh_ttl, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                                 ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash, dialect = excluded.dialect, \
                                 grant_types = excluded.grant_types, redirect_uris = excluded.redirect_uris, \
                                 post_logout_redirect_uris = excluded.post_logout_redirect_uris, scopes = excluded.scopes, tenant_id = excluded.tenant_id, \
                                 access_ttl = excluded.access_ttl, refresh_ttl = excluded.refresh_ttl")
                        .bind(c.row_id.0).bind(&c.client_id.0).bind(c.secret_hash.map(|h| h.0.to_vec())).bind(c.dialect.as_str())
                        .bind(json_list(&c.grant_types)).bind(json_list(&c.redirect_uris)).bind(json_list(&c.post_logout_redirect_uris))
                        .bind(json_list(&c.scopes)).bind(c.tenant_id.map(|t| t.0)).bind(c.access_ttl).bind(c.refresh_ttl).bind(now)
                        .execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn delete_client(&self, client_id: &str, now: UnixTime) -> Result<bool, StoreError> {
                    let mut tx = self.writer.begin().await.map_err(map_err)?;
                    sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL")
                        .bind(now).bind(client_id).execute(&mut *tx).await.map_err(map_err)?;
                    let r = sqlx::query("DELETE FROM clients WHERE client_id = $1").bind(client_id).execute(&mut *tx).await.map_err(map_err)?;
                    tx.commit().await.map_err(map_err)?;
                    Ok(r.rows_affected() > 0)
                }

                async fn query_audit(&self, f: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
                    let rows: Vec<AuditRow> = sqlx::query_as(
                        "SELECT at, kind, dialect, outcome, user_id, client_id, ip, detail FROM audit_events \
                         WHERE ($1 IS NULL OR user_id = $1) AND ($2 IS NULL OR client_id = $2) AND ($3 IS NULL OR dialect = $3) \
                         AND ($4 IS NULL OR outcome = $4) AND ($5 IS NULL OR kind = $5) AND ($6 IS NULL OR at >= $6) AND ($7 IS NULL OR at < $7) \
                         ORDER BY id DESC LIMIT $8")
                        .bind(f.user.map(|u| u.0)).bind(&f.client).bind(&f.dialect).bind(&f.outcome).bind(&f.kind).bind(f.from).bind(f.to).bind(f.limit)
                        .fetch_all(&self.pool).await.map_err(map_err)?;
                    Ok(rows.into_iter().map(AuditEvent::from).collect())
                }

                async fn purge_audit(&self, before: UnixTime) -> Result<u64, StoreError> {
                    let r = sqlx::query("DELETE FROM audit_events WHERE at < $1").bind(before).execute(&self.writer).await.map_err(map_err)?;
                    Ok(r.rows_affected())
                }

                async fn apply_bootstrap(&self, b: &PreparedBootstrap, now: UnixTime) -> Result<BootstrapReport, BootstrapError> {
                    let mut tx = self.writer.begin().await.map_err(map_err)?;
                    // One bootstrap at a time across processes (PostgreSQL); see `bootstrap_lock`.
                    super::bootstrap_lock(&mut tx).await.map_err(map_err)?;
                    // On error `tx` is dropped and rolls back: nothing of the file is applied.
                    let rep = apply(&mut tx, b, now).await?;
                    tx.commit().await.map_err(map_err)?;
                    Ok(rep)
                }

                async fn record_audit(&self, ev: &AuditEvent) -> Result<(), StoreError> {
                    sqlx::query("INSERT INTO audit_events (id, at, kind, dialect, outcome, user_id, client_id, ip, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                        .bind(audit_id(ev.at)).bind(ev.at).bind(&ev.kind).bind(&ev.dialect).bind(&ev.outcome).bind(ev.user_id.map(|u| u.0))
                        .bind(&ev.client_id).bind(&ev.ip).bind(&ev.detail)
                        .execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                }

                async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditEvent>, StoreError> {
                    let rows: Vec<AuditRow> = sqlx::query_as("SELECT at, kind, dialect, outcome, user_id, client_id, ip, detail FROM audit_events ORDER BY at DESC, id DESC LIMIT $1")
                        .bind(limit).fetch_all(&self.pool).await.map_err(map_err)?;
                    Ok(rows.into_iter().map(AuditEvent::from).collect())
                }
            }
        }
    };
}
