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
    let e = map_err;
    for (i, t) in b.tenants.iter().enumerate() {
        if seen_unchanged(tx, "tenant", &t.code, &entry_digest(t), None, true)
            .await
            .map_err(e)?
        {
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
            Some(c)
                if c.name == t.name
                    && c.enabled == t.enabled
                    && c.sso_url == t.sso_url
                    && c.server_url == t.server_url
                    && c.sms_second_factor == sms =>
            {
                tally(&mut rep, false)
            }
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
        let tid = tenant_id_by_code(tx, &o.tenant)
            .await
            .map_err(e)?
            .ok_or_else(|| inv(entry.clone(), format!("tenant {:?} not found", o.tenant)))?;
        if seen_unchanged(
            tx,
            "org",
            &format!("{}/{}", o.tenant, o.code),
            &entry_digest(o),
            None,
            true,
        )
        .await
        .map_err(e)?
        {
            tally(&mut rep, false);
            continue;
        }
        let cur: Option<OrgRow> = sqlx::query_as("SELECT id, tenant_id, code, name, org_type, logo, enabled FROM orgs WHERE tenant_id = $1 AND code = $2")
            .bind(tid).bind(&o.code).fetch_optional(&mut **tx).await.map_err(e)?;
        let ty = o.org_type.as_str();
        match cur {
            Some(c)
                if c.name == o.name
                    && c.org_type == ty
                    && c.logo == o.logo
                    && c.enabled == o.enabled =>
            {
                tally(&mut rep, false)
            }
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
        if seen_unchanged(
            tx,
            "product",
            &p.id.to_string(),
            &entry_digest(p),
            None,
            true,
        )
        .await
        .map_err(e)?
        {
            tally(&mut rep, false);
            continue;
        }
        let cur: Option<String> = sqlx::query_scalar("SELECT name FROM products WHERE id = $1")
            .bind(p.id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(e)?;
        match cur {
            Some(n) if n == p.name => tally(&mut rep, false),
            Some(_) => {
                sqlx::query("UPDATE products SET name = $1 WHERE id = $2")
                    .bind(&p.name)
                    .bind(p.id)
                    .execute(&mut **tx)
                    .await
                    .map_err(e)?;
                tally(&mut rep, true)
            }
            None => {
                sqlx::query("INSERT INTO products (id, name) VALUES ($1, $2)")
                    .bind(p.id)
                    .bind(&p.name)
                    .execute(&mut **tx)
                    .await
                    .map_err(e)?;
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
        if seen_unchanged(
            tx,
            "org_product",
            &format!("{}|{}", op.org, op.product),
            &entry_digest(op),
            None,
            true,
        )
        .await
        .map_err(e)?
        {
            tally(&mut rep, false);
            continue;
        }
        let cur: Option<String> = sqlx::query_scalar(
            "SELECT name FROM org_products WHERE org_id = $1 AND product_id = $2",
        )
        .bind(oid)
        .bind(op.product)
        .fetch_optional(&mut **tx)
        .await
        .map_err(e)?;
        match cur {
            Some(n) if n == op.name => tally(&mut rep, false),
            Some(_) => {
                sqlx::query(
                    "UPDATE org_products SET name = $1 WHERE org_id = $2 AND product_id = $3",
                )
                .bind(&op.name)
                .bind(oid)
                .bind(op.product)
                .execute(&mut **tx)
                .await
                .map_err(e)?;
                tally(&mut rep, true)
            }
            None => {
                sqlx::query(
                    "INSERT INTO org_products (org_id, product_id, name) VALUES ($1, $2, $3)",
                )
                .bind(oid)
                .bind(op.product)
                .bind(&op.name)
                .execute(&mut **tx)
                .await
                .map_err(e)?;
                tally(&mut rep, true)
            }
        }
    }
    for (i, pu) in b.users.iter().enumerate() {
        let u = &pu.entry;
        let entry = format!("users[{i}] ({})", u.username);
        let secret = if u.password.is_some() {
            pu.password_hash.as_deref()
        } else {
            None
        };
        if seen_unchanged(
            tx,
            "user",
            &u.username,
            &user_digest(u),
            secret,
            pu.password_unchanged,
        )
        .await
        .map_err(e)?
        {
            tally(&mut rep, false);
            continue;
        }
        let q = format!("SELECT {USER_COLS} FROM users WHERE username = $1");
        let cur: Option<UserRow> = sqlx::query_as(&q)
            .bind(&u.username)
            .fetch_optional(&mut **tx)
            .await
            .map_err(e)?;
        let (ut, src) = (user_type_str(u.user_type), source_str(u.source));
        let same = |c: &UserRow| {
            c.phone == u.phone
                && c.email == u.email
                && c.password_hash == pu.password_hash
                && c.user_type == ut
                && c.source == src
                && c.display_name == u.display_name
                && c.real_name == u.real_name
                && c.gender == u.gender
                && c.birthday == u.birthday
                && c.title == u.title
                && c.employee_number == u.employee_number
                && c.portrait == u.portrait
                && c.state == u.state
                && c.enabled == u.enabled
                && c.active == u.active
                && c.phone_verified == u.phone_verified
                && c.email_verified == u.email_verified
                && c.expires_at == pu.expires_at
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
        let key = tessera_core::names::username_key(&u.username)
            .map_err(|p| inv(entry.clone(), format!("username {p}")))?;
        sqlx::query(sql)
            .bind(id)
            .bind(&u.phone)
            .bind(&u.email)
            .bind(&pu.password_hash)
            .bind(ut)
            .bind(src)
            .bind(&u.display_name)
            .bind(&u.real_name)
            .bind(u.gender)
            .bind(&u.birthday)
            .bind(&u.title)
            .bind(&u.employee_number)
            .bind(&u.portrait)
            .bind(&u.state)
            .bind(u.enabled)
            .bind(u.active)
            .bind(u.phone_verified)
            .bind(u.email_verified)
            .bind(pu.expires_at)
            .bind(pu.locked_until)
            .bind(&u.username)
            .bind(now)
            .bind(key)
            .execute(&mut **tx)
            .await
            .map_err(|x| inv(entry.clone(), map_err(x).to_string()))?;
        tally(&mut rep, true);
    }
    for (i, m) in b.memberships.iter().enumerate() {
        let entry = format!("memberships[{i}] ({} in {}/{})", m.user, m.tenant, m.org);
        let uid = user_id_by_name(tx, &m.user)
            .await
            .map_err(e)?
            .ok_or_else(|| inv(entry.clone(), format!("user {:?} not found", m.user)))?;
        let tid = tenant_id_by_code(tx, &m.tenant)
            .await
            .map_err(e)?
            .ok_or_else(|| inv(entry.clone(), format!("tenant {:?} not found", m.tenant)))?;
        let oid = org_id_by_codes(tx, &m.tenant, &m.org)
            .await
            .map_err(e)?
            .ok_or_else(|| {
                inv(
                    entry.clone(),
                    format!("org {:?} not found in tenant {:?}", m.org, m.tenant),
                )
            })?;
        if seen_unchanged(
            tx,
            "membership",
            &format!("{}|{}/{}", m.user, m.tenant, m.org),
            &entry_digest(m),
            None,
            true,
        )
        .await
        .map_err(e)?
        {
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
            Some(code) => Some(
                tenant_id_by_code(tx, code)
                    .await
                    .map_err(e)?
                    .ok_or_else(|| inv(entry.clone(), format!("tenant {code:?} not found")))?,
            ),
            None => None,
        };
        if seen_unchanged(tx, "client", &c.client_id, &entry_digest(c), None, true)
            .await
            .map_err(e)?
        {
            tally(&mut rep, false);
            continue;
        }
        let q = format!("SELECT {CLIENT_COLS} FROM clients WHERE client_id = $1");
        let cur: Option<ClientRow> = sqlx::query_as(&q)
            .bind(&c.client_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(e)?;
        let secret = pc.secret_hash.map(|h| h.0.to_vec());
        let (gt, ru, pl, sc) = (
            json_list(&c.grant_types),
            json_list(&c.redirect_uris),
            json_list(&c.post_logout_redirect_uris),
            json_list(&c.scopes),
        );
        let dialect = c.dialect.as_str();
        let same = |r: &ClientRow| {
            r.secret_hash == secret
                && r.dialect == dialect
                && r.grant_types == gt
                && r.redirect_uris == ru
                && r.post_logout_redirect_uris == pl
                && r.scopes == sc
                && r.tenant_id == tid
                && r.access_ttl == pc.access_ttl
                && r.refresh_ttl == pc.refresh_ttl
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
            .bind(id)
            .bind(&secret)
            .bind(dialect)
            .bind(&gt)
            .bind(&ru)
            .bind(&pl)
            .bind(&sc)
            .bind(tid)
            .bind(pc.access_ttl)
            .bind(pc.refresh_ttl)
            .bind(&c.client_id)
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(|x| inv(entry.clone(), map_err(x).to_string()))?;
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
            Some(name) => Some(
                user_id_by_name(tx, name)
                    .await
                    .map_err(e)?
                    .ok_or_else(|| inv(entry.clone(), format!("user {name:?} not found")))?,
            ),
            None => None,
        };
        if seen_unchanged(tx, "app_key", &a.app_key, &entry_digest(a), None, true)
            .await
            .map_err(e)?
        {
            tally(&mut rep, false);
            continue;
        }
        let cur: Option<AppKeyRow> = sqlx::query_as(
            "SELECT id, app_id, app_key, secret_hash, org_id, product_id, user_id, system_admin, enabled FROM app_keys WHERE app_key = $1",
        )
        .bind(&a.app_key).fetch_optional(&mut **tx).await.map_err(e)?;
        let secret = pa.secret_hash.0.to_vec();
        let same = |r: &AppKeyRow| {
            r.app_id == a.app_id
                && r.secret_hash == secret
                && r.org_id == oid
                && r.product_id == a.product
                && r.user_id == uid
                && r.system_admin == a.system_admin
                && r.enabled == a.enabled
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
                .bind(id)
                .bind(&a.app_id)
                .bind(&secret)
                .bind(oid)
                .bind(a.product)
                .bind(uid)
                .bind(a.system_admin)
                .bind(a.enabled)
                .bind(&a.app_key)
                .bind(now)
                .execute(&mut **tx)
                .await
                .map_err(|x| inv(entry.clone(), map_err(x).to_string()))?;
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
        if seen_unchanged(
            tx,
            "open_login_way",
            &w.code,
            &entry_digest(&(w, pos)),
            None,
            true,
        )
        .await
        .map_err(e)?
        {
            tally(&mut rep, false);
            continue;
        }
        let cur = sqlx::query("SELECT name, url, position FROM open_login_ways WHERE code = $1")
            .bind(&w.code)
            .fetch_optional(&mut **tx)
            .await
            .map_err(e)?;
        let cur: Option<(String, String, i64)> = match cur {
            Some(r) => Some((
                r.try_get(0).map_err(e)?,
                r.try_get(1).map_err(e)?,
                r.try_get(2).map_err(e)?,
            )),
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
