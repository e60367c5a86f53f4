//! Operations: the ping of `/readyz` and the pool figures of `/metrics`.

use super::*;

pub(super) fn pool_usage(this: &S) -> (u32, usize) {
    (this.pool.size(), this.pool.num_idle())
}

pub(super) async fn ping(this: &S) -> Result<(), StoreError> {
    sqlx::query("SELECT 1")
        .execute(&this.pool)
        .await
        .map_err(map_err)?;
    Ok(())
}
