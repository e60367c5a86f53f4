//! Issuing, refreshing, introspecting and revoking opaque tokens. Only SHA-256 digests are
//! stored; refresh tokens rotate on every use, and a spent one presented again revokes its
//! whole family (OAuth 2.1 §4.3.1, RFC 6819 §5.2.2.3).

use super::Engine;
use crate::clock::UnixTime;
use crate::error::{EngineError, RefreshFailure};
use crate::ids::{new_id, FamilyId};
use crate::model::*;
use crate::secret::{new_ordered_token, new_token, TokenFormat, TokenHash};
use std::sync::Arc;

/// What to issue.
#[derive(Debug, Clone)]
pub struct IssueRequest<'a> {
    pub client: &'a Client,
    pub subject: TokenSubject,
    /// Add a refresh token (when the client is allowed the `refresh_token` grant).
    pub refresh: bool,
    pub format: TokenFormat,
}

/// Tokens just issued, in clear: shown once to the caller, never stored.
#[derive(Debug, Clone)]
pub struct Issued {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Seconds.
    pub expires_in: i64,
    pub access_expires_at: i64,
    pub scope: String,
    pub family: FamilyId,
    pub subject: TokenSubject,
}

/// A live token as introspection shows it.
#[derive(Debug, Clone)]
pub struct Introspection {
    pub record: Arc<TokenRecord>,
    pub username: Option<String>,
}

impl Engine {
    /// A client's token lifetimes: its own, else `[tokens]`.
    /// Capped at [`MAX_TOKEN_LIFETIME`], which the store's memory of revoked families relies on.
    pub(crate) fn ttls(&self, client: Option<&Client>) -> (i64, i64) {
        (
            client
                .and_then(|c| c.access_ttl)
                .unwrap_or(self.cfg.access_ttl)
                .min(MAX_TOKEN_LIFETIME),
            client
                .and_then(|c| c.refresh_ttl)
                .unwrap_or(self.cfg.refresh_ttl)
                .min(MAX_TOKEN_LIFETIME),
        )
    }

    pub(crate) fn build_grant(
        &self,
        ttls: (i64, i64),
        family: FamilyId,
        subject: TokenSubject,
        refresh: bool,
        format: TokenFormat,
        auth_time: UnixTime,
    ) -> (NewGrant, Issued) {
        let now = self.now();
        let (access_ttl, refresh_ttl) = ttls;
        let access = self.new_token_text(format, now);
        let mut tokens = vec![NewToken {
            hash: TokenHash::of_token(&access),
            kind: TokenKind::Access,
            expires_at: now + access_ttl,
        }];
        let refresh_token = refresh.then(|| {
            let r = self.new_token_text(format, now);
            tokens.push(NewToken {
                hash: TokenHash::of_token(&r),
                kind: TokenKind::Refresh,
                expires_at: now + refresh_ttl,
            });
            r
        });
        let issued = Issued {
            access_token: access,
            refresh_token,
            expires_in: access_ttl,
            access_expires_at: now + access_ttl,
            scope: subject.scope.clone(),
            family,
            subject: subject.clone(),
        };
        (
            NewGrant {
                family,
                subject,
                issued_at: now,
                auth_time,
                tokens,
            },
            issued,
        )
    }

    /// Issues a new grant: an access token and, if asked and allowed, a refresh token.
    pub async fn issue(&self, req: IssueRequest<'_>) -> Result<Issued, EngineError> {
        let refresh = req.refresh && req.client.allows(GrantType::RefreshToken);
        // A lone access token outside any session (client_credentials, a password grant
        // without refresh) belongs to no family: nothing can revoke it but itself, and a row
        // under family 0 costs the store no random index page (`FamilyId::NONE`).
        let family = if refresh || req.subject.session_id.is_some() {
            FamilyId(new_id())
        } else {
            FamilyId::NONE
        };
        let (grant, issued) = self.build_grant(
            self.ttls(Some(req.client)),
            family,
            req.subject,
            refresh,
            req.format,
            self.now(),
        );
        self.store.insert_grant(&grant).await?;
        metrics::counter!("tessera_tokens_issued_total", "dialect" => req.client.dialect.as_str())
            .increment(1);
        Ok(issued)
    }

    /// Rotates a refresh token: the old one is spent, a new access and refresh token of the
    /// same family are issued. `scope` may narrow the original grant, never widen it.
    pub async fn refresh(
        &self,
        client: &Client,
        refresh_token: &str,
        scope: Option<&str>,
        format: TokenFormat,
    ) -> Result<Result<Issued, RefreshFailure>, EngineError> {
        if !client.allows(GrantType::RefreshToken) {
            return Ok(Err(RefreshFailure::NotAllowed));
        }
        let hash = TokenHash::of_token(refresh_token);
        if scope.is_none_or(|s| s.trim().is_empty()) {
            return self.spend(client, &hash, format).await;
        }
        let Some(rec) = self.store.token_by_hash(&hash).await? else {
            return Ok(Err(RefreshFailure::Invalid));
        };
        if rec.subject.client_id != client.client_id {
            return Ok(Err(RefreshFailure::Invalid));
        }
        self.rotate(&hash, rec, scope, self.ttls(Some(client)), format)
            .await
    }

