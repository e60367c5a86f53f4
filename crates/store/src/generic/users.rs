//! Users: lookup by id, name key, phone or e-mail; failures and locks; admin changes; known devices.

use super::*;

pub(super) async fn user_by_id(this: &S, id: UserId) -> Result<Option<User>, StoreError> {
    let q = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
    let r: Option<UserRow> = sqlx::query_as(&q)
        .bind(id.0)
        .fetch_optional(&this.pool)
        .await
        .map_err(map_err)?;
    r.map(User::try_from).transpose()
}

pub(super) async fn user_by_login(
    this: &S,
    field: LoginField,
    value: &str,
) -> Result<Option<User>, StoreError> {
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
    let r: Option<UserRow> = sqlx::query_as(&q)
        .bind(value)
        .fetch_optional(&this.pool)
        .await
        .map_err(map_err)?;
    r.map(User::try_from).transpose()
}

pub(super) async fn users_holding(
    this: &S,
    field: LoginField,
    value: &str,
) -> Result<Vec<User>, StoreError> {
    let (cond, value) = match field {
        LoginField::Username => ("username_key = $1", value.to_string()),
        LoginField::Phone => ("phone = $1", value.to_string()),
        // `users_by_lower_email` (migration 0008).
        LoginField::Email => ("lower(email) = $1", value.to_lowercase()),
    };
    let q = format!("SELECT {USER_COLS} FROM users WHERE {cond} ORDER BY id LIMIT 20");
    let rows: Vec<UserRow> = sqlx::query_as(&q)
        .bind(value)
        .fetch_all(&this.pool)
        .await
        .map_err(map_err)?;
    rows.into_iter().map(User::try_from).collect()
}

pub(super) async fn username_keys(
    this: &S,
    after: Option<UserId>,
    limit: i64,
) -> Result<Vec<UsernameKeyRow>, StoreError> {
    let rows: Vec<(i64, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT id, username, username_key, created_at FROM users WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2")
        .bind(after.map(|u| u.0)).bind(limit).fetch_all(&this.pool).await.map_err(map_err)?;
    Ok(rows
        .into_iter()
        .map(|(id, username, key, created_at)| UsernameKeyRow {
            id: UserId(id),
            username,
            key,
            created_at,
        })
        .collect())
}

pub(super) async fn shadowed_names(
    this: &S,
    limit: i64,
) -> Result<Vec<(String, String, LoginField)>, StoreError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT u.username, o.username, 'phone' FROM users u JOIN users o ON o.phone = u.username_key AND o.id <> u.id \
         UNION ALL \
         SELECT u.username, o.username, 'email' FROM users u JOIN users o ON lower(o.email) = u.username_key AND o.id <> u.id \
         LIMIT $1")
        .bind(limit).fetch_all(&this.pool).await.map_err(map_err)?;
    Ok(rows
        .into_iter()
        .map(|(u, o, f)| {
            (
                u,
                o,
                if f == "phone" {
                    LoginField::Phone
                } else {
                    LoginField::Email
                },
            )
        })
        .collect())
}

