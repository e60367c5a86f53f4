//! Browser single sign-on: SSO sessions (the hosted login page's), authorization codes
//! (RFC 6749 §4.1, PKCE RFC 7636), OpenID Connect ID tokens and userinfo claims.

use super::{Engine, IssueRequest, Issued, SecondFactorInput, SignedIn, TenantChoice};
use crate::error::{EngineError, LoginFailure};
use crate::ids::{FamilyId, OrgId, TenantId, UserId};
use crate::model::*;
use crate::secret::{new_token, TokenFormat, TokenHash};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a code stands for, kept in the short-lived store under the code's hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    /// Whether the authorization request named `redirect_uri`: then the token request must
    /// name it too (RFC 6749 §4.1.3).
    #[serde(default)]
    pub redirect_uri_given: bool,
    /// PKCE S256 challenge, if the client sent one.
    pub code_challenge: Option<String>,
    pub user_id: i64,
    pub tenant_id: Option<i64>,
    pub org_id: Option<i64>,
    pub scope: String,
    pub nonce: Option<String>,
    pub session_id: String,
    pub auth_time: i64,
}

/// Why a code was refused: all `invalid_grant` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeFailure {
    /// Unknown, expired, or issued to another client or redirect URI.
    Invalid,
    /// Used before: what the first use issued is now revoked.
    Reused,
    /// `code_verifier` missing or wrong.
    PkceFailed,
}

/// Tokens from a code, with the ID token when `openid` was granted.
#[derive(Debug, Clone)]
pub struct CodeTokens {
    pub issued: Issued,
    pub id_token: Option<String>,
}

