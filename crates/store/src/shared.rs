//! Column lists and SELECT heads shared by the store's SQL (`generic/`). Both backends accept
//! `$n` placeholders, `ON CONFLICT`, booleans and BIGINT/BLOB(BYTEA).

/// Token rows as `TokenRow` reads them, from `tokens t`: `revoked_at` is the token's own or,
/// failing that, its family's (`revoked_families`, see `Store::revoke_family`).
pub(crate) const TOKEN_SELECT: &str =
    "SELECT t.kind, t.family_id, t.client_id, t.user_id, t.tenant_id, t.org_id, t.app_key_id, t.scope, \
     t.device_id, t.source_type, t.session_id, t.issued_at, t.expires_at, t.used_at, \
     COALESCE(t.revoked_at, rf.revoked_at) AS revoked_at, t.auth_time \
     FROM tokens t LEFT JOIN revoked_families rf ON rf.family_id = t.family_id";

pub(crate) const USER_COLS: &str = "id, username, phone, email, password_hash, user_type, source, display_name, real_name, \
     gender, birthday, title, employee_number, portrait, state, enabled, active, locked_until, expires_at, \
     phone_verified, email_verified, failed_attempts, created_at, superuser";

pub(crate) const CLIENT_COLS: &str =
    "id, client_id, secret_hash, dialect, grant_types, redirect_uris, post_logout_redirect_uris, \
     scopes, tenant_id, access_ttl, refresh_ttl";

pub(crate) const MEMBERSHIP_SELECT: &str = "SELECT m.user_id, m.roles, m.is_default, \
     t.id AS t_id, t.code AS t_code, t.name AS t_name, t.enabled AS t_enabled, t.sso_url AS t_sso_url, \
     t.server_url AS t_server_url, t.sms_second_factor AS t_sms, \
     o.id AS o_id, o.code AS o_code, o.name AS o_name, o.org_type AS o_type, o.logo AS o_logo, o.enabled AS o_enabled \
     FROM memberships m JOIN tenants t ON t.id = m.tenant_id JOIN orgs o ON o.id = m.org_id";
