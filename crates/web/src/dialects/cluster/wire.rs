//! Seed 000's requests and response bodies, field for field.

use serde::{Deserialize, Serialize};

/// `POST /oauth/sms/code`: the phone the second-factor code goes to.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = ClusterSmsCodeRequest)]
pub struct SmsCodeRequest {
    /// The phone (`phone` is accepted too).
    pub mobile: Option<String>,
    pub phone: Option<String>,
    /// The tenant the SMS webhook names (`cluster_code` is accepted too).
    #[serde(rename = "clusterCode")]
    pub cluster_code: Option<String>,
    #[serde(rename = "cluster_code")]
    pub cluster_code_snake: Option<String>,
    /// `zh_CN` or `en_US`.
    pub lang: Option<String>,
}

/// Step 6: success (HTTP 200).
#[derive(Serialize)]
pub struct Success<'a> {
    pub code: u16,
    pub access_token: &'a str,
    pub token_type: &'static str,
    /// Left out, not `null`, for a client that is not allowed refresh tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<&'a str>,
    pub expires_in: i64,
    pub scope: &'a str,
    pub cluster_code: &'a str,
    pub sso_url: &'a str,
    pub server_url: &'a str,
}

/// Step 3: several clusters (HTTP 200).
#[derive(Serialize)]
pub struct ChooseCluster<'a> {
    pub code: u16,
    pub message: String,
    pub cluster_codes: Vec<ClusterCode<'a>>,
}

#[derive(Serialize)]
pub struct ClusterCode<'a> {
    pub cluster_code: &'a str,
    pub name: &'a str,
    pub company_code: &'a [String],
}

/// Steps 1, 2, 4 and malformed requests.
#[derive(Serialize)]
pub struct Failure {
    pub success: bool,
    pub code: u16,
    pub message: String,
}

/// Step 5: the SMS second factor (`error_description` 2001, or 2002 for a wrong code).
#[derive(Serialize)]
pub struct SecondFactor<'a> {
    pub success: bool,
    pub code: u16,
    pub error: &'static str,
    pub error_description: &'static str,
    pub message: String,
    pub cluster_code: &'a str,
    pub company_code: &'a str,
}

/// `POST /oauth/sms/code` (*ours*: the seed does not show this answer).
#[derive(Serialize)]
pub struct SmsSent {
    pub success: bool,
    pub code: u16,
    pub message: String,
    pub interval: u64,
}
