//! Applying a bootstrap file's tenants, orgs, products, their links and open login ways
//! (`bootstrap::apply` calls them in order).

use super::*;

/// The `[[tenants]]` entries.
pub(super) async fn apply_tenants(
    tx: &mut Tx<'_>,
    b: &PreparedBootstrap,
    now: UnixTime,
    rep: &mut BootstrapReport,
) -> Result<(), BootstrapError> {
    let e = map_err;
    for (i, t) in b.tenants.iter().enumerate() {
        if seen_unchanged(tx, "tenant", &t.code, &entry_digest(t), None, true)
            .await
            .map_err(e)?
        {
            tally(rep, false);
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
                tally(rep, false)
            }
            Some(_) => {
                sqlx::query("UPDATE tenants SET name = $1, enabled = $2, sso_url = $3, server_url = $4, sms_second_factor = $5 WHERE code = $6")
                    .bind(&t.name).bind(t.enabled).bind(&t.sso_url).bind(&t.server_url).bind(sms).bind(&t.code)
                    .execute(&mut **tx).await.map_err(e)?;
                tally(rep, true)
            }
            None => {
                sqlx::query("INSERT INTO tenants (id, code, name, enabled, sso_url, server_url, sms_second_factor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(t.id.unwrap_or_else(new_id)).bind(&t.code).bind(&t.name).bind(t.enabled).bind(&t.sso_url).bind(&t.server_url).bind(sms).bind(now)
                    .execute(&mut **tx).await.map_err(|x| inv(format!("tenants[{i}] ({})", t.code), map_err(x).to_string()))?;
                tally(rep, true)
            }
        }
    }
    Ok(())
}

/// The `[[orgs]]` entries.
pub(super) async fn apply_orgs(
    tx: &mut Tx<'_>,
    b: &PreparedBootstrap,

    rep: &mut BootstrapReport,
) -> Result<(), BootstrapError> {
    let e = map_err;
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
            tally(rep, false);
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
                tally(rep, false)
            }
            Some(c) => {
                sqlx::query("UPDATE orgs SET name = $1, org_type = $2, logo = $3, enabled = $5 WHERE id = $4")
                    .bind(&o.name).bind(ty).bind(&o.logo).bind(c.id).bind(o.enabled).execute(&mut **tx).await.map_err(e)?;
                tally(rep, true)
            }
            None => {
                sqlx::query("INSERT INTO orgs (id, tenant_id, code, name, org_type, logo, enabled) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(o.id.unwrap_or_else(new_id)).bind(tid).bind(&o.code).bind(&o.name).bind(ty).bind(&o.logo).bind(o.enabled)
                    .execute(&mut **tx).await.map_err(|x| inv(entry.clone(), map_err(x).to_string()))?;
                tally(rep, true)
            }
        }
    }
    Ok(())
}

/// The `[[products]]` entries.
pub(super) async fn apply_products(
    tx: &mut Tx<'_>,
    b: &PreparedBootstrap,

    rep: &mut BootstrapReport,
) -> Result<(), BootstrapError> {
    let e = map_err;
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
            tally(rep, false);
            continue;
        }
        let cur: Option<String> = sqlx::query_scalar("SELECT name FROM products WHERE id = $1")
            .bind(p.id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(e)?;
        match cur {
            Some(n) if n == p.name => tally(rep, false),
            Some(_) => {
                sqlx::query("UPDATE products SET name = $1 WHERE id = $2")
                    .bind(&p.name)
                    .bind(p.id)
                    .execute(&mut **tx)
                    .await
                    .map_err(e)?;
                tally(rep, true)
            }
            None => {
                sqlx::query("INSERT INTO products (id, name) VALUES ($1, $2)")
                    .bind(p.id)
                    .bind(&p.name)
                    .execute(&mut **tx)
                    .await
                    .map_err(e)?;
                tally(rep, true)
            }
        }
    }
    Ok(())
}

/// The `[[org_products]]` entries.
pub(super) async fn apply_org_products(
    tx: &mut Tx<'_>,
    b: &PreparedBootstrap,

    rep: &mut BootstrapReport,
) -> Result<(), BootstrapError> {
    let e = map_err;
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
            tally(rep, false);
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
            Some(n) if n == op.name => tally(rep, false),
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
                tally(rep, true)
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
                tally(rep, true)
            }
        }
    }
    Ok(())
}

/// The `[[open_login_ways]]` entries.
pub(super) async fn apply_open_login_ways(
    tx: &mut Tx<'_>,
    b: &PreparedBootstrap,

    rep: &mut BootstrapReport,
) -> Result<(), BootstrapError> {
    let e = map_err;
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
            tally(rep, false);
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
            Some((n, u, p)) if n == w.name && u == w.url && p == pos => tally(rep, false),
            _ => {
                sqlx::query("INSERT INTO open_login_ways (code, name, url, position) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (code) DO UPDATE SET name = excluded.name, url = excluded.url, position = excluded.position")
                    .bind(&w.code).bind(&w.name).bind(&w.url).bind(pos).execute(&mut **tx).await.map_err(e)?;
                tally(rep, true)
            }
        }
    }
    Ok(())
}
