//! Rows as both backends return them, and their conversion to the model. Enums are stored as
//! their wire names and lists as JSON text; a value that does not parse is `Corrupt`.

use tessera_core::ids::*;
use tessera_core::model::*;
use tessera_core::secret::TokenHash;
use tessera_core::StoreError;

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {v:?}"))
}

pub(crate) fn json_list(v: &[impl serde::Serialize]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn parse_list<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<Vec<T>, StoreError> {
    serde_json::from_str(s).map_err(|_| corrupt(what, s))
}

fn hash_of(what: &str, b: Vec<u8>) -> Result<TokenHash, StoreError> {
    let arr: [u8; 32] = b
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{what}: not 32 bytes")))?;
    Ok(TokenHash(arr))
}

#[derive(sqlx::FromRow)]
pub(crate) struct TenantRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub enabled: bool,
    pub sso_url: String,
    pub server_url: String,
    pub sms_second_factor: String,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = StoreError;
    fn try_from(r: TenantRow) -> Result<Self, StoreError> {
        Ok(Tenant {
            id: TenantId(r.id),
            sms_second_factor: SmsSecondFactor::parse(&r.sms_second_factor)
                .ok_or_else(|| corrupt("sms_second_factor", &r.sms_second_factor))?,
            code: r.code,
            name: r.name,
            enabled: r.enabled,
            sso_url: r.sso_url,
            server_url: r.server_url,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OrgRow {
    pub id: i64,
    pub tenant_id: i64,
    pub code: String,
    pub name: String,
    pub org_type: String,
    pub logo: String,
    pub enabled: bool,
}

impl TryFrom<OrgRow> for Org {
    type Error = StoreError;
    fn try_from(r: OrgRow) -> Result<Self, StoreError> {
        Ok(Org {
            id: OrgId(r.id),
            tenant_id: TenantId(r.tenant_id),
            org_type: OrgType::parse(&r.org_type)
                .ok_or_else(|| corrupt("org_type", &r.org_type))?,
            code: r.code,
            name: r.name,
            logo: r.logo,
            enabled: r.enabled,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: i64,
    pub username: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub user_type: String,
    pub source: String,
    pub display_name: String,
    pub real_name: String,
    pub gender: i64,
    pub birthday: Option<String>,
    pub title: String,
    pub employee_number: String,
    pub portrait: String,
    pub state: String,
    pub enabled: bool,
    pub active: bool,
    pub locked_until: Option<i64>,
    pub expires_at: Option<i64>,
    pub phone_verified: bool,
    pub superuser: bool,
    pub email_verified: bool,
    pub failed_attempts: i64,
    pub created_at: i64,
}

pub(crate) fn user_type_str(t: UserType) -> &'static str {
    match t {
        UserType::P => "P",
        UserType::C => "C",
    }
}

pub(crate) fn source_str(s: UserSource) -> &'static str {
    match s {
        UserSource::Local => "local",
        UserSource::Ldap => "ldap",
    }
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId(r.id),
            user_type: match r.user_type.as_str() {
                "P" => UserType::P,
                "C" => UserType::C,
                o => return Err(corrupt("user_type", o)),
            },
            source: match r.source.as_str() {
                "local" => UserSource::Local,
                "ldap" => UserSource::Ldap,
                o => return Err(corrupt("source", o)),
            },
            username: r.username,
            phone: r.phone,
            email: r.email,
            password_hash: r.password_hash,
            display_name: r.display_name,
            real_name: r.real_name,
            gender: r.gender,
            birthday: r.birthday,
            title: r.title,
            employee_number: r.employee_number,
            portrait: r.portrait,
            state: r.state,
            enabled: r.enabled,
            active: r.active,
            locked_until: r.locked_until,
            expires_at: r.expires_at,
            phone_verified: r.phone_verified,
            superuser: r.superuser,
            email_verified: r.email_verified,
            failed_attempts: r.failed_attempts,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClientRow {
    pub id: i64,
    pub client_id: String,
    pub secret_hash: Option<Vec<u8>>,
    pub dialect: String,
    pub grant_types: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub scopes: String,
    pub tenant_id: Option<i64>,
    pub access_ttl: Option<i64>,
    pub refresh_ttl: Option<i64>,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;
    fn try_from(r: ClientRow) -> Result<Self, StoreError> {
        Ok(Client {
            row_id: ClientRowId(r.id),
            secret_hash: r
                .secret_hash
                .map(|b| hash_of("client secret", b))
                .transpose()?,
            dialect: Dialect::parse(&r.dialect).ok_or_else(|| corrupt("dialect", &r.dialect))?,
            grant_types: parse_list("grant_types", &r.grant_types)?,
            redirect_uris: parse_list("redirect_uris", &r.redirect_uris)?,
            post_logout_redirect_uris: parse_list(
                "post_logout_redirect_uris",
                &r.post_logout_redirect_uris,
            )?,
            scopes: parse_list("scopes", &r.scopes)?,
            client_id: ClientId(r.client_id),
            tenant_id: r.tenant_id.map(TenantId),
            access_ttl: r.access_ttl,
            refresh_ttl: r.refresh_ttl,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AppKeyRow {
    pub id: i64,
    pub app_id: String,
    pub app_key: String,
    pub secret_hash: Vec<u8>,
    pub org_id: i64,
    pub product_id: i64,
    pub user_id: Option<i64>,
    pub system_admin: bool,
    pub enabled: bool,
}

impl TryFrom<AppKeyRow> for AppKey {
    type Error = StoreError;
    fn try_from(r: AppKeyRow) -> Result<Self, StoreError> {
        Ok(AppKey {
            id: AppKeyId(r.id),
            app_id: r.app_id,
            app_key: r.app_key,
            secret_hash: hash_of("app secret", r.secret_hash)?,
            org_id: OrgId(r.org_id),
            product_id: ProductId(r.product_id),
            user_id: r.user_id.map(UserId),
            system_admin: r.system_admin,
            enabled: r.enabled,
        })
    }
}

/// A token row with its key, as `SPEND_REFRESH_SQL` returns it: the other columns packed into
/// one JSON array in [`TokenRow`]'s field order (serde reads a struct from an array).
#[derive(sqlx::FromRow)]
pub(crate) struct PackedTokenRow {
    pub hash: Vec<u8>,
    pub packed: String,
}

impl PackedTokenRow {
    pub(crate) fn unpack(&self) -> Result<TokenRow, StoreError> {
        serde_json::from_str(&self.packed).map_err(|e| corrupt("packed token row", &e.to_string()))
    }
}

#[derive(sqlx::FromRow, serde::Deserialize)]
pub(crate) struct TokenRow {
    pub kind: String,
    pub family_id: i64,
    pub client_id: String,
    pub user_id: Option<i64>,
    pub tenant_id: Option<i64>,
    pub org_id: Option<i64>,
    pub app_key_id: Option<i64>,
    pub scope: String,
    pub device_id: Option<String>,
    pub source_type: Option<String>,
    pub session_id: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// NULL for tokens issued before migration 0007: their own `issued_at` stands in.
    pub auth_time: Option<i64>,
}

impl TryFrom<TokenRow> for TokenRecord {
    type Error = StoreError;
    fn try_from(r: TokenRow) -> Result<Self, StoreError> {
        Ok(TokenRecord {
            kind: match r.kind.as_str() {
                "access" => TokenKind::Access,
                "refresh" => TokenKind::Refresh,
                o => return Err(corrupt("token kind", o)),
            },
            family: FamilyId(r.family_id),
            subject: TokenSubject {
                client_id: ClientId(r.client_id),
                user_id: r.user_id.map(UserId),
                tenant_id: r.tenant_id.map(TenantId),
                org_id: r.org_id.map(OrgId),
                app_key_id: r.app_key_id.map(AppKeyId),
                scope: r.scope,
                device_id: r.device_id,
                source_type: r.source_type,
                session_id: r.session_id,
            },
            issued_at: r.issued_at,
            auth_time: r.auth_time.unwrap_or(r.issued_at),
            expires_at: r.expires_at,
            used_at: r.used_at,
            revoked_at: r.revoked_at,
        })
    }
}

/// A membership joined with its tenant and org.
#[derive(sqlx::FromRow)]
pub(crate) struct MembershipRow {
    pub user_id: i64,
    pub roles: String,
    pub is_default: bool,
    pub t_id: i64,
    pub t_code: String,
    pub t_name: String,
    pub t_enabled: bool,
    pub t_sso_url: String,
    pub t_server_url: String,
    pub t_sms: String,
    pub o_id: i64,
    pub o_code: String,
    pub o_name: String,
    pub o_type: String,
    pub o_logo: String,
    pub o_enabled: bool,
}

impl TryFrom<MembershipRow> for Membership {
    type Error = StoreError;
    fn try_from(r: MembershipRow) -> Result<Self, StoreError> {
        Ok(Membership {
            user_id: UserId(r.user_id),
            roles: parse_list("roles", &r.roles)?,
            is_default: r.is_default,
            tenant: TenantRow {
                id: r.t_id,
                code: r.t_code,
                name: r.t_name,
                enabled: r.t_enabled,
                sso_url: r.t_sso_url,
                server_url: r.t_server_url,
                sms_second_factor: r.t_sms,
            }
            .try_into()?,
            org: OrgRow {
                id: r.o_id,
                tenant_id: r.t_id,
                code: r.o_code,
                name: r.o_name,
                org_type: r.o_type,
                logo: r.o_logo,
                enabled: r.o_enabled,
            }
            .try_into()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub at: i64,
    pub kind: String,
    pub dialect: String,
    pub outcome: String,
    pub user_id: Option<i64>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub detail: String,
}

impl From<AuditRow> for AuditEvent {
    fn from(r: AuditRow) -> Self {
        AuditEvent {
            at: r.at,
            kind: r.kind,
            dialect: r.dialect,
            outcome: r.outcome,
            user_id: r.user_id.map(UserId),
            client_id: r.client_id,
            ip: r.ip,
            detail: r.detail,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub id: String,
    pub user_id: i64,
    pub tenant_id: Option<i64>,
    pub created_at: i64,
    pub last_seen: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl From<SessionRow> for SsoSession {
    fn from(r: SessionRow) -> Self {
        SsoSession {
            id: r.id,
            user_id: UserId(r.user_id),
            tenant_id: r.tenant_id.map(TenantId),
            created_at: r.created_at,
            last_seen: r.last_seen,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        }
    }
}
