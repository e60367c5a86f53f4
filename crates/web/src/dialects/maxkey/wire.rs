//! Seed 003's bodies.

use serde::Serialize;

#[derive(Serialize)]
pub struct Token<'a> {
    pub access_token: &'a str,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: &'a str,
}

/// `/me`: every field present.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    /// `yyyy-MM-dd` or null.
    pub birthday: Option<String>,
    pub gender: i64,
    pub display_name: String,
    pub department_id: String,
    pub department: String,
    pub mobile: String,
    /// `yyyy-MM-dd HH:mm:ss`.
    pub createdate: String,
    pub title: String,
    pub user_id: String,
    #[serde(rename = "online_ticket")]
    pub online_ticket: String,
    pub employee_number: String,
    pub realname: String,
    pub institution: String,
    pub random_id: String,
    pub id: String,
    pub state: String,
    pub user: String,
    pub email: String,
    pub username: String,
}