    /// The common refresh (no narrower scope asked): one store call checks and spends the
    /// token and stores the next ones (`Store::spend_refresh`), with the same rules as
    /// [`Self::rotate`]: the client's own live refresh token, a user still allowed to sign in,
    /// a reuse revokes the family. No read before the write: the hot path is one database
    /// round trip, shared with the other requests of its group commit.
    async fn spend(
        &self,
        client: &Client,
        hash: &TokenHash,
        format: TokenFormat,
    ) -> Result<Result<Issued, RefreshFailure>, EngineError> {
        let now = self.now();
        let (access_ttl, refresh_ttl) = self.ttls(Some(client));
        let access = self.new_token_text(format, now);
        let refresh = self.new_token_text(format, now);
        let next = [
            NewToken {
                hash: TokenHash::of_token(&access),
                kind: TokenKind::Access,
                expires_at: now + access_ttl,
            },
            NewToken {
                hash: TokenHash::of_token(&refresh),
                kind: TokenKind::Refresh,
                expires_at: now + refresh_ttl,
            },
        ];
        match self
            .store
            .spend_refresh(
                hash,
                &client.client_id,
                now,
                now - self.cfg.refresh_family_max,
                &next,
            )
            .await?
        {
            SpendOutcome::Rotated(rec) => {
                let rec = *rec;
                metrics::counter!("tessera_tokens_refreshed_total").increment(1);
                Ok(Ok(Issued {
                    access_token: access,
                    refresh_token: Some(refresh),
                    expires_in: access_ttl,
                    access_expires_at: now + access_ttl,
                    scope: rec.subject.scope.clone(),
                    family: rec.family,
                    subject: rec.subject,
                }))
            }
            SpendOutcome::Reused => {
                self.tokens.clear();
                tracing::warn!(client = %client.client_id, "refresh token reused: family revoked");
                Ok(Err(RefreshFailure::Reused))
            }
            SpendOutcome::NotLive => Ok(Err(RefreshFailure::Invalid)),
        }
    }

    /// A new token's text: ordered when opaque (`secret::new_ordered_token`).
    fn new_token_text(&self, format: TokenFormat, now: UnixTime) -> String {
        match format {
            TokenFormat::Opaque => new_ordered_token(self.token_order(now)),
            TokenFormat::Uuid => new_token(format),
        }
    }

    /// Rotates the refresh token `hash` (found as `rec`): spent once; a spent one presented
    /// again revokes its family.
    pub(crate) async fn rotate(
        &self,
        hash: &TokenHash,
        rec: TokenRecord,
        scope: Option<&str>,
        ttls: (i64, i64),
        format: TokenFormat,
    ) -> Result<Result<Issued, RefreshFailure>, EngineError> {
        let now = self.now();
        if rec.kind != TokenKind::Refresh {
            return Ok(Err(RefreshFailure::Invalid));
        }
        if rec.used_at.is_some() {
            let n = self.store.revoke_family(rec.family, now).await?;
            self.tokens.clear();
            tracing::warn!(client = %rec.subject.client_id, family = %rec.family, revoked = n, "refresh token reused: family revoked");
            return Ok(Err(RefreshFailure::Reused));
        }
        if !rec.is_live(now) || rec.auth_time < now - self.cfg.refresh_family_max {
            return Ok(Err(RefreshFailure::Invalid));
        }
        let mut subject = rec.subject.clone();
        if let Some(req) = scope.map(str::trim).filter(|s| !s.is_empty()) {
            let granted: Vec<String> = rec.subject.scope.split(' ').map(str::to_string).collect();
            match super::resolve_scope(&granted, Some(req)) {
                Some(s) => subject.scope = s,
                None => return Ok(Err(RefreshFailure::ScopeWidened)),
            }
        }
        if !self.may_refresh(&subject).await? {
            return Ok(Err(RefreshFailure::Invalid));
        }
        let (grant, issued) =
            self.build_grant(ttls, rec.family, subject, true, format, rec.auth_time);
        match self.store.rotate_refresh(hash, now, &grant).await? {
            RotateOutcome::Rotated => {
                metrics::counter!("tessera_tokens_refreshed_total").increment(1);
                Ok(Ok(issued))
            }
            RotateOutcome::Reused => {
                self.tokens.clear();
                Ok(Err(RefreshFailure::Reused))
            }
            RotateOutcome::NotLive => Ok(Err(RefreshFailure::Invalid)),
        }
    }

