//! Applying a bootstrap file's users, memberships, clients and app keys (`bootstrap::apply`
//! calls them in order).

use super::*;

/// The `[[users]]` entries.
pub(super) async fn apply_users(
    tx: &mut Tx<'_>,
    b: &PreparedBootstrap,
    now: UnixTime,
    rep: &mut BootstrapReport,
) -> Result<(), BootstrapError> {
    let e = map_err;
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
            tally(rep, false);
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
                && c.superuser == u.superuser
                && c.expires_at == pu.expires_at
                && (pu.locked_until.is_none() || c.locked_until == pu.locked_until)
        };
        let (sql, id) = match &cur {
            Some(c) if same(c) => {
                tally(rep, false);
                continue;
            }
            Some(c) => (
                "UPDATE users SET phone = $2, email = $3, password_hash = $4, user_type = $5, source = $6, display_name = $7, \
                 real_name = $8, gender = $9, birthday = $10, title = $11, employee_number = $12, portrait = $13, state = $14, \
                 enabled = $15, active = $16, phone_verified = $17, email_verified = $18, expires_at = $19, \
                 locked_until = COALESCE($20, locked_until), superuser = $24 WHERE id = $1 AND username = $21 AND $22 = $22 AND $23 = $23",
                c.id,
            ),
            None => (
                "INSERT INTO users (id, phone, email, password_hash, user_type, source, display_name, real_name, gender, birthday, \
                 title, employee_number, portrait, state, enabled, active, phone_verified, email_verified, expires_at, locked_until, \
                 username, created_at, username_key, failed_attempts, superuser) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, 0, $24)",
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
            .bind(u.superuser)
            .execute(&mut **tx)
            .await
            .map_err(|x| inv(entry.clone(), map_err(x).to_string()))?;
        tally(rep, true);
    }
    Ok(())
}

/// The `[[memberships]]` entries.
pub(super) async fn apply_memberships(
    tx: &mut Tx<'_>,
    b: &PreparedBootstrap,

    rep: &mut BootstrapReport,
) -> Result<(), BootstrapError> {
    let e = map_err;
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
            tally(rep, false);
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
            Some((r, d)) if r == roles && d == m.default => tally(rep, false),
            Some(_) => {
                sqlx::query("UPDATE memberships SET roles = $1, is_default = $2 WHERE user_id = $3 AND tenant_id = $4 AND org_id = $5")
                    .bind(&roles).bind(m.default).bind(uid).bind(tid).bind(oid).execute(&mut **tx).await.map_err(e)?;
                tally(rep, true)
            }
            None => {
                sqlx::query("INSERT INTO memberships (user_id, tenant_id, org_id, roles, is_default) VALUES ($1, $2, $3, $4, $5)")
                    .bind(uid).bind(tid).bind(oid).bind(&roles).bind(m.default).execute(&mut **tx).await.map_err(e)?;
                tally(rep, true)
            }
        }
    }
    Ok(())
}

/// The `[[clients]]` entries.
pub(super) async fn apply_clients(
    tx: &mut Tx<'_>,
    b: &PreparedBootstrap,
    now: UnixTime,
    rep: &mut BootstrapReport,
) -> Result<(), BootstrapError> {
    let e = map_err;
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
            tally(rep, false);
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
                tally(rep, false);
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
        tally(rep, true);
    }
    Ok(())
}

/// The `[[app_keys]]` entries.
pub(super) async fn apply_app_keys(
    tx: &mut Tx<'_>,
    b: &PreparedBootstrap,
    now: UnixTime,
    rep: &mut BootstrapReport,
) -> Result<(), BootstrapError> {
    let e = map_err;
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
            tally(rep, false);
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
                tally(rep, false);
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
            tally(rep, true);
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
    Ok(())
}
