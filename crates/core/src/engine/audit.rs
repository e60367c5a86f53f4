//! The audit log. Anyone can make a sign-in fail, so whatever a failed sign-in leaves behind is
//! bounded and never holds what was typed unless it names a user (docs/decisions.md, "Audit
//! log: bounded, no unknown names in clear"):
//!
//! - every text field of every event is cut on a character boundary in [`Engine::audit`], the
//!   one door to the store: the detail to [`AUDIT_DETAIL_MAX`] bytes, the client id, IP, kind,
//!   dialect and outcome to [`AUDIT_FIELD_MAX`] bytes;
//! - the name a sign-in was tried with is written as given (cut to [`AUDIT_NAME_MAX`] bytes)
//!   only when a user answers to it; otherwise as [`unknown_name`]: `unknown:sha256:` and the
//!   first 16 hex digits of the SHA-256 of the name, so that a password typed into the
//!   username field is not kept, while repeated tries of one name still group together.

use super::Engine;
use crate::ids::UserId;
use crate::model::{AuditEvent, Dialect};
use sha2::{Digest, Sha256};

/// Bytes kept of an event's detail.
pub const AUDIT_DETAIL_MAX: usize = 192;
/// Bytes kept of each other text field of an event (client id, IP, kind, dialect, outcome).
pub const AUDIT_FIELD_MAX: usize = 128;
/// Bytes kept of one value inside a detail (a sign-in name, a device id).
pub const AUDIT_NAME_MAX: usize = 48;

/// `s` cut to at most `max` bytes on a character boundary; a text that was cut ends with `…`.
pub fn audit_text(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mark = '…'.len_utf8();
    let mut end = if max >= mark { max - mark } else { max };
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    if max >= mark {
        format!("{}…", &s[..end])
    } else {
        s[..end].to_string()
    }
}

/// How a sign-in name that matches no user is written in the audit log:
/// `unknown:sha256:<the first 16 hex digits of SHA-256 of the name's UTF-8 bytes, as given>`
/// (`printf %s NAME | sha256sum | cut -c1-16` finds the tries of one name).
pub fn unknown_name(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    let hex = hex::encode(digest);
    format!("unknown:sha256:{}", &hex[..16])
}

/// A sign-in name as the audit log shows it: as given (cut) when `user` answers to it, else
/// [`unknown_name`].
fn shown_name(name: &str, user: Option<UserId>) -> String {
    match user {
        Some(_) => audit_text(name, AUDIT_NAME_MAX),
        None => unknown_name(name),
    }
}

/// What an audit event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    /// A sign-in of any dialect, page or protocol.
    Login,
    /// An operation of the admin API (or, later, the console).
    Admin,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Login => "login",
            AuditKind::Admin => "admin",
        }
    }
}

/// How a sign-in ended, as its audit event says: a success, one of the account and policy
/// refusals ([`crate::error::LoginFailure`], by its name), or a refusal before those checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    Success,
    Refused(&'static str),
    /// A transported password that did not decrypt, or a replayed ciphertext (seed 001).
    PasswordUndecodable,
    /// Unknown app key, wrong app id or secret (seed 002).
    BadCredentials,
    /// The app key, its org, tenant or user is disabled (seed 002).
    KeyDisabled,
}

impl LoginOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginOutcome::Success => "success",
            LoginOutcome::Refused(name) => name,
            LoginOutcome::PasswordUndecodable => "password_undecodable",
            LoginOutcome::BadCredentials => "bad_credentials",
            LoginOutcome::KeyDisabled => "key_disabled",
        }
    }
}

/// What an admin operation did (the `outcome` of a `kind = "admin"` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    UserCreate,
    UserUpdate,
    UserPasswordReset,
    UserUnlock,
    UserTokensRevoke,
    SessionRevoke,
    TenantCreate,
    TenantUpdate,
    OrgCreate,
    OrgUpdate,
    MembershipPut,
    MembershipDelete,
    ProductCreate,
    ProductUpdate,
    OrgProductPut,
    OrgProductDelete,
    UserProductPut,
    UserProductDelete,
    OpenLoginWayPut,
    OpenLoginWayDelete,
    AppKeyCreate,
    AppKeyUpdate,
    AppKeySecretRotate,
    ClientCreate,
    ClientUpdate,
    ClientSecretRotate,
    ClientDelete,
}

