//! Half-finished sign-ins as typed engine state: a sign-in whose password was right but that
//! waits for a step of the person (choose a tenant, give the SMS second factor; later: change
//! an expired password, give a TOTP or passkey) is held under a random token in the short-lived
//! store, as JSON of [`PendingSignIn`], never as text joined by hand. The page carries only the
//! token; the store keeps its SHA-256 (issue 16).

use super::{Engine, SecondFactorInput, SignedIn};
use crate::error::{EngineError, LoginFailure};
use crate::ids::UserId;
use crate::secret::{new_token, TokenFormat, TokenHash};
use serde::{Deserialize, Serialize};

/// What a held sign-in waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum PendingSignIn {
    /// The user belongs to several tenants and named none (seed 000's 1000 on the page).
    TenantChoice { user: UserId },
    /// The tenant's SMS second factor applies; a code was sent to the user's phone.
    SecondFactor {
        user: UserId,
        tenant_code: String,
        org_code: String,
    },
}

impl PendingSignIn {
    /// Seconds the step may take.
    fn ttl(&self) -> u64 {
        match self {
            PendingSignIn::TenantChoice { .. } => 300,
            PendingSignIn::SecondFactor { .. } => 600,
        }
    }
}

/// Why a held sign-in could not go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingFailure {
    /// No such token, expired, spent, or a token of another step.
    Expired,
    /// The step's checks refused it (a wrong code, a tenant not the user's, an account
    /// disabled meanwhile, a second factor now due).
    Login(LoginFailure),
}

fn key(token: &str) -> String {
    format!("signin:pending:{}", TokenHash::of(token).to_hex())
}

impl Engine {
    /// Holds a sign-in until its next step; answers the token the page carries.
    pub async fn hold_sign_in(&self, p: &PendingSignIn) -> Result<String, EngineError> {
        let token = new_token(TokenFormat::Opaque);
        let value = serde_json::to_string(p).map_err(|e| EngineError::Internal(e.to_string()))?;
        self.ephemeral.put(&key(&token), &value, p.ttl()).await?;
        Ok(token)
    }

    async fn held(&self, token: &str, take: bool) -> Result<Option<PendingSignIn>, EngineError> {
        let k = key(token);
        let value = if take {
            self.ephemeral.take(&k).await?
        } else {
            self.ephemeral.get(&k).await?
        };
        // A value that does not parse (written by another version) is as good as expired.
        Ok(value.and_then(|v| serde_json::from_str(&v).ok()))
    }

    /// The tenant chosen for a held sign-in: the account checks again with that tenant, then
    /// its SMS second factor (which may hold the sign-in again). The token is spent.
    pub async fn choose_tenant(
        &self,
        token: &str,
        tenant: &str,
        second_factor: &SecondFactorInput,
    ) -> Result<Result<SignedIn, PendingFailure>, EngineError> {
        let Some(PendingSignIn::TenantChoice { user }) = self.held(token, true).await? else {
            return Ok(Err(PendingFailure::Expired));
        };
        Ok(self
            .complete_login(user, tenant, second_factor)
            .await?
            .map_err(PendingFailure::Login))
    }

    /// The SMS code for a held sign-in. A wrong code keeps it held (the person may try
    /// again, within the code's own attempt limit); a right one spends the token.
    pub async fn give_second_factor(
        &self,
        token: &str,
        device_key: &str,
        code: &str,
    ) -> Result<Result<SignedIn, PendingFailure>, EngineError> {
        let Some(PendingSignIn::SecondFactor {
            user,
            tenant_code,
            org_code,
        }) = self.held(token, false).await?
        else {
            return Ok(Err(PendingFailure::Expired));
        };
        let outcome = self
            .finish_second_factor(user, &tenant_code, &org_code, device_key, code)
            .await?;
        if outcome.is_ok() {
            self.ephemeral.delete(&key(token)).await?;
        }
        Ok(outcome.map_err(PendingFailure::Login))
    }

    /// The step a token holds, if any (to show its page again).
    pub async fn pending_sign_in(&self, token: &str) -> Result<Option<PendingSignIn>, EngineError> {
        self.held(token, false).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_sign_in_round_trips_as_tagged_json() {
        let p = PendingSignIn::SecondFactor {
            user: UserId(7),
            tenant_code: "T|x".into(),
            org_code: "O".into(),
        };
        let v = serde_json::to_string(&p).unwrap();
        assert!(v.contains("\"step\":\"second_factor\""), "{v}");
        assert_eq!(serde_json::from_str::<PendingSignIn>(&v).unwrap(), p);
    }
}
