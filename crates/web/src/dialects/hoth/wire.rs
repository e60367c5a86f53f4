//! Seed 001's bodies.

use serde::{Deserialize, Serialize};

/// `POST /oauth/public/captcha/sms`: a sign-in code for a registered phone.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = HothSmsRequest)]
pub struct SmsRequest {
    pub phone: Option<String>,
    /// `P` (default) or `C`; accepted, not used to pick the user (seed 001 sends it).
    pub user_type: Option<String>,
    /// The image captcha, once the IP has failed too often.
    pub captcha: Option<String>,
    #[serde(rename = "captchaKey")]
    pub captcha_key: Option<String>,
    pub lang: Option<String>,
}

#[derive(Serialize)]
pub struct Token<'a> {
    pub access_token: &'a str,
    pub token_type: &'static str,
    /// Left out, not `null`, for a client that is not allowed refresh tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<&'a str>,
    pub expires_in: i64,
    pub scope: &'a str,
}

#[derive(Serialize)]
pub struct Failure {
    pub success: bool,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitParams {
    pub open_login_ways: Vec<OpenLoginWay>,
    pub is_need_captcha: bool,
    pub public_key: String,
}

#[derive(Serialize)]
pub struct OpenLoginWay {
    pub code: String,
    pub name: String,
    pub url: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    pub public_key: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Captcha {
    pub captcha_key: String,
    pub image: String,
    /// Only with `captcha.mode = "test"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsSent {
    pub success: bool,
    pub captcha_key: String,
    pub interval: u64,
}
