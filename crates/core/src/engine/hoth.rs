//! What seed 001 adds to sign-in, as engine policy: the RSA password transport with a replay
//! cache, image-captcha escalation after failures (per username and per client IP), sign-in by
//! SMS code, and device-unique tokens.

use super::{Engine, SignedIn, TenantChoice};
use crate::error::{EngineError, LoginFailure, SmsLoginFailure};
use crate::ids::{ClientId, UserId};
use crate::model::{LoginField, UserType};
use crate::secret::{Secret, TokenHash};
use crate::sms::{CodeCheck, SmsPurpose};

/// A sign-in by SMS code (seed 001's `grant_type=implicit`).
#[derive(Debug, Clone)]
pub struct SmsLogin {
    pub phone: String,
    /// The SMS code (the seed calls it `captcha`).
    pub code: Option<String>,
    /// What `POST /oauth/public/captcha/sms` answered (`captchaKey`).
    pub key: Option<String>,
    pub user_type: Option<UserType>,
    pub tenant: Option<crate::ids::TenantId>,
}

/// Counted per username key (`names::username_key`), so that `ａｌｉｃｅ` and `alice` share
/// one count as they share one account.
fn fail_user_key(username: &str) -> String {
    let key = crate::names::username_key(username).unwrap_or_else(|_| crate::names::fold(username));
    format!("captcha:fail:user:{key}")
}

fn fail_ip_key(ip: &str) -> String {
    format!("captcha:fail:ip:{ip}")
}

impl Engine {
    /// The RSA public key passwords are encrypted with (base64 DER SubjectPublicKeyInfo).
    pub fn transport_public_key(&self) -> String {
        self.transport.public_key()
    }

    /// Decrypts a transported password and claims the ciphertext; `None` if it does not
    /// decrypt or is claimed. A ciphertext is claimed when it decrypts, so two concurrent
    /// replays cannot both pass, and given back when its sign-in fails
    /// ([`Engine::password_sign_in`]): replaying a wrong password gains an attacker nothing
    /// (anyone can encrypt with the public key), and clients that re-send one ciphertext while
    /// counting down the attempts get the seed's codes.
    pub(super) async fn decrypt_password(
        &self,
        ciphertext_b64: &str,
    ) -> Result<Option<Secret>, EngineError> {
        // RSA work in the bounded pool: a flood of ciphertexts queues there (and answers 503
        // when it is full) instead of taking the async threads.
        let transport = self.transport.clone();
        let ciphertext = ciphertext_b64.trim().to_string();
        let decrypted = self
            .hasher
            .run(move || transport.decrypt(&ciphertext))
            .await?;
        let Some(clear) = decrypted else {
            return Ok(None);
        };
        let seen = format!("rsa:seen:{}", TokenHash::of(ciphertext_b64.trim()).to_hex());
        if !self
            .ephemeral
            .put_new(&seen, "1", self.cfg.replay_window)
            .await?
        {
            tracing::warn!("password ciphertext replayed: refused");
            return Ok(None);
        }
        Ok(Some(clear))
    }

    /// Gives back the claim `decrypt_password` took on a ciphertext whose sign-in failed.
    pub(super) async fn forget_password_ciphertext(&self, ciphertext_b64: &str) {
        let seen = format!("rsa:seen:{}", TokenHash::of(ciphertext_b64.trim()).to_hex());
        if let Err(e) = self.ephemeral.delete(&seen).await {
            tracing::warn!(error = %e, "could not forget a password ciphertext");
        }
    }

    /// Keeps a captcha answer (hashed, case-insensitive) and answers its key.
    pub async fn store_captcha(&self, answer: &str) -> Result<String, EngineError> {
        let key = uuid::Uuid::new_v4().simple().to_string();
        let hash = TokenHash::of(&answer.trim().to_lowercase()).to_hex();
        self.ephemeral
            .put(&format!("captcha:{key}"), &hash, self.cfg.captcha_ttl)
            .await?;
        Ok(key)
    }

    /// Checks a captcha answer; the captcha is spent whatever the answer.
    pub async fn check_captcha(&self, key: &str, answer: &str) -> Result<bool, EngineError> {
        let Some(stored) = self.ephemeral.take(&format!("captcha:{key}")).await? else {
            return Ok(false);
        };
        let given = TokenHash::of(&answer.trim().to_lowercase());
        Ok(TokenHash::from_hex(&stored).is_some_and(|h| h.ct_eq(&given)))
    }

