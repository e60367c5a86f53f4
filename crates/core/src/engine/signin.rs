//! The sign-in pipeline: every password sign-in of every dialect and of the login page goes
//! through [`Engine::password_sign_in`], and every sign-in that ends in tokens or a browser
//! session through [`Engine::grant_tokens`] or [`Engine::open_session`]. A dialect parses its
//! request into these types, makes the calls and renders the typed outcome; it does not count,
//! audit or issue by itself (issue 16).
//!
//! The steps of a password sign-in, in order:
//! 1. **captcha gate** (seed 001's image captcha, where the origin uses it): required once the
//!    name or the IP has `login.captcha_after_failures` recent failures; spent by any attempt;
//! 2. **credential**: the password as sent, or decrypted from seed 001's RSA transport (an
//!    undecodable or replayed ciphertext counts as a failure);
//! 3. **source and policy** ([`Engine::password_login`]): the user by name, the password, the
//!    lockout, the account, tenant and role checks, the second factor;
//! 4. **bookkeeping**: a failure of the credential counts toward the captcha; every failure is
//!    audited with its typed outcome; a success clears the name's captcha count.
//!
//! A new identity source, factor or policy goes into step 3 (or a step of its own here) and so
//! reaches every dialect at once.

use super::{AuditKind, Engine, IssueRequest, Issued, LoginOutcome, PasswordLogin, SignedIn};
use crate::error::{EngineError, LoginFailure};
use crate::model::{Client, Dialect, SsoSession, TokenSubject};
use crate::secret::TokenFormat;

/// Where a sign-in comes from: what its audit events say, and whether the captcha applies.
#[derive(Debug, Clone)]
pub struct Origin {
    pub dialect: Dialect,
    /// The client the sign-in is for (none on the login page: the session serves many).
    pub client_id: Option<String>,
    pub ip: Option<String>,
    /// Context for the audit event (seed 001's device and source, "login page").
    pub detail: String,
    /// `Some`: the origin uses the captcha escalation (hoth, the login page), with the answer
    /// the caller sent, if any. `None`: no captcha (standard, cluster).
    pub captcha: Option<CaptchaAnswer>,
}

/// A captcha answer as sent: its key (`captchaKey`) and the characters read.
#[derive(Debug, Clone, Default)]
pub struct CaptchaAnswer {
    pub key: Option<String>,
    pub answer: Option<String>,
}

/// How the password in a [`PasswordLogin`] was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordForm {
    Clear,
    /// RSA-encrypted with the transport key, base64 (seed 001): decrypted in the bounded pool.
    Transported,
}

/// A password sign-in from any origin.
#[derive(Debug, Clone)]
pub struct PasswordSignIn {
    pub login: PasswordLogin,
    pub form: PasswordForm,
    pub origin: Origin,
}

/// Why a sign-in did not succeed, for the dialect to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInFailure {
    /// The captcha is required and no answer came.
    CaptchaMissing,
    /// The captcha is required and the answer (or its key) is wrong or spent.
    CaptchaWrong,
    /// A transported password that does not decrypt, or a replayed ciphertext.
    Undecodable,
    /// Every other outcome of the account and policy checks (including the steps that are
    /// not failures on the login page: the tenant choice, the second factor).
    Login(LoginFailure),
}

/// The tokens a signed-in user gets at a client.
#[derive(Debug, Clone)]
pub struct TokenGrant<'a> {
    pub client: &'a Client,
    pub scope: String,
    /// Seed 001's device: with `device_unique`, the tokens of the previous sign-in on this
    /// device at this client are revoked first.
    pub device_id: Option<String>,
    pub source_type: Option<String>,
    pub device_unique: bool,
    pub format: TokenFormat,
}

/// Why the captcha gate refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptchaRefusal {
    /// Required, and no answer came.
    Missing,
    /// Required, and the answer (or its key) is wrong or spent.
    Wrong,
}

impl Engine {
    /// Seed 001's image captcha where it is required (`name` or `ip` has
    /// `login.captcha_after_failures` recent failures): the answer is checked and the captcha
    /// spent. The one gate of every path that asks it (password sign-ins of hoth and the login
    /// page, hoth's SMS code).
    pub async fn captcha_gate(
        &self,
        name: Option<&str>,
        ip: Option<&str>,
        answer: &CaptchaAnswer,
    ) -> Result<Result<(), CaptchaRefusal>, EngineError> {
        if !self.captcha_required(name, ip).await? {
            return Ok(Ok(()));
        }
        let Some(given) = answer.answer.as_deref().filter(|a| !a.is_empty()) else {
            return Ok(Err(CaptchaRefusal::Missing));
        };
        let key = answer.key.as_deref().unwrap_or("");
        Ok(if self.check_captcha(key, given).await? {
            Ok(())
        } else {
            Err(CaptchaRefusal::Wrong)
        })
    }

