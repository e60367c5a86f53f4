//! Products, their links to orgs and users, and open login ways.

use super::*;

pub(super) async fn open_login_ways(this: &S) -> Result<Vec<OpenLoginWay>, StoreError> {
    let rows = sqlx::query("SELECT code, name, url FROM open_login_ways ORDER BY position, code")
        .fetch_all(&this.pool)
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|r| {
            Ok(OpenLoginWay {
                code: r.try_get(0).map_err(map_err)?,
                name: r.try_get(1).map_err(map_err)?,
                url: r.try_get(2).map_err(map_err)?,
            })
        })
        .collect()
}

pub(super) async fn org_product_name(
    this: &S,
    org: OrgId,
    product: ProductId,
) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar("SELECT name FROM org_products WHERE org_id = $1 AND product_id = $2")
        .bind(org.0)
        .bind(product.0)
        .fetch_optional(&this.pool)
        .await
        .map_err(map_err)
}

pub(super) async fn user_product(
    this: &S,
    user: UserId,
    org: OrgId,
    product: ProductId,
) -> Result<Option<(UserProductId, bool)>, StoreError> {
    let r = sqlx::query("SELECT id, system_admin FROM user_products WHERE user_id = $1 AND org_id = $2 AND product_id = $3")
        .bind(user.0).bind(org.0).bind(product.0).fetch_optional(&this.pool).await.map_err(map_err)?;
    match r {
        Some(r) => Ok(Some((
            UserProductId(r.try_get(0).map_err(map_err)?),
            r.try_get(1).map_err(map_err)?,
        ))),
        None => Ok(None),
    }
}

pub(super) async fn list_products(this: &S) -> Result<Vec<Product>, StoreError> {
    let rows = sqlx::query("SELECT id, name FROM products ORDER BY id LIMIT 1000")
        .fetch_all(&this.pool)
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|r| {
            Ok(Product {
                id: ProductId(r.try_get(0).map_err(map_err)?),
                name: r.try_get(1).map_err(map_err)?,
            })
        })
        .collect()
}

pub(super) async fn put_product(this: &S, p: &Product) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO products (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name")
        .bind(p.id.0).bind(&p.name).execute(&this.writer).await.map_err(map_err)?;
    Ok(())
}

pub(super) async fn put_org_product(
    this: &S,
    org: OrgId,
    product: ProductId,
    name: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO org_products (org_id, product_id, name) VALUES ($1, $2, $3) ON CONFLICT (org_id, product_id) DO UPDATE SET name = excluded.name")
        .bind(org.0).bind(product.0).bind(name).execute(&this.writer).await.map_err(map_err)?;
    Ok(())
}

pub(super) async fn delete_org_product(
    this: &S,
    org: OrgId,
    product: ProductId,
) -> Result<bool, StoreError> {
    let r = sqlx::query("DELETE FROM org_products WHERE org_id = $1 AND product_id = $2")
        .bind(org.0)
        .bind(product.0)
        .execute(&this.writer)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected() > 0)
}

pub(super) async fn list_user_products(
    this: &S,
    user: UserId,
) -> Result<Vec<(String, String, ProductId, bool)>, StoreError> {
    let rows: Vec<(String, String, i64, bool)> = sqlx::query_as(
        "SELECT t.code, o.code, up.product_id, up.system_admin FROM user_products up \
         JOIN orgs o ON o.id = up.org_id JOIN tenants t ON t.id = o.tenant_id \
         WHERE up.user_id = $1 ORDER BY t.code, o.code, up.product_id",
    )
    .bind(user.0)
    .fetch_all(&this.pool)
    .await
    .map_err(map_err)?;
    Ok(rows
        .into_iter()
        .map(|(t, o, p, a)| (t, o, ProductId(p), a))
        .collect())
}

pub(super) async fn put_user_product(
    this: &S,
    id: UserProductId,
    user: UserId,
    org: OrgId,
    product: ProductId,
    system_admin: bool,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO user_products (id, user_id, org_id, product_id, system_admin) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (user_id, org_id, product_id) DO UPDATE SET system_admin = excluded.system_admin")
        .bind(id.0).bind(user.0).bind(org.0).bind(product.0).bind(system_admin).execute(&this.writer).await.map_err(map_err)?;
    Ok(())
}

pub(super) async fn delete_user_product(
    this: &S,
    user: UserId,
    org: OrgId,
    product: ProductId,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "DELETE FROM user_products WHERE user_id = $1 AND org_id = $2 AND product_id = $3",
    )
    .bind(user.0)
    .bind(org.0)
    .bind(product.0)
    .execute(&this.writer)
    .await
    .map_err(map_err)?;
    Ok(r.rows_affected() > 0)
}

pub(super) async fn put_open_login_way(
    this: &S,
    w: &OpenLoginWay,
    position: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO open_login_ways (code, name, url, position) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, url = excluded.url, position = excluded.position")
        .bind(&w.code).bind(&w.name).bind(&w.url).bind(position).execute(&this.writer).await.map_err(map_err)?;
    Ok(())
}

pub(super) async fn delete_open_login_way(this: &S, code: &str) -> Result<bool, StoreError> {
    let r = sqlx::query("DELETE FROM open_login_ways WHERE code = $1")
        .bind(code)
        .execute(&this.writer)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected() > 0)
}