    /// Whether a sign-in for `username` from `ip` must solve a captcha: either has reached
    /// `login.captcha_after_failures` recent failures.
    pub async fn captcha_required(
        &self,
        username: Option<&str>,
        ip: Option<&str>,
    ) -> Result<bool, EngineError> {
        let limit = self.cfg.captcha_after_failures;
        let count = |v: Option<String>| v.and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
        if let Some(u) = username.filter(|u| !u.is_empty()) {
            if count(self.ephemeral.get(&fail_user_key(u)).await?) >= limit {
                return Ok(true);
            }
        }
        if let Some(ip) = ip {
            if count(self.ephemeral.get(&fail_ip_key(ip)).await?) >= limit {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Counts a failed sign-in toward the captcha, for the username and the IP, for
    /// `login.lock_duration`.
    pub async fn note_failure_for_captcha(
        &self,
        username: &str,
        ip: Option<&str>,
    ) -> Result<(), EngineError> {
        let window = u64::try_from(self.cfg.lock_duration).unwrap_or(1800).max(1);
        if !username.is_empty() {
            self.ephemeral
                .incr(&fail_user_key(username), window)
                .await?;
        }
        if let Some(ip) = ip {
            self.ephemeral.incr(&fail_ip_key(ip), window).await?;
        }
        Ok(())
    }

    /// A successful sign-in clears the username's captcha count (the IP's stays).
    pub async fn clear_failures_for_captcha(&self, username: &str) -> Result<(), EngineError> {
        Ok(self.ephemeral.delete(&fail_user_key(username)).await?)
    }

    /// Device-unique tokens: revokes the live tokens of `user` at `client` on `device`.
    pub async fn revoke_device_tokens(
        &self,
        user: UserId,
        client: &ClientId,
        device: &str,
    ) -> Result<u64, EngineError> {
        let n = self
            .store
            .revoke_device_tokens(user, client, device, self.now())
            .await?;
        self.tokens.clear();
        Ok(n)
    }

    /// Sign-in by SMS code, in seed 001's order: missing code, unknown key, key of another
    /// phone, unregistered phone, wrong code; then the account checks every sign-in shares.
    pub async fn sms_login(
        &self,
        req: SmsLogin,
    ) -> Result<Result<SignedIn, LoginFailure>, EngineError> {
        let fail = |f| Ok(Err(LoginFailure::Sms(f)));
        let Some(code) = req.code.as_deref().filter(|c| !c.is_empty()) else {
            return fail(SmsLoginFailure::CodeMissing);
        };
        let Some(key) = req.key.as_deref().filter(|k| !k.is_empty()) else {
            return fail(SmsLoginFailure::KeyUnknown);
        };
        let Some(phone) = self.sms_key_phone(key, SmsPurpose::Login).await? else {
            return fail(SmsLoginFailure::KeyUnknown);
        };
        if phone != req.phone {
            return fail(SmsLoginFailure::KeyOtherPhone);
        }
        let name = super::LoginName {
            value: phone.clone(),
            field: Some(LoginField::Phone),
        };
        let Some((user, _)) = self.find_user(&name, req.user_type).await? else {
            return fail(SmsLoginFailure::PhoneNotRegistered);
        };
        if self
            .verify_sms_code(&phone, SmsPurpose::Login, code)
            .await?
            != CodeCheck::Valid
        {
            return fail(SmsLoginFailure::CodeWrong);
        }
        if user.source == crate::model::UserSource::Ldap && !self.cfg.ldap_enabled {
            return Ok(Err(LoginFailure::LdapDisabled));
        }
        if let Some(until) = user.locked_until.filter(|u| *u > self.now()) {
            return Ok(Err(LoginFailure::AccountLocked { until }));
        }
        // A right code is a success like a right password: the failure count starts again
        // (docs/reference/hoth.md, "Lockout counting").
        self.store.record_login_success(user.id, None).await?;
        match self
            .admit(&user, req.tenant, &TenantChoice::Default, None)
            .await?
        {
            Ok((membership, memberships)) => Ok(Ok(SignedIn {
                user,
                membership,
                memberships,
            })),
            Err(f) => Ok(Err(f)),
        }
    }
}
