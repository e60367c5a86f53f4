//! The SMS-code service's types: what is sent, through what, and why a send or a check fails.
//! Senders are a trait so that a provider (Aliyun, Tencent, …) is added without touching the
//! engine; `log` and `webhook` live in the server crate.

use crate::secret::Secret;
use async_trait::async_trait;

/// What a code is for; sent to the webhook as `purpose` (`docs/reference/oauth.md`, "SMS webhook
/// payload").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsPurpose {
    /// Second factor of a password sign-in (cluster, login page).
    Login2fa,
    /// Sign-in by SMS code (hoth SMS login, login page SMS tab).
    Login,
}

impl SmsPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login2fa => "login_2fa",
            Self::Login => "login",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SmsMessage {
    pub phone: String,
    pub code: Secret,
    pub purpose: SmsPurpose,
    /// The tenant code, or `""`.
    pub tenant: String,
}

/// A provider's refusal or silence, in words for the log.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

#[async_trait]
pub trait SmsSender: Send + Sync + 'static {
    async fn send(&self, msg: &SmsMessage) -> Result<(), SendError>;
}

/// Limits and lifetimes, from `[sms]`.
#[derive(Debug, Clone)]
pub struct SmsPolicy {
    /// Seconds a code lives.
    pub code_ttl: u64,
    /// Seconds before the same phone may be sent another code.
    pub resend_interval: u64,
    /// Wrong codes before a code is burnt.
    pub max_verify_attempts: i64,
    /// Codes per phone per day.
    pub daily_cap: i64,
    /// Codes requested per client IP per hour.
    pub ip_per_hour: i64,
}

impl Default for SmsPolicy {
    fn default() -> Self {
        Self {
            code_ttl: 300,
            resend_interval: 60,
            max_verify_attempts: 5,
            daily_cap: 10,
            ip_per_hour: 30,
        }
    }
}

/// A code sent.
#[derive(Debug, Clone)]
pub struct SmsIssued {
    /// Names this code (seed 001's `captchaKey`).
    pub key: String,
    /// Seconds before another code may be asked for.
    pub interval: u64,
}

/// Why no code was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsFailure {
    /// Again within the resend interval.
    TooSoon { retry_after: u64 },
    /// The phone had its codes for the day.
    DailyCapReached,
    /// The caller's IP asked for too many codes.
    IpRateLimited,
    /// The provider failed or did not answer in time.
    SendFailed,
}

/// The result of checking a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Valid,
    /// No live code for that phone and purpose (never sent, expired, used or burnt).
    Missing,
    Wrong,
}

/// A sender that drops messages: for engines built without SMS (unit tests).
pub struct NoSender;

#[async_trait]
impl SmsSender for NoSender {
    async fn send(&self, _msg: &SmsMessage) -> Result<(), SendError> {
        Err(SendError("no SMS sender configured".into()))
    }
}
