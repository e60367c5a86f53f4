//! The bootstrap the HTTP tests start from.

use tessera_testkit::TestApp;

pub const STD: (&str, &str) = ("std", "std-secret");
pub const OTHER: (&str, &str) = ("other", "other-secret");
pub const SPY: (&str, &str) = ("spy", "spy-secret");
pub const SHORT: (&str, &str) = ("short", "short-secret");
pub const BOUND: (&str, &str) = ("bound", "bound-secret");
pub const NOPASS: (&str, &str) = ("nopass", "nopass-secret");
pub const CLUSTER: (&str, &str) = ("clu", "clu-secret");
pub const HOTH: (&str, &str) = ("hoth", "hoth-secret");
pub const MAXKEY: (&str, &str) = ("mk", "mk-secret");

/// Users sign in with `<name>-pw`.
pub fn bootstrap() -> String {
    // One hash per test run, so that the same file is the same text every time.
    static BCRYPT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let bcrypt = BCRYPT.get_or_init(|| bcrypt::hash("carl-pw", 4).unwrap());
    format!(
        r#"
[[tenants]]
code = "ACME"
name = "Acme"
[[tenants]]
code = "BETA"
name = "Beta"
[[tenants]]
code = "OFF"
name = "Switched off"
enabled = false
[[orgs]]
tenant = "ACME"
code = "HQ"
name = "Head office"
[[orgs]]
tenant = "BETA"
code = "B1"
name = "Beta one"
[[orgs]]
tenant = "OFF"
code = "X"
name = "X"
{users}
[[users]]
username = "carl"
password_hash = "{{bcrypt}}{bcrypt}"
[[users]]
username = "spring"
password_hash = "{bcrypt}"
[[users]]
username = "dora"
password = "dora-pw"
enabled = false
[[users]]
username = "ivy"
password = "ivy-pw"
active = false
[[users]]
username = "ezra"
password = "ezra-pw"
expires_at = "2000-01-01T00:00:00Z"
[[users]]
username = "lena"
password = "lena-pw"
source = "ldap"
[[users]]
username = "nora"
password = "nora-pw"
[[users]]
username = "olaf"
password = "olaf-pw"
[[users]]
username = "lock"
password = "lock-pw"
locked_until = "2999-01-01T00:00:00Z"
{memberships}
[[memberships]]
user = "nora"
tenant = "ACME"
org = "HQ"
roles = []
default = true
[[memberships]]
user = "olaf"
tenant = "OFF"
org = "X"
roles = ["user"]
default = true
[[clients]]
client_id = "std"
client_secret = "std-secret"
grant_types = ["client_credentials", "password", "refresh_token"]
scopes = ["read", "write"]
[[clients]]
client_id = "other"
client_secret = "other-secret"
grant_types = ["client_credentials", "password", "refresh_token"]
scopes = ["read"]
[[clients]]
client_id = "nopass"
client_secret = "nopass-secret"
grant_types = ["client_credentials"]
scopes = ["read"]
[[clients]]
client_id = "public"
grant_types = ["client_credentials", "refresh_token"]
scopes = ["read"]
[[clients]]
client_id = "spy"
client_secret = "spy-secret"
grant_types = ["client_credentials"]
scopes = ["tessera:introspect"]
[[clients]]
client_id = "short"
client_secret = "short-secret"
grant_types = ["client_credentials", "password", "refresh_token"]
scopes = ["read"]
access_ttl = "2s"
refresh_ttl = "2s"
[[clients]]
client_id = "bound"
client_secret = "bound-secret"
grant_types = ["password"]
scopes = ["read"]
tenant = "BETA"
[[clients]]
client_id = "clu"
client_secret = "clu-secret"
dialect = "cluster"
grant_types = ["password"]
scopes = ["all"]
[[clients]]
client_id = "hoth"
client_secret = "hoth-secret"
dialect = "hoth"
grant_types = ["password"]
scopes = ["all"]
[[clients]]
client_id = "mk"
client_secret = "mk-secret"
dialect = "maxkey"
grant_types = ["authorization_code"]
scopes = ["all"]
"#,
        users = ["alice", "bob", "mia"]
            .iter()
            .map(|u| format!("[[users]]\nusername = \"{u}\"\nphone = \"1350000{:04}\"\nemail = \"{u}@example.test\"\npassword = \"{u}-pw\"\n", u.len()))
            .collect::<String>()
            .replace("13500000003\"\nemail = \"bob", "13500000013\"\nemail = \"bob"),
        memberships = ["alice", "bob", "mia", "carl", "spring", "dora", "ivy", "ezra", "lena", "lock"]
            .iter()
            .map(|u| format!("[[memberships]]\nuser = \"{u}\"\ntenant = \"ACME\"\norg = \"HQ\"\nroles = [\"user\"]\ndefault = true\n"))
            .collect::<String>(),
    )
}

pub async fn app() -> TestApp {
    TestApp::spawn(&bootstrap()).await
}
