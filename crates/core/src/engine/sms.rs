//! The SMS-code service: issue a code for (phone, purpose, tenant), deliver it, verify it once.
//! Codes are 6 random digits stored as SHA-256 in the ephemeral store (shared by every process
//! when Redis is configured), live `code_ttl`, and are burnt after `max_verify_attempts` wrong
//! tries. Abuse limits: one code per phone per `resend_interval`, `daily_cap` per phone, and
//! `ip_per_hour` per client IP (SMS pumping costs operators real money).

use super::Engine;
use crate::error::EngineError;
use crate::secret::{Secret, TokenHash};
use crate::sms::*;
use rand::Rng;

fn code_key(purpose: SmsPurpose, phone: &str) -> String {
    format!("sms:code:{}:{phone}", purpose.as_str())
}

/// Codes asked for (and unregistered phones looked up) by one client IP this hour.
fn ip_key(ip: &str) -> String {
    format!("sms:ip:{ip}")
}

fn tries_key(purpose: SmsPurpose, phone: &str) -> String {
    format!("sms:tries:{}:{phone}", purpose.as_str())
}

impl Engine {
    /// Sends a new code to `phone`, unless a limit says no.
    pub async fn send_sms_code(
        &self,
        phone: &str,
        purpose: SmsPurpose,
        tenant: &str,
        ip: Option<&str>,
    ) -> Result<Result<SmsIssued, SmsFailure>, EngineError> {
        let p = &self.sms_policy;
        let eph = &self.ephemeral;
        let resend = format!("sms:resend:{}:{phone}", purpose.as_str());
        if !eph.put_new(&resend, "1", p.resend_interval).await? {
            let retry_after = eph.ttl(&resend).await?.unwrap_or(p.resend_interval);
            return Ok(Err(SmsFailure::TooSoon { retry_after }));
        }
        // Counted after the resend check: a request refused for coming too soon sends nothing,
        // so it costs nobody anything and does not use up the IP's hour.
        if let Some(ip) = ip {
            if eph.incr(&ip_key(ip), 3600).await? > p.ip_per_hour {
                return Ok(Err(SmsFailure::IpRateLimited));
            }
        }
        if eph.incr(&format!("sms:day:{phone}"), 86_400).await? > p.daily_cap {
            return Ok(Err(SmsFailure::DailyCapReached));
        }
        let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32));
        let key = uuid::Uuid::new_v4().simple().to_string();
        let value = format!("{}|{key}|{tenant}", TokenHash::of(&code).to_hex());
        eph.put(&code_key(purpose, phone), &value, p.code_ttl)
            .await?;
        eph.put(
            &format!("sms:key:{key}"),
            &format!("{}|{phone}", purpose.as_str()),
            p.code_ttl,
        )
        .await?;
        eph.delete(&tries_key(purpose, phone)).await?;
        let msg = SmsMessage {
            phone: phone.to_string(),
            code: Secret::new(code),
            purpose,
            tenant: tenant.to_string(),
        };
        if let Err(e) = self.sms_sender.send(&msg).await {
            tracing::warn!(error = %e, purpose = purpose.as_str(), "SMS not sent");
            // Nothing was delivered: let the caller try again at once.
            eph.delete(&code_key(purpose, phone)).await?;
            eph.delete(&resend).await?;
            return Ok(Err(SmsFailure::SendFailed));
        }
        Ok(Ok(SmsIssued {
            key,
            interval: p.resend_interval,
        }))
    }

    /// Whether a user has this phone, asked by a caller at `ip` before it is sent a code
    /// (seed 001's `hoth.user.phone.not-register`). The IP's hourly limit applies first: once
    /// the IP has used its `ip_per_hour`, the answer is `IpRateLimited` without a lookup, and a
    /// lookup of a phone no user has counts toward that hour like a code sent. So an IP learns
    /// whether phones are registered no faster than it could have codes sent. (A registered
    /// phone is counted when its code is sent, by [`Engine::send_sms_code`].)
    pub async fn phone_registered_from(
        &self,
        phone: &str,
        ip: Option<&str>,
    ) -> Result<Result<bool, SmsFailure>, EngineError> {
        if let Some(ip) = ip {
            let used = self
                .ephemeral
                .get(&ip_key(ip))
                .await?
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0);
            if used >= self.sms_policy.ip_per_hour {
                return Ok(Err(SmsFailure::IpRateLimited));
            }
        }
        let registered = self.phone_registered(phone).await?;
        if !registered {
            if let Some(ip) = ip {
                self.ephemeral.incr(&ip_key(ip), 3600).await?;
            }
        }
        Ok(Ok(registered))
    }

    /// Whether a user has this phone (the SMS endpoints send codes only to registered phones).
    pub async fn phone_registered(&self, phone: &str) -> Result<bool, EngineError> {
        Ok(self
            .store
            .user_by_login(crate::model::LoginField::Phone, phone)
            .await?
            .is_some())
    }

    /// The tenant a second-factor code is sent for (the webhook's `tenant`): the one the client
    /// named, when the phone's user is a member of it and it is enabled; with none named, the
    /// user's only usable tenant; else `""`.
    pub async fn sms_tenant(
        &self,
        phone: &str,
        named: Option<&str>,
    ) -> Result<String, EngineError> {
        let Some(user) = self
            .store
            .user_by_login(crate::model::LoginField::Phone, phone)
            .await?
        else {
            return Ok(String::new());
        };
        let mut codes: Vec<String> = Vec::new();
        for m in self.store.memberships_of(user.id).await? {
            if m.tenant.enabled && !codes.contains(&m.tenant.code) {
                codes.push(m.tenant.code);
            }
        }
        Ok(match (named, codes.as_slice()) {
            (Some(n), _) if codes.iter().any(|c| c == n) => n.to_string(),
            (None, [only]) => only.clone(),
            _ => String::new(),
        })
    }

    /// The phone a code key was issued for, while the code lives (seed 001's `captchaKey`).
    pub async fn sms_key_phone(
        &self,
        key: &str,
        purpose: SmsPurpose,
    ) -> Result<Option<String>, EngineError> {
        Ok(self
            .ephemeral
            .get(&format!("sms:key:{key}"))
            .await?
            .and_then(|v| {
                let (p, phone) = v.split_once('|')?;
                (p == purpose.as_str()).then(|| phone.to_string())
            }))
    }

    /// Checks a code; a valid one is spent, a wrong one counts toward burning it.
    pub async fn verify_sms_code(
        &self,
        phone: &str,
        purpose: SmsPurpose,
        code: &str,
    ) -> Result<CodeCheck, EngineError> {
        let eph = &self.ephemeral;
        let ck = code_key(purpose, phone);
        let Some(stored) = eph.get(&ck).await? else {
            return Ok(CodeCheck::Missing);
        };
        let hash = stored.split('|').next().and_then(TokenHash::from_hex);
        if !hash.is_some_and(|h| h.ct_eq(&TokenHash::of(code.trim()))) {
            let tries = eph
                .incr(&tries_key(purpose, phone), self.sms_policy.code_ttl)
                .await?;
            if tries >= self.sms_policy.max_verify_attempts {
                eph.delete(&ck).await?;
            }
            return Ok(CodeCheck::Wrong);
        }
        // Of two concurrent right answers, one takes the code.
        if eph.take(&ck).await?.as_deref() != Some(stored.as_str()) {
            return Ok(CodeCheck::Missing);
        }
        eph.delete(&tries_key(purpose, phone)).await?;
        Ok(CodeCheck::Valid)
    }
}