impl AdminAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AdminAction::UserCreate => "user.create",
            AdminAction::UserUpdate => "user.update",
            AdminAction::UserPasswordReset => "user.password_reset",
            AdminAction::UserUnlock => "user.unlock",
            AdminAction::UserTokensRevoke => "user.tokens_revoke",
            AdminAction::SessionRevoke => "session.revoke",
            AdminAction::TenantCreate => "tenant.create",
            AdminAction::TenantUpdate => "tenant.update",
            AdminAction::OrgCreate => "org.create",
            AdminAction::OrgUpdate => "org.update",
            AdminAction::MembershipPut => "membership.put",
            AdminAction::MembershipDelete => "membership.delete",
            AdminAction::ProductCreate => "product.create",
            AdminAction::ProductUpdate => "product.update",
            AdminAction::OrgProductPut => "org_product.put",
            AdminAction::OrgProductDelete => "org_product.delete",
            AdminAction::UserProductPut => "user_product.put",
            AdminAction::UserProductDelete => "user_product.delete",
            AdminAction::OpenLoginWayPut => "open_login_way.put",
            AdminAction::OpenLoginWayDelete => "open_login_way.delete",
            AdminAction::AppKeyCreate => "app_key.create",
            AdminAction::AppKeyUpdate => "app_key.update",
            AdminAction::AppKeySecretRotate => "app_key.secret_rotate",
            AdminAction::ClientCreate => "client.create",
            AdminAction::ClientUpdate => "client.update",
            AdminAction::ClientSecretRotate => "client.secret_rotate",
            AdminAction::ClientDelete => "client.delete",
        }
    }
}

impl Engine {
    /// Writes an audit event, every text field bounded (see the module); a failure to write is
    /// logged, never shown to the caller.
    pub(crate) async fn audit(&self, mut e: AuditEvent) {
        for field in [&mut e.kind, &mut e.dialect, &mut e.outcome] {
            if field.len() > AUDIT_FIELD_MAX {
                *field = audit_text(field, AUDIT_FIELD_MAX);
            }
        }
        for field in [&mut e.client_id, &mut e.ip].into_iter().flatten() {
            if field.len() > AUDIT_FIELD_MAX {
                *field = audit_text(field, AUDIT_FIELD_MAX);
            }
        }
        if e.detail.len() > AUDIT_DETAIL_MAX {
            e.detail = audit_text(&e.detail, AUDIT_DETAIL_MAX);
        }
        if e.kind == AuditKind::Login.as_str() {
            metrics::counter!("tessera_sign_ins_total", "dialect" => e.dialect.clone(), "outcome" => e.outcome.clone()).increment(1);
        }
        if let Err(err) = self.store.record_audit(&e).await {
            tracing::error!(error = %err, kind = %e.kind, "audit event not written");
        }
    }

    /// Records an audit event with a free-form detail (never a password or a token; bounded
    /// like every event).
    #[allow(clippy::too_many_arguments)]
    pub async fn audit_event(
        &self,
        kind: AuditKind,
        dialect: Dialect,
        outcome: &str,
        user: Option<UserId>,
        client: Option<&str>,
        ip: Option<String>,
        detail: String,
    ) {
        self.audit(AuditEvent {
            at: self.now(),
            kind: kind.as_str().into(),
            dialect: dialect.as_str().into(),
            outcome: outcome.into(),
            user_id: user,
            client_id: client.map(str::to_string),
            ip,
            detail,
        })
        .await
    }