/// Where a code's grant is kept: under the code's digest (64 hex digits, so the key reads back
/// unambiguously) and the client it was issued to.
fn code_key(hash_hex: &str, client_id: &str) -> String {
    format!("code:{hash_hex}:{client_id}")
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// RFC 7636 §4.6: BASE64URL(SHA256(verifier)).
pub fn pkce_s256(verifier: &str) -> String {
    b64url(&Sha256::digest(verifier.as_bytes()))
}

impl Engine {
    /// Starts an SSO session for a signed-in user; answers the cookie secret and the session.
    pub async fn start_session(
        &self,
        signed: &SignedIn,
    ) -> Result<(String, SsoSession), EngineError> {
        let now = self.now();
        let secret = new_token(TokenFormat::Opaque);
        // A numeric id, like seed 003's `OT_1094233574443319296`.
        let id = format!(
            "{}",
            crate::ids::new_id() as u64 * 1000 + (now as u64 % 1000)
        );
        let s = SsoSession {
            id,
            user_id: signed.user.id,
            tenant_id: Some(signed.membership.tenant.id),
            created_at: now,
            last_seen: now,
            expires_at: now + self.cfg.sso_absolute,
            revoked_at: None,
        };
        self.store
            .create_session(&s, &TokenHash::of(&secret))
            .await?;
        Ok((secret, s))
    }

    /// The live session behind a cookie secret (idle and absolute timeouts), touched.
    pub async fn session(&self, secret: &str) -> Result<Option<SsoSession>, EngineError> {
        let now = self.now();
        let Some(s) = self.store.session_by_secret(&TokenHash::of(secret)).await? else {
            return Ok(None);
        };
        if s.revoked_at.is_some() || s.expires_at <= now || s.last_seen + self.cfg.sso_idle <= now {
            return Ok(None);
        }
        if now - s.last_seen >= 60 {
            self.store.touch_session(&s.id, now).await?;
        }
        Ok(Some(s))
    }

    /// Ends the session behind a cookie secret.
    pub async fn end_session(&self, secret: &str) -> Result<Option<SsoSession>, EngineError> {
        let Some(s) = self.store.session_by_secret(&TokenHash::of(secret)).await? else {
            return Ok(None);
        };
        self.store.revoke_session(&s.id, self.now()).await?;
        Ok(Some(s))
    }

    /// Finishes a sign-in whose password was right but whose tenant had to be chosen (the login
    /// page's tenant choice): the account checks again, with that tenant, and so does the
    /// chosen tenant's SMS second factor (docs/reference/login-page.md: it applies to the login page).
    pub async fn complete_login(
        &self,
        user: UserId,
        tenant: &str,
        second_factor: &SecondFactorInput,
    ) -> Result<Result<SignedIn, LoginFailure>, EngineError> {
        let Some(u) = self.store.user_by_id(user).await? else {
            return Ok(Err(LoginFailure::UnknownUser));
        };
        if let Some(until) = u.locked_until.filter(|l| *l > self.now()) {
            return Ok(Err(LoginFailure::AccountLocked { until }));
        }
        let choice = TenantChoice::Pick {
            tenant: Some(tenant.to_string()),
            org: None,
        };
        let (membership, memberships) = match self.admit(&u, None, &choice, None).await? {
            Ok(x) => x,
            Err(f) => return Ok(Err(f)),
        };
        if let Err(f) = self.second_factor(&u, &membership, second_factor).await? {
            return Ok(Err(f));
        }
        Ok(Ok(SignedIn {
            user: u,
            membership,
            memberships,
        }))
    }

    /// The membership a session's user signs in to a client with: the session's tenant, or the
    /// client's when it is bound to one; `None` when the user may no longer sign in there.
    pub async fn session_membership(
        &self,
        s: &SsoSession,
        client_tenant: Option<TenantId>,
    ) -> Result<Option<Membership>, EngineError> {
        let Some(u) = self.store.user_by_id(s.user_id).await? else {
            return Ok(None);
        };
        // The admission checks of a sign-in, again for every code a session hands out: an
        // account disabled, deactivated, locked or expired since gets none (issue 15).
        let now = self.now();
        if !u.enabled
            || !u.active
            || u.locked_until.is_some_and(|l| l > now)
            || u.expires_at.is_some_and(|e| e <= now)
        {
            return Ok(None);
        }
        let tenant = client_tenant.or(s.tenant_id);
        let ms = self.store.memberships_of(u.id).await?;
        let usable = ms.into_iter().filter(|m| {
            m.tenant.enabled && !m.roles.is_empty() && tenant.is_none_or(|t| m.tenant.id == t)
        });
        let mut usable: Vec<Membership> = usable.collect();
        usable.sort_by_key(|m| !m.is_default);
        // A client of another tenant than the one signed in to: that tenant's SMS second
        // factor was never asked, so a session does not carry the user there (issue 15).
        Ok(usable.into_iter().next().filter(|m| {
            s.tenant_id == Some(m.tenant.id)
                || m.tenant.sms_second_factor == crate::model::SmsSecondFactor::Never
        }))
    }

    /// Sends the second-factor code of a sign-in whose password was right to the user's phone
    /// (the login page; seed 000's clients ask for it themselves).
    pub async fn send_second_factor_code(
        &self,
        user: UserId,
        tenant_code: &str,
        ip: Option<&str>,
    ) -> Result<Result<(), crate::sms::SmsFailure>, EngineError> {
        let phone = self
            .store
            .user_by_id(user)
            .await?
            .and_then(|u| u.phone)
            .unwrap_or_default();
        if phone.is_empty() {
            return Ok(Err(crate::sms::SmsFailure::SendFailed));
        }
        Ok(self
            .send_sms_code(&phone, crate::sms::SmsPurpose::Login2fa, tenant_code, ip)
            .await?
            .map(|_| ()))
    }

    /// Finishes a sign-in held for its SMS second factor: the code, then the account checks
    /// again for that tenant and org; the device is remembered.
    pub async fn finish_second_factor(
        &self,
        user: UserId,
        tenant_code: &str,
        org_code: &str,
        device_key: &str,
        code: &str,
    ) -> Result<Result<SignedIn, LoginFailure>, EngineError> {
        let Some(u) = self.store.user_by_id(user).await? else {
            return Ok(Err(LoginFailure::UnknownUser));
        };
        let phone = u.phone.clone().unwrap_or_default();
        let wrong = LoginFailure::SecondFactorWrong {
            tenant_code: tenant_code.into(),
            org_code: org_code.into(),
        };
        if phone.is_empty()
            || self
                .verify_sms_code(&phone, crate::sms::SmsPurpose::Login2fa, code)
                .await?
                != crate::sms::CodeCheck::Valid
        {
            return Ok(Err(wrong));
        }
        self.store
            .remember_device(u.id, device_key, self.now())
            .await?;
        let choice = TenantChoice::Pick {
            tenant: Some(tenant_code.into()),
            org: Some(org_code.into()),
        };
        Ok(self
            .admit(&u, None, &choice, None)
            .await?
            .map(|(membership, memberships)| SignedIn {
                user: u,
                membership,
                memberships,
            }))
    }

    /// A single-use authorization code for `grant`, living `tokens.auth_code_ttl`.
    pub async fn issue_code(&self, grant: &CodeGrant) -> Result<String, EngineError> {
        let code = new_token(TokenFormat::Opaque);
        let value =
            serde_json::to_string(grant).map_err(|e| EngineError::Internal(e.to_string()))?;
        let ttl = u64::try_from(self.cfg.auth_code_ttl).unwrap_or(60).max(1);
        self.ephemeral
            .put(
                &code_key(&TokenHash::of(&code).to_hex(), &grant.client_id),
                &value,
                ttl,
            )
            .await?;
        Ok(code)
    }

    /// Exchanges a code (RFC 6749 §4.1.3): single use, same client and redirect URI, PKCE
    /// verified; a second use revokes what the first issued (RFC 6749 §4.1.2).
    pub async fn redeem_code(
        &self,
        client: &Client,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        format: TokenFormat,
    ) -> Result<Result<CodeTokens, CodeFailure>, EngineError> {
        let hash = TokenHash::of(code).to_hex();
        // The code is kept under its client (`code_key`): another client presenting it finds
        // nothing, so it can neither burn the code nor, once used, revoke what its own client
        // got with it (issue 15, finding 11). One round trip, as before.
        let key = code_key(&hash, &client.client_id.0);
        let Some(value) = self.ephemeral.take(&key).await? else {
            if let Some(family) = self.ephemeral.get(&format!("used:{key}")).await? {
                if let Ok(f) = family.parse::<i64>() {
                    let n = self.store.revoke_family(FamilyId(f), self.now()).await?;
                    self.tokens.clear();
                    tracing::warn!(client = %client.client_id, revoked = n, "authorization code reused: its tokens revoked");
                }
                return Ok(Err(CodeFailure::Reused));
            }
            return Ok(Err(CodeFailure::Invalid));
        };
        let g: CodeGrant = serde_json::from_str(&value)
            .map_err(|e| EngineError::Internal(format!("code grant: {e}")))?;
        let redirect_ok = match redirect_uri {
            Some(r) => r == g.redirect_uri,
            None => !g.redirect_uri_given,
        };
        if g.client_id != client.client_id.0 || !redirect_ok {
            return Ok(Err(CodeFailure::Invalid));
        }
        if let Some(challenge) = &g.code_challenge {
            let ok = verifier.is_some_and(|v| {
                let computed = pkce_s256(v);
                subtle::ConstantTimeEq::ct_eq(computed.as_bytes(), challenge.as_bytes()).into()
            });
            if !ok {
                return Ok(Err(CodeFailure::PkceFailed));
            }
        }
        let subject = TokenSubject {
            client_id: client.client_id.clone(),
            user_id: Some(UserId(g.user_id)),
            tenant_id: g.tenant_id.map(TenantId),
            org_id: g.org_id.map(OrgId),
            app_key_id: None,
            scope: g.scope.clone(),
            device_id: None,
            source_type: None,
            session_id: Some(g.session_id.clone()),
        };
        let issued = self
            .issue(IssueRequest {
                client,
                subject,
                refresh: true,
                format,
            })
            .await?;
        let used_ttl = u64::try_from(self.cfg.access_ttl).unwrap_or(7200).max(60);
        self.ephemeral
            .put(
                &format!("used:{key}"),
                &issued.family.0.to_string(),
                used_ttl,
            )
            .await?;
        let id_token = if g.scope.split(' ').any(|s| s == "openid") {
            Some(self.id_token(client, &g, &issued.access_token).await?)
        } else {
            None
        };
        Ok(Ok(CodeTokens { issued, id_token }))
    }

    async fn id_token(
        &self,
        client: &Client,
        g: &CodeGrant,
        access_token: &str,
    ) -> Result<String, EngineError> {
        let now = self.now();
        let digest = Sha256::digest(access_token.as_bytes());
        let mut claims = serde_json::json!({
            "iss": self.cfg.issuer,
            "sub": g.user_id.to_string(),
            "aud": client.client_id.0,
            "azp": client.client_id.0,
            "iat": now,
            "exp": now + self.ttls(Some(client)).0,
            "auth_time": g.auth_time,
            "at_hash": b64url(&digest[..16]),
            "sid": g.session_id,
        });
        if let Some(n) = &g.nonce {
            claims["nonce"] = serde_json::json!(n);
        }
        if let Some(u) = self.store.user_by_id(UserId(g.user_id)).await? {
            let scopes: Vec<&str> = g.scope.split(' ').collect();
            if let Some(obj) = claims.as_object_mut() {
                for (k, v) in user_claims(&u, &scopes) {
                    obj.insert(k, v);
                }
            }
        }
        self.signer.sign(&claims).map_err(EngineError::Internal)
    }

    /// The public signing keys (JWKS).
    pub fn jwks(&self) -> serde_json::Value {
        self.signer.jwks()
    }

    /// The user behind a live access token, for userinfo and seed 003's `/me`.
    pub async fn token_user(
        &self,
        access_token: &str,
    ) -> Result<Option<(std::sync::Arc<TokenRecord>, User)>, EngineError> {
        let Some(rec) = self.check_access_token(access_token).await? else {
            return Ok(None);
        };
        let Some(uid) = rec.subject.user_id else {
            return Ok(None);
        };
        Ok(self.store.user_by_id(uid).await?.map(|u| (rec, u)))
    }

    /// The org a token is bound to, and its tenant.
    pub async fn token_org(
        &self,
        rec: &TokenRecord,
    ) -> Result<(Option<Org>, Option<Tenant>), EngineError> {
        let org = match rec.subject.org_id {
            Some(id) => self.store.org_by_id(id).await?,
            None => None,
        };
        Ok((org, self.tenant_of(&rec.subject).await?))
    }
}

/// OpenID Connect standard claims of `user` for the granted scopes (Core §5.1, §5.4).
pub fn user_claims(u: &User, scopes: &[&str]) -> Vec<(String, serde_json::Value)> {
    use serde_json::json;
    let mut out = vec![("sub".to_string(), json!(u.id.0.to_string()))];
    if scopes.contains(&"profile") {
        let name = if u.display_name.is_empty() {
            &u.real_name
        } else {
            &u.display_name
        };
        out.push(("name".into(), json!(name)));
        out.push(("preferred_username".into(), json!(u.username)));
        if let Some(b) = &u.birthday {
            out.push(("birthdate".into(), json!(b)));
        }
        out.push((
            "gender".into(),
            json!(match u.gender {
                1 => "male",
                2 => "female",
                _ => "",
            }),
        ));
        if !u.portrait.is_empty() {
            out.push(("picture".into(), json!(u.portrait)));
        }
    }
    if scopes.contains(&"email") {
        if let Some(e) = &u.email {
            out.push(("email".into(), json!(e)));
            out.push(("email_verified".into(), json!(u.email_verified)));
        }
    }
    if scopes.contains(&"phone") {
        if let Some(p) = &u.phone {
            out.push(("phone_number".into(), json!(p)));
            out.push(("phone_number_verified".into(), json!(u.phone_verified)));
        }
    }
    out
}
