//! Seed 002's bodies, key for key (every key present; ids are JSON integers).

use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    pub access_token: String,
    /// RFC 3339, UTC.
    pub expires_time: String,
    pub login_user: LoginUser,
    pub refresh_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginUser {
    pub id: i64,
    pub login_type: &'static str,
    /// `USER` or `CLIENT`.
    pub login_user_type: &'static str,
    pub org_product: OrgProduct,
    pub user_org: Option<UserOrg>,
    pub user_product: Option<UserProduct>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgProduct {
    pub name: String,
    pub org_id: i64,
    pub product_id: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserOrg {
    pub account: String,
    pub id: i64,
    pub mobile: String,
    pub name: String,
    pub org: Org,
    pub org_id: i64,
    pub portrait: String,
}

#[derive(Serialize)]
pub struct Org {
    pub logo: String,
    pub name: String,
    /// `CHANNEL`, `SERVICE` or `SAAS`.
    #[serde(rename = "type")]
    pub org_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProduct {
    pub id: i64,
    pub org_id: i64,
    pub product_id: i64,
    pub system_admin: bool,
}

/// Spring's error body.
#[derive(Serialize)]
pub struct Error<'a> {
    pub status: u16,
    pub error: &'static str,
    pub message: String,
    pub path: &'a str,
    pub timestamp: String,
}