    /// Steps 1 to 4 of a password sign-in (module documentation).
    pub async fn password_sign_in(
        &self,
        req: PasswordSignIn,
    ) -> Result<Result<SignedIn, SignInFailure>, EngineError> {
        let PasswordSignIn {
            mut login,
            form,
            origin,
        } = req;
        let name = login.name.value.clone();
        let ip = origin.ip.as_deref();
        if let Some(answer) = &origin.captcha {
            match self.captcha_gate(Some(&name), ip, answer).await? {
                Ok(()) => {}
                Err(CaptchaRefusal::Missing) => return Ok(Err(SignInFailure::CaptchaMissing)),
                Err(CaptchaRefusal::Wrong) => return Ok(Err(SignInFailure::CaptchaWrong)),
            }
        }
        let ciphertext = match form {
            PasswordForm::Clear => None,
            PasswordForm::Transported => {
                let sent = login.password.expose().to_string();
                match self.decrypt_password(&sent).await? {
                    Some(clear) => {
                        login.password = clear;
                        Some(sent)
                    }
                    None => {
                        // Counted like a wrong password: otherwise a padding oracle could be
                        // asked without limit (issue 15).
                        if origin.captcha.is_some() {
                            self.note_failure_for_captcha(&name, ip).await?;
                        }
                        self.audit_login_refused(
                            origin.dialect,
                            LoginOutcome::PasswordUndecodable,
                            &name,
                            origin.client_id.as_deref(),
                            origin.ip.clone(),
                            &origin.detail,
                        )
                        .await;
                        return Ok(Err(SignInFailure::Undecodable));
                    }
                }
            }
        };
        let outcome = self.password_login(login).await?;
        match &outcome {
            Ok(_) => {
                if origin.captcha.is_some() {
                    self.clear_failures_for_captcha(&name).await?;
                }
            }
            Err(f) => {
                if let Some(c) = &ciphertext {
                    // A failed sign-in gives its ciphertext back (`decrypt_password`).
                    self.forget_password_ciphertext(c).await;
                }
                let credential_failed = matches!(
                    f,
                    LoginFailure::UnknownUser
                        | LoginFailure::PasswordWrong { .. }
                        | LoginFailure::PasswordWrongNowLocked { .. }
                );
                if credential_failed && origin.captcha.is_some() {
                    self.note_failure_for_captcha(&name, ip).await?;
                }
                self.audit_login_failure(
                    origin.dialect,
                    f,
                    &name,
                    origin.client_id.as_deref(),
                    origin.ip.clone(),
                    &origin.detail,
                )
                .await;
            }
        }
        Ok(outcome.map_err(SignInFailure::Login))
    }

    /// Seed 001's sign-in by SMS code ([`Engine::sms_login`]): audited like a password sign-in,
    /// and a success clears the phone's captcha count (it may have been typed as a name).
    pub async fn sms_sign_in(
        &self,
        login: super::SmsLogin,
        origin: &Origin,
    ) -> Result<Result<SignedIn, LoginFailure>, EngineError> {
        let phone = login.phone.clone();
        let outcome = self.sms_login(login).await?;
        match &outcome {
            Ok(_) => self.clear_failures_for_captcha(&phone).await?,
            Err(f) => {
                self.audit_login_failure(
                    origin.dialect,
                    f,
                    &phone,
                    origin.client_id.as_deref(),
                    origin.ip.clone(),
                    &origin.detail,
                )
                .await
            }
        }
        Ok(outcome)
    }

    /// The tokens of a sign-in at a client: the previous ones of the device revoked when the
    /// client's dialect makes tokens device-unique, the grant issued, the success audited.
    pub async fn grant_tokens(
        &self,
        signed: &SignedIn,
        grant: TokenGrant<'_>,
        origin: &Origin,
    ) -> Result<Issued, EngineError> {
        let uid = signed.user.id;
        if grant.device_unique {
            if let Some(d) = &grant.device_id {
                self.revoke_device_tokens(uid, &grant.client.client_id, d)
                    .await?;
            }
        }
        let subject = TokenSubject {
            client_id: grant.client.client_id.clone(),
            user_id: Some(uid),
            tenant_id: Some(signed.membership.tenant.id),
            org_id: Some(signed.membership.org.id),
            app_key_id: None,
            scope: grant.scope,
            device_id: grant.device_id,
            source_type: grant.source_type,
            session_id: None,
        };
        let issued = self
            .issue(IssueRequest {
                client: grant.client,
                subject,
                refresh: true,
                format: grant.format,
            })
            .await?;
        self.audit_event(
            AuditKind::Login,
            origin.dialect,
            LoginOutcome::Success.as_str(),
            Some(uid),
            origin.client_id.as_deref(),
            origin.ip.clone(),
            origin.detail.clone(),
        )
        .await;
        Ok(issued)
    }

    /// The browser session of a sign-in on the login page (its cookie secret and the session),
    /// audited as a success.
    pub async fn open_session(
        &self,
        signed: &SignedIn,
        origin: &Origin,
    ) -> Result<(String, SsoSession), EngineError> {
        let (secret, session) = self.start_session(signed).await?;
        let detail = if origin.detail.is_empty() {
            format!("session {}", session.id)
        } else {
            format!("{}, session {}", origin.detail, session.id)
        };
        self.audit_event(
            AuditKind::Login,
            origin.dialect,
            LoginOutcome::Success.as_str(),
            Some(signed.user.id),
            origin.client_id.as_deref(),
            origin.ip.clone(),
            detail,
        )
        .await;
        Ok((secret, session))
    }
}