pub(super) async fn set_username_key(
    this: &S,
    id: UserId,
    key: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET username_key = $2 WHERE id = $1")
        .bind(id.0)
        .bind(key)
        .execute(&this.writer)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub(super) async fn memberships_of(this: &S, user: UserId) -> Result<Vec<Membership>, StoreError> {
    let q = format!(
        "{MEMBERSHIP_SELECT} WHERE m.user_id = $1 ORDER BY m.is_default DESC, t.code, o.code"
    );
    let rows: Vec<MembershipRow> = sqlx::query_as(&q)
        .bind(user.0)
        .fetch_all(&this.pool)
        .await
        .map_err(map_err)?;
    rows.into_iter().map(Membership::try_from).collect()
}

pub(super) async fn record_password_failure(
    this: &S,
    user: UserId,
    max: i64,
    lock_until: UnixTime,
) -> Result<FailureCount, StoreError> {
    // One statement, so that concurrent failures all count. The right-hand
    // sides read the old row in both databases.
    let row = sqlx::query(
        "UPDATE users SET \
           failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END, \
           locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END \
         WHERE id = $1 RETURNING failed_attempts, locked_until",
    )
    .bind(user.0).bind(max).bind(lock_until)
    .fetch_optional(&this.writer).await.map_err(map_err)?;
    let Some(row) = row else {
        return Ok(FailureCount {
            failures: 0,
            locked_until: None,
        });
    };
    let failures: i64 = row.try_get(0).map_err(map_err)?;
    let locked: Option<i64> = row.try_get(1).map_err(map_err)?;
    Ok(FailureCount {
        failures,
        locked_until: locked.filter(|l| *l == lock_until && failures == 0),
    })
}

pub(super) async fn record_login_success(
    this: &S,
    user: UserId,
    new_hash: Option<&str>,
) -> Result<(), StoreError> {
    match new_hash {
        Some(h) => {
            sqlx::query("UPDATE users SET failed_attempts = 0, password_hash = $2 WHERE id = $1")
                .bind(user.0)
                .bind(h)
        }
        None => sqlx::query(
            "UPDATE users SET failed_attempts = 0 WHERE id = $1 AND failed_attempts <> 0",
        )
        .bind(user.0),
    }
    .execute(&this.writer)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(super) async fn is_known_device(
    this: &S,
    user: UserId,
    device_key: &str,
) -> Result<bool, StoreError> {
    let r: Option<i64> = sqlx::query_scalar(
        "SELECT first_seen FROM known_devices WHERE user_id = $1 AND device_key = $2",
    )
    .bind(user.0)
    .bind(device_key)
    .fetch_optional(&this.pool)
    .await
    .map_err(map_err)?;
    Ok(r.is_some())
}

pub(super) async fn remember_device(
    this: &S,
    user: UserId,
    device_key: &str,
    now: UnixTime,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO known_devices (user_id, device_key, first_seen) VALUES ($1, $2, $3) ON CONFLICT (user_id, device_key) DO NOTHING")
        .bind(user.0).bind(device_key).bind(now).execute(&this.writer).await.map_err(map_err)?;
    Ok(())
}

pub(super) async fn list_users(this: &S, f: &UserFilter) -> Result<(Vec<User>, i64), StoreError> {
    // Fixed SQL with optional filters ($n IS NULL OR …): one prepared statement.
    let cond = "($1 IS NULL OR u.username = $1) AND ($2 IS NULL OR u.phone = $2) AND ($3 IS NULL OR u.enabled = $3) \
                AND ($4 IS NULL OR EXISTS (SELECT 1 FROM memberships m JOIN tenants t ON t.id = m.tenant_id WHERE m.user_id = u.id AND t.code = $4))";
    let cols = USER_COLS
        .split(", ")
        .map(|c| format!("u.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let q =
        format!("SELECT {cols} FROM users u WHERE {cond} ORDER BY u.username LIMIT $5 OFFSET $6");
    let rows: Vec<UserRow> = sqlx::query_as(&q)
        .bind(&f.username)
        .bind(&f.phone)
        .bind(f.enabled)
        .bind(&f.tenant)
        .bind(f.limit)
        .bind(f.offset)
        .fetch_all(&this.pool)
        .await
        .map_err(map_err)?;
    let cq = format!("SELECT COUNT(*) FROM users u WHERE {cond}");
    let total: i64 = sqlx::query_scalar(&cq)
        .bind(&f.username)
        .bind(&f.phone)
        .bind(f.enabled)
        .bind(&f.tenant)
        .fetch_one(&this.pool)
        .await
        .map_err(map_err)?;
    Ok((
        rows.into_iter()
            .map(User::try_from)
            .collect::<Result<_, _>>()?,
        total,
    ))
}

pub(super) async fn create_user(
    this: &S,
    u: &NewUser,
    id: UserId,
    now: UnixTime,
) -> Result<(), StoreError> {
    // The engine refuses such a name first (`Engine::check_user_names`).
    let key = tessera_core::names::username_key(&u.username)
        .map_err(|p| StoreError::Other(format!("username {p}")))?;
    sqlx::query("INSERT INTO users (id, username, phone, email, password_hash, user_type, source, display_name, real_name, gender, title, \
                 employee_number, portrait, state, enabled, active, phone_verified, email_verified, failed_attempts, created_at, username_key, superuser) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'local', $7, $8, 0, '', '', '', '', $9, $10, $11, $11, 0, $12, $13, $14)")
        .bind(id.0).bind(&u.username).bind(&u.phone).bind(&u.email).bind(&u.password_hash).bind(user_type_str(u.user_type))
        .bind(&u.display_name).bind(&u.real_name).bind(u.enabled).bind(u.active).bind(false).bind(now).bind(key).bind(u.superuser)
        .execute(&this.writer).await.map_err(map_err)?;
    Ok(())
}

pub(super) async fn update_user(this: &S, id: UserId, p: &UserPatch) -> Result<bool, StoreError> {
    let mut tx = this.writer.begin().await.map_err(map_err)?;
    let q = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
    let Some(cur): Option<UserRow> = sqlx::query_as(&q)
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?
    else {
        return Ok(false);
    };
    sqlx::query("UPDATE users SET phone = $2, email = $3, display_name = $4, real_name = $5, title = $6, enabled = $7, active = $8, \
                 expires_at = $9, phone_verified = $10, email_verified = $11, superuser = $12 WHERE id = $1")
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
        .bind(p.superuser.unwrap_or(cur.superuser))
        .execute(&mut *tx).await.map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(true)
}

pub(super) async fn set_password_hash(
    this: &S,
    id: UserId,
    hash: &str,
) -> Result<bool, StoreError> {
    let r = sqlx::query("UPDATE users SET password_hash = $2, failed_attempts = 0, locked_until = NULL WHERE id = $1")
        .bind(id.0).bind(hash).execute(&this.writer).await.map_err(map_err)?;
    Ok(r.rows_affected() > 0)
}

pub(super) async fn unlock_user(this: &S, id: UserId) -> Result<bool, StoreError> {
    let r = sqlx::query("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = $1")
        .bind(id.0)
        .execute(&this.writer)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected() > 0)
}

pub(super) async fn set_user_creator(
    this: &S,
    id: UserId,
    tenant: TenantId,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET created_by_tenant = $2 WHERE id = $1")
        .bind(id.0)
        .bind(tenant.0)
        .execute(&this.writer)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub(super) async fn user_creator(this: &S, id: UserId) -> Result<Option<TenantId>, StoreError> {
    let t: Option<Option<i64>> =
        sqlx::query_scalar("SELECT created_by_tenant FROM users WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&this.pool)
            .await
            .map_err(map_err)?;
    Ok(t.flatten().map(TenantId))
}

pub(super) async fn bootstrap_user_secret(
    this: &S,
    username: &str,
) -> Result<Option<String>, StoreError> {
    let s: Option<Option<String>> = sqlx::query_scalar(
        "SELECT secret FROM bootstrap_applied WHERE kind = 'user' AND entry_key = $1",
    )
    .bind(username)
    .fetch_optional(&this.pool)
    .await
    .map_err(map_err)?;
    Ok(s.flatten())
}
