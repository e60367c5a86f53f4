//! `tessera serve --demo`: built-in data and ready-to-paste `curl` lines.

/// The demo bootstrap file.
pub const BOOTSTRAP: &str = include_str!("demo.toml");

/// The cluster client that seed 000's requests (no client credentials) are served by.
pub const CLUSTER_CLIENT: &str = "demo-cluster";

/// `curl` lines for each dialect against `base` (e.g. `http://127.0.0.1:8080`).
pub fn curl_lines(base: &str) -> String {
    format!(
        r#"
Tessera demo is up at {base}. Try:

# standard: client_credentials, password (alice / Passw0rd!), introspection
curl -s -u demo-standard:demo-secret -d grant_type=client_credentials -d scope=read {base}/oauth/token
curl -s -u demo-standard:demo-secret -d grant_type=password -d username=alice -d 'password=Passw0rd!' {base}/oauth/token
curl -s -u demo-standard:demo-secret -d token=ACCESS_TOKEN {base}/oauth/introspect

# cluster (seed 000): mobile + password, no client credentials
curl -s -d grant_type=password -d mobile=13521679354 -d 'password=Passw0rd!' -d type=baec -d client=admin {base}/oauth/token

# hoth (seed 001): init parameters, then a password grant with the RSA-encrypted password
curl -s '{base}/oauth/public/login/init-params?clientId=demo-hoth&username=alice'

# appkey (seed 002)
curl -s -H 'Content-Type: application/json' -d '{{"appId":"demo-app","appKey":"demo-key","appSecret":"demo-app-secret","loginType":"APP_KEY"}}' {base}/api/base/token/login

# maxkey (seed 003): open in a browser, sign in as alice
{base}/api/sso/authz/oauth/v20/authorize?response_type=code&client_id=demo-maxkey&redirect_uri=http://127.0.0.1:9000/maxkey/callback

# admin API: a token of a client holding tessera:admin, then the users
ADMIN=$(curl -s -u demo-admin:demo-admin-secret -d grant_type=client_credentials {base}/oauth/token | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
curl -s -H "Authorization: Bearer $ADMIN" {base}/admin/api/v1/users

# console and front door: open in a browser, sign in as alice (a superuser)
{base}/
{base}/console

# operations
curl -s {base}/healthz ; curl -s {base}/readyz ; curl -s {base}/metrics | head
"#
    )
}