    /// The refresh eligibility rule: whether a token subject's user may still sign in where
    /// the tokens are bound: the admission checks of a sign-in (account enabled, active, not
    /// locked, not expired; tenant enabled; still a member of it, in the token's org), run again on every refresh
    /// (issue 15, finding 6). The common refresh runs the same rule inside its one statement
    /// (`Store::spend_refresh`); the conformance test
    /// `the_spend_admits_exactly_whom_the_engine_admits` holds the two to one rule.
    pub async fn may_refresh(&self, subject: &TokenSubject) -> Result<bool, EngineError> {
        let now = self.now();
        let Some(uid) = subject.user_id else {
            return Ok(true);
        };
        let Some(u) = self.store.user_by_id(uid).await? else {
            return Ok(false);
        };
        if !u.enabled
            || !u.active
            || u.locked_until.is_some_and(|l| l > now)
            || u.expires_at.is_some_and(|e| e <= now)
        {
            return Ok(false);
        }
        // An app key signs in as its user without a membership (seed 002); its own checks
        // (key, org, tenant, user) run in `app_key_refresh`.
        let Some(tenant) = subject.tenant_id.filter(|_| subject.app_key_id.is_none()) else {
            return Ok(true);
        };
        Ok(self.store.memberships_of(uid).await?.iter().any(|m| {
            m.tenant.id == tenant
                && m.tenant.enabled
                && subject.org_id.is_none_or(|o| m.org.id == o)
        }))
    }

    /// RFC 7662: the token if it is live and the caller may see it (issued to the caller, or
    /// the caller holds the scope `tessera:introspect`).
    pub async fn introspect(
        &self,
        caller: &Client,
        token: &str,
    ) -> Result<Option<Introspection>, EngineError> {
        let now = self.now();
        let Some(record) = self.token_record(&TokenHash::of_token(token)).await? else {
            return Ok(None);
        };
        if !record.is_live(now) {
            return Ok(None);
        }
        let privileged = caller.scopes.iter().any(|s| s == "tessera:introspect");
        if record.subject.client_id != caller.client_id && !privileged {
            return Ok(None);
        }
        let username = match record.subject.user_id {
            Some(id) => self.store.user_by_id(id).await?.map(|u| u.username),
            None => None,
        };
        Ok(Some(Introspection { record, username }))
    }

    /// The live access token's record, for resource endpoints (userinfo, `/me`).
    pub async fn check_access_token(
        &self,
        token: &str,
    ) -> Result<Option<Arc<TokenRecord>>, EngineError> {
        let now = self.now();
        Ok(self
            .token_record(&TokenHash::of_token(token))
            .await?
            .filter(|r| r.kind == TokenKind::Access && r.is_live(now)))
    }

    /// A token's record for the read-only paths: from the short-lived cache when fresh
    /// (`token_cache`), else from the store (a live access token is then cached).
    async fn token_record(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<Arc<TokenRecord>>, EngineError> {
        if let Some(rec) = self.tokens.get(hash) {
            return Ok(Some(rec));
        }
        let rec = self.store.token_by_hash(hash).await?.map(Arc::new);
        if let Some(r) = &rec {
            if r.kind == TokenKind::Access && r.is_live(self.now()) {
                self.tokens.put(*hash, r);
            }
        }
        Ok(rec)
    }

    /// RFC 7009: revokes a token issued to the caller; a refresh token takes its whole family
    /// with it (RFC 7009 §2.1). Tokens of other clients and unknown tokens are left alone, and
    /// the caller is told nothing either way.
    pub async fn revoke(&self, caller: &Client, token: &str) -> Result<(), EngineError> {
        let now = self.now();
        let hash = TokenHash::of_token(token);
        let Some(rec) = self.store.token_by_hash(&hash).await? else {
            return Ok(());
        };
        if rec.subject.client_id != caller.client_id {
            return Ok(());
        }
        match rec.kind {
            TokenKind::Refresh => {
                let n = self.store.revoke_family(rec.family, now).await?;
                self.tokens.clear();
                metrics::counter!("tessera_tokens_revoked_total").increment(n);
            }
            TokenKind::Access => {
                if self.store.revoke_token(&hash, now).await? {
                    self.tokens.clear();
                    metrics::counter!("tessera_tokens_revoked_total").increment(1);
                }
            }
        }
        Ok(())
    }

    /// The tenant a token subject is bound to.
    pub async fn tenant_of(
        &self,
        subject: &TokenSubject,
    ) -> Result<Option<crate::model::Tenant>, EngineError> {
        match subject.tenant_id {
            Some(id) => Ok(self.store.tenant_by_id(id).await?),
            None => Ok(None),
        }
    }

    /// Third-party sign-ins listed by seed 001's init parameters.
    pub async fn open_login_ways(&self) -> Result<Vec<crate::model::OpenLoginWay>, EngineError> {
        Ok(self.store.open_login_ways().await?)
    }
}
