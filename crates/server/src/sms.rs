//! SMS senders (`[sms] sender`): `log` writes the code to the server log (development only),
//! `webhook` POSTs `{"phone","code","purpose","tenant"}` as JSON to `sms.webhook_url` with a
//! timeout, so that a slow provider gives the caller a clear error instead of a hang. Another
//! provider is one more `SmsSender` here; the engine does not change.

use async_trait::async_trait;
use std::time::Duration;
use tessera_core::sms::{SendError, SmsMessage, SmsSender};

pub struct LogSender;

#[async_trait]
impl SmsSender for LogSender {
    async fn send(&self, m: &SmsMessage) -> Result<(), SendError> {
        // `sms.sender = "log"` exists to put the code here; never use it in production.
        tracing::info!(phone = %m.phone, purpose = m.purpose.as_str(), tenant = %m.tenant, code = %m.code.expose(), "SMS code (log sender)");
        Ok(())
    }
}

pub struct WebhookSender {
    url: String,
    http: reqwest::Client,
}

impl WebhookSender {
    pub fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("sms webhook client: {e}"))?;
        Ok(Self {
            url: url.to_string(),
            http,
        })
    }
}

#[async_trait]
impl SmsSender for WebhookSender {
    async fn send(&self, m: &SmsMessage) -> Result<(), SendError> {
        let body = serde_json::json!({
            "phone": m.phone,
            "code": m.code.expose(),
            "purpose": m.purpose.as_str(),
            "tenant": m.tenant,
        });
        let r = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| SendError(format!("webhook: {}", without_url(&e))))?;
        if !r.status().is_success() {
            return Err(SendError(format!("webhook answered {}", r.status())));
        }
        Ok(())
    }
}

/// A reqwest error's text without the URL (which may carry a provider's credentials).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    kind.to_string()
}