    /// Records a failed sign-in: the failure's name as the outcome, the name tried in the
    /// detail (as given when a user answers to it, else [`unknown_name`]), and the user's id
    /// whenever a user answers to that name (every failure but `UnknownUser`), so that
    /// `GET /admin/api/v1/audit?user=` finds failed attempts too.
    #[allow(clippy::too_many_arguments)]
    pub async fn audit_login_failure(
        &self,
        dialect: Dialect,
        failure: &crate::error::LoginFailure,
        name: &str,
        client: Option<&str>,
        ip: Option<String>,
        detail: &str,
    ) {
        use crate::error::LoginFailure as F;
        let user = match failure {
            F::ChooseTenant { user, .. } | F::SecondFactorRequired { user, .. } => Some(*user),
            F::UnknownUser => None,
            _ => self.user_answering_to(name).await,
        };
        let outcome = LoginOutcome::Refused(failure.name());
        self.audit_named_login(dialect, outcome, user, name, client, ip, detail)
            .await
    }

    /// Records a sign-in refused before any account check (`outcome`, e.g. a password that
    /// did not decrypt), with the name tried written as [`Engine::audit_login_failure`] does.
    pub async fn audit_login_refused(
        &self,
        dialect: Dialect,
        outcome: LoginOutcome,
        name: &str,
        client: Option<&str>,
        ip: Option<String>,
        detail: &str,
    ) {
        let user = self.user_answering_to(name).await;
        self.audit_named_login(dialect, outcome, user, name, client, ip, detail)
            .await
    }

    /// Records a sign-in (success or the failure's name) in the audit log.
    pub async fn audit_login(
        &self,
        dialect: Dialect,
        outcome: LoginOutcome,
        user: Option<UserId>,
        client: Option<&str>,
        ip: Option<String>,
    ) {
        self.audit_event(
            AuditKind::Login,
            dialect,
            outcome.as_str(),
            user,
            client,
            ip,
            String::new(),
        )
        .await
    }

    /// The user a sign-in name finds (any login field), for the audit; `None` if none or if
    /// the lookup failed (logged).
    async fn user_answering_to(&self, name: &str) -> Option<UserId> {
        let login = super::LoginName {
            value: name.to_string(),
            field: None,
        };
        match self.find_user(&login, None).await {
            Ok(found) => found.map(|(u, _)| u.id),
            Err(e) => {
                tracing::warn!(error = %e, "audit: the user of a failed sign-in was not looked up");
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn audit_named_login(
        &self,
        dialect: Dialect,
        outcome: LoginOutcome,
        user: Option<UserId>,
        name: &str,
        client: Option<&str>,
        ip: Option<String>,
        detail: &str,
    ) {
        // The name is kept whole; the caller's detail gets the room left.
        let tail = format!("name={}", shown_name(name, user));
        let detail = if detail.is_empty() {
            tail
        } else {
            let room = AUDIT_DETAIL_MAX.saturating_sub(tail.len() + 1);
            format!("{} {tail}", audit_text(detail, room))
        };
        self.audit_event(
            AuditKind::Login,
            dialect,
            outcome.as_str(),
            user,
            client,
            ip,
            detail,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_is_cut_on_a_character_boundary_and_marked() {
        assert_eq!(audit_text("short", 10), "short");
        let cut = audit_text(&"é".repeat(100), 11);
        assert!(cut.len() <= 11, "{cut}");
        assert!(cut.ends_with('…'));
        assert_eq!(cut, "éééé…");
        assert_eq!(audit_text("abcdef", 3), "…");
        assert_eq!(audit_text("abcdef", 2), "ab");
    }

    #[test]
    fn an_unknown_name_is_a_marker_and_a_short_digest() {
        let shown = unknown_name("S3cretPassw0rd!");
        assert!(shown.starts_with("unknown:sha256:"));
        assert_eq!(shown.len(), "unknown:sha256:".len() + 16);
        assert!(!shown.contains("S3cret"));
        assert_eq!(shown, unknown_name("S3cretPassw0rd!"));
        assert_ne!(shown, unknown_name("s3cretPassw0rd!"));
    }
}
