//! One storage conformance suite, run against SQLite (always) and the real PostgreSQL
//! (`tessera_testkit::pg`; required in CI). Each check is an `async fn(&Backend)`; the
//! `conformance!` macro makes a SQLite test and a PostgreSQL test of it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use tessera_core::clock::ManualClock;
use tessera_core::engine::EngineDeps;
use tessera_core::ids::*;
use tessera_core::lang::Catalogue;
use tessera_core::model::*;
use tessera_core::password::{HashParams, PasswordHasher};
use tessera_core::secret::TokenHash;
use tessera_core::store::{BootstrapError, Store, UserPatch};
use tessera_core::{Engine, EngineConfig};

const NOW: i64 = 1_800_000_000;

struct Backend {
    store: Arc<dyn Store>,
    engine: Engine,
    _clock: Arc<ManualClock>,
}

const FIXTURE: &str = r#"
[[tenants]]
code = "T1"
id = 11
name = "Tenant one"
[[tenants]]
code = "T2"
name = "Tenant two"
enabled = false
[[orgs]]
tenant = "T1"
code = "O1"
id = 111
name = "Org one"
type = "SAAS"
[[orgs]]
tenant = "T2"
code = "O2"
name = "Org two"
type = "CHANNEL"
[[products]]
id = 7
name = "CRM"
[[org_products]]
org = "T1/O1"
product = 7
name = "CRM one"
[[users]]
username = "alice"
id = 21
phone = "13500000001"
email = "alice@example.test"
password = "pw-alice"
display_name = "Alice"
birthday = "1990-01-02"
[[users]]
username = "bob"
phone = "13500000002"
password_hash = "$2b$04$W.ZkPOgwhqYqKz5nQ1J1gOcg/7TbT2jW0Qov1Ql5Vt9fDe8e0KUeK"
[[memberships]]
user = "alice"
tenant = "T2"
org = "O2"
roles = ["user"]
[[memberships]]
user = "alice"
tenant = "T1"
org = "O1"
roles = ["admin"]
default = true
[[clients]]
client_id = "c1"
client_secret = "s1"
grant_types = ["client_credentials", "refresh_token"]
scopes = ["read", "write"]
tenant = "T1"
access_ttl = "10m"
[[clients]]
client_id = "pub"
dialect = "hoth"
grant_types = ["password"]
[[app_keys]]
app_id = "app"
app_key = "key"
app_secret = "secret"
org = "T1/O1"
product = 7
user = "alice"
system_admin = true
[[open_login_ways]]
code = "wechat"
name = "微信"
url = "https://example.test/a"
"#;

async fn backend_on(url: &str) -> Backend {
    let store = tessera_store::connect(url, 4)
        .await
        .expect("connect and migrate");
    let clock = Arc::new(ManualClock::new(NOW));
    let hasher = PasswordHasher::new(
        HashParams {
            m_kib: 256,
            t: 1,
            p: 1,
        },
        2,
        std::time::Duration::from_secs(10),
    )
    .unwrap();
    let engine = Engine::new(EngineDeps {
        store: store.clone(),
        ephemeral: Arc::new(tessera_testkit::MemoryEphemeral::new(clock.clone())),
        sms_sender: Arc::new(tessera_core::sms::NoSender),
        sms_policy: Default::default(),
        transport: Arc::new(tessera_core::transport::NoTransport),
        signer: Arc::new(tessera_core::signer::NoSigner),
        clock: clock.clone(),
        hasher,
        cfg: EngineConfig::default(),
        catalogue: Arc::new(Catalogue::load().unwrap()),
    })
    .unwrap();
    Backend {
        store,
        engine,
        _clock: clock,
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let b = super::backend_on(&format!("sqlite://{}/nested/t.db", dir.path().display())).await;
                    super::$name(&b).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = tessera_testkit::pg::fresh_database().await else { return };
                    let b = super::backend_on(&db.url).await;
                    super::$name(&b).await;
                    drop(b);
                    db.drop_db().await;
                }
            )*
        }
    };
}

conformance!(
    bootstrap_loads_the_whole_model,
    bootstrap_applied_twice_changes_nothing,
    bootstrap_with_a_missing_reference_applies_nothing,
    bootstrap_updates_a_changed_field,
    users_are_found_by_username_phone_and_email,
    password_failures_count_and_lock_at_the_maximum,
    login_success_resets_the_count_and_stores_a_rehash,
    grants_round_trip_by_hash_only,
    rotation_spends_once_and_reuse_revokes_the_family,
    rotation_of_an_expired_or_unknown_token_changes_nothing,
    revocation_and_purge,
    audit_events_are_kept_newest_first,
    user_product_links_are_upserted_listed_and_deleted,
    concurrent_token_writes_all_commit_and_a_refresh_token_is_spent_once,
    concurrent_rotations_of_different_tokens_each_get_their_own_outcome,
    lone_tokens_have_no_family_to_revoke,
    spending_a_refresh_token_checks_client_user_and_reuse_in_one_step,
    spending_a_refresh_token_runs_the_admission_checks_and_the_family_bound,
    the_spend_admits_exactly_whom_the_engine_admits,
    a_revoked_family_covers_tokens_stored_later_until_all_can_have_expired,
    a_grant_of_more_rows_than_one_insert_takes_is_stored_whole,
    a_burst_of_spends_larger_than_one_statement_spends_each_token_once,
    a_taken_token_hash_fails_its_own_grant_and_no_other,
    usernames_are_found_and_unique_by_their_key,
    username_keys_are_refreshed_and_a_clash_leaves_the_holder_its_key,
);

async fn seed(b: &Backend) {
    b.engine
        .apply_bootstrap_text(FIXTURE)
        .await
        .expect("fixture applies");
}

async fn bootstrap_loads_the_whole_model(b: &Backend) {
    seed(b).await;
    let s = &b.store;
    let t1 = s.tenant_by_code("T1").await.unwrap().unwrap();
    assert_eq!(
        (t1.id, t1.enabled, t1.sms_second_factor),
        (TenantId(11), true, SmsSecondFactor::Never)
    );
    assert!(!s.tenant_by_code("T2").await.unwrap().unwrap().enabled);
    assert_eq!(
        s.tenant_by_id(TenantId(11)).await.unwrap().unwrap().code,
        "T1"
    );
    let o1 = s.org_by_id(OrgId(111)).await.unwrap().unwrap();
    assert_eq!(
        (o1.code.as_str(), o1.org_type, o1.tenant_id),
        ("O1", OrgType::Saas, TenantId(11))
    );
    let alice = s.user_by_id(UserId(21)).await.unwrap().unwrap();
    assert_eq!(alice.birthday.as_deref(), Some("1990-01-02"));
    assert!(
        alice
            .password_hash
            .as_deref()
            .unwrap()
            .starts_with("$argon2id$"),
        "clear passwords are hashed on load"
    );
    let ms = s.memberships_of(alice.id).await.unwrap();
    assert_eq!(ms.len(), 2);
    assert!(ms[0].is_default, "the default membership comes first");
    assert_eq!(
        (
            ms[0].tenant.code.as_str(),
            ms[0].org.code.as_str(),
            ms[0].roles.clone()
        ),
        ("T1", "O1", vec!["admin".to_string()])
    );
    let c1 = s.client_by_client_id("c1").await.unwrap().unwrap();
    assert!(
        c1.secret_hash.unwrap().ct_eq(&TokenHash::of("s1")),
        "client secrets are stored as SHA-256"
    );
    assert_eq!(
        c1.grant_types,
        vec![GrantType::ClientCredentials, GrantType::RefreshToken]
    );
    assert_eq!(
        (c1.tenant_id, c1.access_ttl, c1.refresh_ttl),
        (Some(TenantId(11)), Some(600), None)
    );
    let public = s.client_by_client_id("pub").await.unwrap().unwrap();
    assert!(public.is_public());
    assert_eq!(public.dialect, Dialect::Hoth);
    let k = s.app_key_by_key("key").await.unwrap().unwrap();
    assert!(k.secret_hash.ct_eq(&TokenHash::of("secret")));
    assert_eq!(
        (k.org_id, k.product_id, k.user_id, k.system_admin),
        (OrgId(111), ProductId(7), Some(UserId(21)), true)
    );
    assert_eq!(s.open_login_ways().await.unwrap()[0].name, "微信");
    assert!(s.client_by_client_id("nope").await.unwrap().is_none());
}

async fn bootstrap_applied_twice_changes_nothing(b: &Backend) {
    let first = b.engine.apply_bootstrap_text(FIXTURE).await.unwrap();
    assert!(first.changed > 10);
    let hash_before = b
        .store
        .user_by_id(UserId(21))
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    let second = b.engine.apply_bootstrap_text(FIXTURE).await.unwrap();
    assert_eq!(second.changed, 0, "{second:?}");
    assert_eq!(second.unchanged, first.changed);
    assert_eq!(
        b.store
            .user_by_id(UserId(21))
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        hash_before
    );
}

async fn bootstrap_with_a_missing_reference_applies_nothing(b: &Backend) {
    let bad = r#"
[[tenants]]
code = "NEW"
name = "New"
[[orgs]]
tenant = "NEW"
code = "X"
name = "X"
[[memberships]]
user = "ghost"
tenant = "NEW"
org = "X"
"#;
    match b.engine.apply_bootstrap_text(bad).await {
        Err(BootstrapError::Invalid { entry, message }) => {
            assert!(entry.starts_with("memberships[0]"), "{entry}");
            assert!(message.contains("ghost"), "{message}");
        }
        other => panic!("expected an invalid reference, got {other:?}"),
    }
    assert!(
        b.store.tenant_by_code("NEW").await.unwrap().is_none(),
        "the transaction rolled back"
    );
}

async fn bootstrap_updates_a_changed_field(b: &Backend) {
    seed(b).await;
    let changed = FIXTURE.replace("name = \"Tenant one\"", "name = \"Renamed\"");
    let r = b.engine.apply_bootstrap_text(&changed).await.unwrap();
    assert_eq!(r.changed, 1);
    assert_eq!(
        b.store.tenant_by_code("T1").await.unwrap().unwrap().name,
        "Renamed"
    );
}

async fn users_are_found_by_username_phone_and_email(b: &Backend) {
    seed(b).await;
    let s = &b.store;
    for (f, v) in [
        (LoginField::Username, "alice"),
        (LoginField::Phone, "13500000001"),
        (LoginField::Email, "alice@example.test"),
    ] {
        assert_eq!(s.user_by_login(f, v).await.unwrap().unwrap().id, UserId(21));
    }
    assert!(s
        .user_by_login(LoginField::Phone, "alice")
        .await
        .unwrap()
        .is_none());
}

async fn password_failures_count_and_lock_at_the_maximum(b: &Backend) {
    seed(b).await;
    let s = &b.store;
    for expected in 1..=4 {
        let c = s
            .record_password_failure(UserId(21), 5, NOW + 1800)
            .await
            .unwrap();
        assert_eq!((c.failures, c.locked_until), (expected, None));
    }
    let c = s
        .record_password_failure(UserId(21), 5, NOW + 1800)
        .await
        .unwrap();
    assert_eq!(c.locked_until, Some(NOW + 1800), "the fifth failure locks");
    let u = s.user_by_id(UserId(21)).await.unwrap().unwrap();
    assert_eq!((u.failed_attempts, u.locked_until), (0, Some(NOW + 1800)));
}

async fn login_success_resets_the_count_and_stores_a_rehash(b: &Backend) {
    seed(b).await;
    let s = &b.store;
    s.record_password_failure(UserId(21), 5, NOW).await.unwrap();
    s.record_login_success(UserId(21), Some("$argon2id$new"))
        .await
        .unwrap();
    let u = s.user_by_id(UserId(21)).await.unwrap().unwrap();
    assert_eq!(
        (u.failed_attempts, u.password_hash.as_deref()),
        (0, Some("$argon2id$new"))
    );
}

fn grant(family: i64, tokens: &[(&str, TokenKind, i64)]) -> NewGrant {
    NewGrant {
        family: FamilyId(family),
        subject: TokenSubject {
            client_id: ClientId("c1".into()),
            user_id: Some(UserId(21)),
            tenant_id: Some(TenantId(11)),
            org_id: Some(OrgId(111)),
            app_key_id: None,
            scope: "read".into(),
            device_id: Some("dev".into()),
            source_type: Some("web".into()),
            session_id: None,
        },
        issued_at: NOW,
        auth_time: NOW,
        tokens: tokens
            .iter()
            .map(|(t, k, exp)| NewToken {
                hash: TokenHash::of(t),
                kind: *k,
                expires_at: *exp,
            })
            .collect(),
    }
}

async fn grants_round_trip_by_hash_only(b: &Backend) {
    let g = grant(
        1,
        &[
            ("a1", TokenKind::Access, NOW + 60),
            ("r1", TokenKind::Refresh, NOW + 600),
        ],
    );
    b.store.insert_grant(&g).await.unwrap();
    let a = b
        .store
        .token_by_hash(&TokenHash::of("a1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (a.kind, a.family, a.expires_at, a.issued_at),
        (TokenKind::Access, FamilyId(1), NOW + 60, NOW)
    );
    assert_eq!(a.subject, g.subject);
    assert!(a.is_live(NOW) && !a.is_live(NOW + 60));
    assert_eq!(
        b.store
            .token_by_hash(&TokenHash::of("r1"))
            .await
            .unwrap()
            .unwrap()
            .kind,
        TokenKind::Refresh
    );
    assert!(b
        .store
        .token_by_hash(&TokenHash::of("zz"))
        .await
        .unwrap()
        .is_none());
}

async fn rotation_spends_once_and_reuse_revokes_the_family(b: &Backend) {
    b.store
        .insert_grant(&grant(
            2,
            &[
                ("a1", TokenKind::Access, NOW + 60),
                ("r1", TokenKind::Refresh, NOW + 600),
            ],
        ))
        .await
        .unwrap();
    let next = grant(
        2,
        &[
            ("a2", TokenKind::Access, NOW + 60),
            ("r2", TokenKind::Refresh, NOW + 600),
        ],
    );
    assert_eq!(
        b.store
            .rotate_refresh(&TokenHash::of("r1"), NOW, &next)
            .await
            .unwrap(),
        RotateOutcome::Rotated
    );
    assert!(b
        .store
        .token_by_hash(&TokenHash::of("r1"))
        .await
        .unwrap()
        .unwrap()
        .used_at
        .is_some());
    assert!(b
        .store
        .token_by_hash(&TokenHash::of("r2"))
        .await
        .unwrap()
        .unwrap()
        .is_live(NOW));
    let again = grant(
        2,
        &[
            ("a3", TokenKind::Access, NOW + 60),
            ("r3", TokenKind::Refresh, NOW + 600),
        ],
    );
    assert_eq!(
        b.store
            .rotate_refresh(&TokenHash::of("r1"), NOW + 1, &again)
            .await
            .unwrap(),
        RotateOutcome::Reused
    );
    for t in ["a1", "a2", "r2"] {
        assert!(
            b.store
                .token_by_hash(&TokenHash::of(t))
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some(),
            "{t} revoked with its family"
        );
    }
    assert!(
        b.store
            .token_by_hash(&TokenHash::of("r3"))
            .await
            .unwrap()
            .is_none(),
        "nothing issued on reuse"
    );
}

async fn rotation_of_an_expired_or_unknown_token_changes_nothing(b: &Backend) {
    b.store
        .insert_grant(&grant(3, &[("r1", TokenKind::Refresh, NOW + 10)]))
        .await
        .unwrap();
    let next = grant(3, &[("a2", TokenKind::Access, NOW + 60)]);
    assert_eq!(
        b.store
            .rotate_refresh(&TokenHash::of("r1"), NOW + 10, &next)
            .await
            .unwrap(),
        RotateOutcome::NotLive
    );
    assert_eq!(
        b.store
            .rotate_refresh(&TokenHash::of("zz"), NOW, &next)
            .await
            .unwrap(),
        RotateOutcome::NotLive
    );
    assert!(b
        .store
        .token_by_hash(&TokenHash::of("a2"))
        .await
        .unwrap()
        .is_none());
    assert!(b
        .store
        .token_by_hash(&TokenHash::of("r1"))
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_none());
}

async fn revocation_and_purge(b: &Backend) {
    b.store
        .insert_grant(&grant(
            4,
            &[
                ("a1", TokenKind::Access, NOW + 60),
                ("r1", TokenKind::Refresh, NOW + 600),
            ],
        ))
        .await
        .unwrap();
    assert!(b
        .store
        .revoke_token(&TokenHash::of("a1"), NOW)
        .await
        .unwrap());
    assert!(
        !b.store
            .revoke_token(&TokenHash::of("a1"), NOW)
            .await
            .unwrap(),
        "already revoked"
    );
    assert!(
        b.store
            .token_by_hash(&TokenHash::of("r1"))
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none(),
        "one token only"
    );
    assert_eq!(b.store.revoke_family(FamilyId(4), NOW).await.unwrap(), 1);
    assert_eq!(b.store.purge_expired_tokens(NOW + 61).await.unwrap(), 1);
    assert!(b
        .store
        .token_by_hash(&TokenHash::of("a1"))
        .await
        .unwrap()
        .is_none());
    assert!(b
        .store
        .token_by_hash(&TokenHash::of("r1"))
        .await
        .unwrap()
        .is_some());
}

async fn audit_events_are_kept_newest_first(b: &Backend) {
    for (i, outcome) in ["success", "password_wrong"].iter().enumerate() {
        b.store
            .record_audit(&AuditEvent {
                at: NOW + i as i64,
                kind: "login".into(),
                dialect: "standard".into(),
                outcome: outcome.to_string(),
                user_id: Some(UserId(21)),
                client_id: Some("c1".into()),
                ip: Some("127.0.0.1".into()),
                detail: String::new(),
            })
            .await
            .unwrap();
    }
    let ev = b.store.recent_audit(10).await.unwrap();
    assert_eq!(
        ev.iter().map(|e| e.outcome.as_str()).collect::<Vec<_>>(),
        vec!["password_wrong", "success"]
    );
}

/// Many writes at once (SQLite batches them into shared transactions): every insert is
/// readable after its call returns, and of concurrent rotations of one refresh token exactly one
/// succeeds; the others are reuse.
async fn concurrent_token_writes_all_commit_and_a_refresh_token_is_spent_once(b: &Backend) {
    let names: Vec<String> = (0..200).map(|i| format!("cc{i}")).collect();
    let inserts = names.iter().enumerate().map(|(i, n)| {
        let g = grant(
            1000 + i as i64,
            &[(n.as_str(), TokenKind::Access, NOW + 60)],
        );
        let store = b.store.clone();
        async move { store.insert_grant(&g).await }
    });
    for r in futures_join_all(inserts).await {
        r.unwrap();
    }
    for n in &names {
        assert!(
            b.store
                .token_by_hash(&TokenHash::of(n))
                .await
                .unwrap()
                .is_some(),
            "{n}"
        );
    }
    b.store
        .insert_grant(&grant(5000, &[("rr", TokenKind::Refresh, NOW + 600)]))
        .await
        .unwrap();
    let new_names: Vec<String> = (0..8).map(|i| format!("rr-next{i}")).collect();
    let rotations = new_names.iter().map(|n| {
        let g = grant(5000, &[(n.as_str(), TokenKind::Refresh, NOW + 600)]);
        let store = b.store.clone();
        async move {
            store
                .rotate_refresh(&TokenHash::of("rr"), NOW + 1, &g)
                .await
        }
    });
    let outcomes: Vec<RotateOutcome> = futures_join_all(rotations)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == RotateOutcome::Rotated)
            .count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == RotateOutcome::Reused)
            .count(),
        7,
        "{outcomes:?}"
    );
    // Reuse revoked the family, the winner's new token included.
    for n in &new_names {
        if let Some(t) = b.store.token_by_hash(&TokenHash::of(n)).await.unwrap() {
            assert!(!t.is_live(NOW + 2), "{n} survived the reuse");
        }
    }
}

/// Rotations queued together are spent by one statement (`run_batch`): each still gets the
/// outcome it would get alone, whether live, spent before, expired or unknown, and the new
/// tokens of every rotation that succeeded are stored.
async fn concurrent_rotations_of_different_tokens_each_get_their_own_outcome(b: &Backend) {
    let names: Vec<String> = (0..60).map(|i| format!("br{i}")).collect();
    for (i, n) in names.iter().enumerate() {
        b.store
            .insert_grant(&grant(
                6000 + i as i64,
                &[(n.as_str(), TokenKind::Refresh, NOW + 600)],
            ))
            .await
            .unwrap();
    }
    b.store
        .insert_grant(&grant(6999, &[("bx", TokenKind::Refresh, NOW)]))
        .await
        .unwrap();
    // br0 is spent before the burst: presenting it again is reuse.
    let first = grant(6000, &[("br0-next", TokenKind::Refresh, NOW + 600)]);
    assert_eq!(
        b.store
            .rotate_refresh(&TokenHash::of("br0"), NOW, &first)
            .await
            .unwrap(),
        RotateOutcome::Rotated
    );
    let mut olds: Vec<String> = names.clone();
    olds.push("bx".into());
    olds.push("nobody".into());
    let rotations = olds.iter().enumerate().map(|(i, old)| {
        let next = format!("{old}-burst");
        let g = grant(
            6000 + i as i64,
            &[(next.as_str(), TokenKind::Refresh, NOW + 600)],
        );
        let store = b.store.clone();
        let old = TokenHash::of(old);
        async move { store.rotate_refresh(&old, NOW + 1, &g).await }
    });
    let outcomes: Vec<RotateOutcome> = futures_join_all(rotations)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(outcomes[0], RotateOutcome::Reused);
    for (i, o) in outcomes.iter().enumerate().take(60).skip(1) {
        assert_eq!(*o, RotateOutcome::Rotated, "br{i}");
        let t = b
            .store
            .token_by_hash(&TokenHash::of(&format!("br{i}-burst")))
            .await
            .unwrap()
            .expect("the new token of a rotation is stored");
        assert!(t.is_live(NOW + 1));
    }
    assert_eq!(outcomes[60], RotateOutcome::NotLive, "expired");
    assert_eq!(outcomes[61], RotateOutcome::NotLive, "unknown");
    // The reuse revoked br0's family, the token of its first rotation included.
    let t = b
        .store
        .token_by_hash(&TokenHash::of("br0-next"))
        .await
        .unwrap()
        .unwrap();
    assert!(!t.is_live(NOW + 1));
    assert!(b
        .store
        .token_by_hash(&TokenHash::of("bx-burst"))
        .await
        .unwrap()
        .is_none());
}

/// `spend_refresh` (the refresh grant without a read first): another client's token is left
/// alone, spent or not; the owner's spend stores the next tokens with the old subject; the
/// owner's reuse revokes the family; a user who may no longer sign in gets nothing and keeps an
/// unspent token.
async fn spending_a_refresh_token_checks_client_user_and_reuse_in_one_step(b: &Backend) {
    seed(b).await;
    let s = &b.store;
    s.insert_grant(&grant(7000, &[("sp1", TokenKind::Refresh, NOW + 600)]))
        .await
        .unwrap();
    let next = |a: &str, r: &str| {
        vec![
            NewToken {
                hash: TokenHash::of(a),
                kind: TokenKind::Access,
                expires_at: NOW + 60,
            },
            NewToken {
                hash: TokenHash::of(r),
                kind: TokenKind::Refresh,
                expires_at: NOW + 600,
            },
        ]
    };
    let c1 = ClientId("c1".into());
    let other = ClientId("other".into());
    let old = TokenHash::of("sp1");
    assert_eq!(
        s.spend_refresh(&old, &other, NOW, 0, &next("x-a", "x-r"))
            .await
            .unwrap(),
        SpendOutcome::NotLive
    );
    let SpendOutcome::Rotated(rec) = s
        .spend_refresh(&old, &c1, NOW, 0, &next("sp1-a", "sp1-r"))
        .await
        .unwrap()
    else {
        panic!("the owner's live token is spent");
    };
    assert_eq!((rec.family, rec.used_at), (FamilyId(7000), None));
    // Every column comes back from the spend as stored (it is returned packed, in one value).
    assert_eq!(rec.subject, grant(7000, &[]).subject);
    assert_eq!(
        (rec.kind, rec.issued_at, rec.expires_at, rec.revoked_at),
        (TokenKind::Refresh, NOW, NOW + 600, None)
    );
    for n in ["sp1-a", "sp1-r"] {
        let t = s.token_by_hash(&TokenHash::of(n)).await.unwrap().unwrap();
        assert!(t.is_live(NOW), "{n}");
        assert_eq!((t.family, &t.subject), (FamilyId(7000), &rec.subject));
    }
    assert!(s
        .token_by_hash(&TokenHash::of("x-r"))
        .await
        .unwrap()
        .is_none());
    // Another client presenting the spent token revokes nothing.
    assert_eq!(
        s.spend_refresh(&old, &other, NOW, 0, &next("y-a", "y-r"))
            .await
            .unwrap(),
        SpendOutcome::NotLive
    );
    assert!(s
        .token_by_hash(&TokenHash::of("sp1-r"))
        .await
        .unwrap()
        .unwrap()
        .is_live(NOW));
    // The owner presenting it again: reuse, the family goes.
    assert_eq!(
        s.spend_refresh(&old, &c1, NOW, 0, &next("z-a", "z-r"))
            .await
            .unwrap(),
        SpendOutcome::Reused
    );
    assert!(!s
        .token_by_hash(&TokenHash::of("sp1-r"))
        .await
        .unwrap()
        .unwrap()
        .is_live(NOW));
    // A disabled user's token is not spent.
    s.insert_grant(&grant(7001, &[("sp2", TokenKind::Refresh, NOW + 600)]))
        .await
        .unwrap();
    let off = UserPatch {
        enabled: Some(false),
        ..Default::default()
    };
    assert!(s.update_user(UserId(21), &off).await.unwrap());
    assert_eq!(
        s.spend_refresh(&TokenHash::of("sp2"), &c1, NOW, 0, &next("w-a", "w-r"))
            .await
            .unwrap(),
        SpendOutcome::NotLive
    );
    let t = s
        .token_by_hash(&TokenHash::of("sp2"))
        .await
        .unwrap()
        .unwrap();
    assert!(t.used_at.is_none() && t.is_live(NOW));
}

/// Issue 15, finding 6: the spend runs a sign-in's admission checks again, and a family older
/// than `since` (`[tokens] refresh_family_max`) is not spent; the next tokens keep the
/// family's `auth_time`.
async fn spending_a_refresh_token_runs_the_admission_checks_and_the_family_bound(b: &Backend) {
    seed(b).await;
    let s = &b.store;
    let c1 = ClientId("c1".into());
    let next = |a: &str, r: &str| {
        vec![
            NewToken {
                hash: TokenHash::of(a),
                kind: TokenKind::Access,
                expires_at: NOW + 60,
            },
            NewToken {
                hash: TokenHash::of(r),
                kind: TokenKind::Refresh,
                expires_at: NOW + 600,
            },
        ]
    };
    let mut old = grant(7100, &[("fm1", TokenKind::Refresh, NOW + 600)]);
    old.auth_time = NOW - 1000;
    s.insert_grant(&old).await.unwrap();
    assert_eq!(
        s.spend_refresh(&TokenHash::of("fm1"), &c1, NOW, NOW - 999, &next("a", "b"))
            .await
            .unwrap(),
        SpendOutcome::NotLive,
        "a family signed in before `since` is over"
    );
    let SpendOutcome::Rotated(rec) = s
        .spend_refresh(
            &TokenHash::of("fm1"),
            &c1,
            NOW,
            NOW - 1000,
            &next("fm1-a", "fm1-r"),
        )
        .await
        .unwrap()
    else {
        panic!("a family signed in at `since` is still live");
    };
    assert_eq!(rec.auth_time, NOW - 1000);
    let t = s
        .token_by_hash(&TokenHash::of("fm1-r"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (t.auth_time, t.issued_at),
        (NOW - 1000, NOW),
        "the next tokens keep the family's sign-in time"
    );

    // The tenant disabled: not spent; enabled again: spent.
    s.insert_grant(&grant(7101, &[("fm2", TokenKind::Refresh, NOW + 600)]))
        .await
        .unwrap();
    let mut t1 = s.tenant_by_code("T1").await.unwrap().unwrap();
    t1.enabled = false;
    s.put_tenant(&t1, NOW).await.unwrap();
    assert_eq!(
        s.spend_refresh(&TokenHash::of("fm2"), &c1, NOW, 0, &next("c", "d"))
            .await
            .unwrap(),
        SpendOutcome::NotLive,
        "a token of a disabled tenant is not spent"
    );
    t1.enabled = true;
    s.put_tenant(&t1, NOW).await.unwrap();

    // The account expired: not spent.
    let expired = UserPatch {
        expires_at: Some(Some(NOW - 1)),
        ..Default::default()
    };
    assert!(s.update_user(UserId(21), &expired).await.unwrap());
    assert_eq!(
        s.spend_refresh(&TokenHash::of("fm2"), &c1, NOW, 0, &next("e", "f"))
            .await
            .unwrap(),
        SpendOutcome::NotLive,
        "an expired account's token is not spent"
    );
    let never = UserPatch {
        expires_at: Some(None),
        ..Default::default()
    };
    assert!(s.update_user(UserId(21), &never).await.unwrap());

    // No longer a member of the tenant: not spent.
    let ms = s.memberships_of(UserId(21)).await.unwrap();
    for m in ms.iter().filter(|m| m.tenant.id == TenantId(11)) {
        assert!(s
            .delete_membership(UserId(21), m.tenant.id, m.org.id)
            .await
            .unwrap());
    }
    assert_eq!(
        s.spend_refresh(&TokenHash::of("fm2"), &c1, NOW, 0, &next("g", "h"))
            .await
            .unwrap(),
        SpendOutcome::NotLive,
        "a token of a tenant the user left is not spent"
    );
    let t = s
        .token_by_hash(&TokenHash::of("fm2"))
        .await
        .unwrap()
        .unwrap();
    assert!(t.is_live(NOW), "a refused spend leaves the token as it was");
}

/// The refresh eligibility rule is stated twice, in the engine (`Engine::may_refresh`, used by
/// the scope-narrowing refresh) and in the spend statement (`Store::spend_refresh`): for each
/// state of the user, its tenant and its membership, the store spends exactly when the engine
/// admits (issue 16, item 3).
async fn the_spend_admits_exactly_whom_the_engine_admits(b: &Backend) {
    seed(b).await;
    let s = &b.store;
    let c1 = ClientId("c1".into());
    let next = |i: usize| {
        vec![
            NewToken {
                hash: TokenHash::of(&format!("adm-a{i}")),
                kind: TokenKind::Access,
                expires_at: NOW + 60,
            },
            NewToken {
                hash: TokenHash::of(&format!("adm-r{i}")),
                kind: TokenKind::Refresh,
                expires_at: NOW + 600,
            },
        ]
    };
    let patch = |p: UserPatch| async move { assert!(s.update_user(UserId(21), &p).await.unwrap()) };
    let states = [
        "as seeded",
        "disabled",
        "not active",
        "expired",
        "locked",
        "tenant disabled",
        "membership removed",
        "moved to another org of the tenant",
    ];
    // A second org of T1, for the move.
    let mut o1b = s.org_by_id(OrgId(111)).await.unwrap().unwrap();
    o1b.id = OrgId(112);
    o1b.code = "O1B".into();
    s.put_org(&o1b).await.unwrap();
    for (i, state) in states.iter().enumerate() {
        match *state {
            "disabled" => {
                patch(UserPatch {
                    enabled: Some(false),
                    ..Default::default()
                })
                .await
            }
            "not active" => {
                patch(UserPatch {
                    active: Some(false),
                    ..Default::default()
                })
                .await
            }
            "expired" => {
                patch(UserPatch {
                    expires_at: Some(Some(NOW - 1)),
                    ..Default::default()
                })
                .await
            }
            "locked" => {
                s.record_password_failure(UserId(21), 1, NOW + 600)
                    .await
                    .unwrap();
            }
            "tenant disabled" => {
                let mut t = s.tenant_by_code("T1").await.unwrap().unwrap();
                t.enabled = false;
                s.put_tenant(&t, NOW).await.unwrap();
            }
            "membership removed" => {
                assert!(s
                    .delete_membership(UserId(21), TenantId(11), OrgId(111))
                    .await
                    .unwrap());
            }
            "moved to another org of the tenant" => {
                assert!(s
                    .delete_membership(UserId(21), TenantId(11), OrgId(111))
                    .await
                    .unwrap());
                s.put_membership(
                    UserId(21),
                    TenantId(11),
                    OrgId(112),
                    &["admin".to_string()],
                    true,
                )
                .await
                .unwrap();
            }
            _ => {}
        }
        let name = format!("adm{i}");
        let g = grant(
            7200 + i as i64,
            &[(name.as_str(), TokenKind::Refresh, NOW + 600)],
        );
        s.insert_grant(&g).await.unwrap();
        let admitted = b.engine.may_refresh(&g.subject).await.unwrap();
        let spent = matches!(
            s.spend_refresh(&TokenHash::of(&name), &c1, NOW, 0, &next(i))
                .await
                .unwrap(),
            SpendOutcome::Rotated(_)
        );
        assert_eq!(
            spent, admitted,
            "{state}: the store and the engine disagree"
        );
        assert_eq!(admitted, *state == "as seeded", "{state}");
        // Back to the seeded state.
        match *state {
            "disabled" | "not active" | "expired" => {
                patch(UserPatch {
                    enabled: Some(true),
                    active: Some(true),
                    expires_at: Some(None),
                    ..Default::default()
                })
                .await
            }
            "locked" => {
                assert!(s.unlock_user(UserId(21)).await.unwrap());
            }
            "tenant disabled" => {
                let mut t = s.tenant_by_code("T1").await.unwrap().unwrap();
                t.enabled = true;
                s.put_tenant(&t, NOW).await.unwrap();
            }
            "membership removed" | "moved to another org of the tenant" => {
                s.delete_membership(UserId(21), TenantId(11), OrgId(112))
                    .await
                    .unwrap();
                s.put_membership(
                    UserId(21),
                    TenantId(11),
                    OrgId(111),
                    &["admin".to_string()],
                    true,
                )
                .await
                .unwrap();
            }
            _ => {}
        }
    }
}

/// A burst of `spend_refresh` calls of one client, more than one statement of the SQLite
/// store takes (128): each live token is spent once with its own subject, the others are not.
async fn a_burst_of_spends_larger_than_one_statement_spends_each_token_once(b: &Backend) {
    seed(b).await;
    let names: Vec<String> = (0..200).map(|i| format!("bs{i}")).collect();
    for (i, n) in names.iter().enumerate() {
        let mut g = grant(
            8000 + i as i64,
            &[(n.as_str(), TokenKind::Refresh, NOW + 600)],
        );
        g.subject.scope = format!("s{i}");
        b.store.insert_grant(&g).await.unwrap();
    }
    let mut olds = names.clone();
    olds.push("bs-unknown".into());
    let spends = olds.iter().map(|old| {
        let store = b.store.clone();
        let hash = TokenHash::of(old);
        let next = vec![
            NewToken {
                hash: TokenHash::of(&format!("{old}-a")),
                kind: TokenKind::Access,
                expires_at: NOW + 60,
            },
            NewToken {
                hash: TokenHash::of(&format!("{old}-r")),
                kind: TokenKind::Refresh,
                expires_at: NOW + 600,
            },
        ];
        async move {
            store
                .spend_refresh(&hash, &ClientId("c1".into()), NOW, 0, &next)
                .await
        }
    });
    let outcomes: Vec<SpendOutcome> = futures_join_all(spends)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    for (i, o) in outcomes.iter().take(200).enumerate() {
        let SpendOutcome::Rotated(rec) = o else {
            panic!("bs{i} is spent: {o:?}");
        };
        assert_eq!(rec.family, FamilyId(8000 + i as i64));
        assert_eq!(rec.subject.scope, format!("s{i}"));
        let t = b
            .store
            .token_by_hash(&TokenHash::of(&format!("bs{i}-r")))
            .await
            .unwrap()
            .expect("the next refresh token is stored");
        assert_eq!(
            (t.family, t.subject.scope.as_str()),
            (rec.family, rec.subject.scope.as_str())
        );
        let old = b
            .store
            .token_by_hash(&TokenHash::of(&format!("bs{i}")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(old.used_at, Some(NOW));
    }
    assert_eq!(outcomes[200], SpendOutcome::NotLive);
}

/// Grants written together (one group commit) where one reuses a stored token's hash: that
/// grant fails and stores nothing; the others are stored and succeed.
async fn a_taken_token_hash_fails_its_own_grant_and_no_other(b: &Backend) {
    b.store
        .insert_grant(&grant(9000, &[("taken", TokenKind::Access, NOW + 60)]))
        .await
        .unwrap();
    let writes = (0..40).map(|i| {
        let store = b.store.clone();
        let g = if i == 20 {
            grant(
                9100,
                &[
                    ("dup-fresh", TokenKind::Access, NOW + 60),
                    ("taken", TokenKind::Refresh, NOW + 600),
                ],
            )
        } else {
            grant(
                9001 + i,
                &[(format!("ok{i}").as_str(), TokenKind::Access, NOW + 60)],
            )
        };
        async move { store.insert_grant(&g).await }
    });
    let results = futures_join_all(writes).await;
    for (i, r) in results.iter().enumerate() {
        if i == 20 {
            assert!(r.is_err(), "the grant with a taken hash fails");
        } else {
            assert!(r.is_ok(), "ok{i}: {r:?}");
            assert!(b
                .store
                .token_by_hash(&TokenHash::of(&format!("ok{i}")))
                .await
                .unwrap()
                .is_some());
        }
    }
    assert!(b
        .store
        .token_by_hash(&TokenHash::of("dup-fresh"))
        .await
        .unwrap()
        .is_none());
    let t = b
        .store
        .token_by_hash(&TokenHash::of("taken"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((t.kind, t.family), (TokenKind::Access, FamilyId(9000)));
}

/// Lone access tokens (client_credentials) share `FamilyId::NONE`: revoking "that family"
/// must not revoke them all.
async fn lone_tokens_have_no_family_to_revoke(b: &Backend) {
    for n in ["lone1", "lone2"] {
        b.store
            .insert_grant(&grant(
                FamilyId::NONE.0,
                &[(n, TokenKind::Access, NOW + 60)],
            ))
            .await
            .unwrap();
    }
    assert_eq!(b.store.revoke_family(FamilyId::NONE, NOW).await.unwrap(), 0);
    for n in ["lone1", "lone2"] {
        let t = b
            .store
            .token_by_hash(&TokenHash::of(n))
            .await
            .unwrap()
            .unwrap();
        assert!(t.is_live(NOW));
    }
}

/// `Store::revoke_family` remembers the family instead of marking each token: every read and
/// spend sees it, for tokens stored after the revocation too, and the memory is dropped only
/// once every token of the family must have expired (`MAX_TOKEN_LIFETIME`).
async fn a_revoked_family_covers_tokens_stored_later_until_all_can_have_expired(b: &Backend) {
    let s = &b.store;
    s.insert_grant(&grant(
        7,
        &[
            ("f7-a", TokenKind::Access, NOW + 60),
            ("f7-r", TokenKind::Refresh, NOW + 600),
        ],
    ))
    .await
    .unwrap();
    let revoked_at = |name: &'static str| async move {
        s.token_by_hash(&TokenHash::of(name))
            .await
            .unwrap()
            .unwrap()
            .revoked_at
    };
    assert_eq!(revoked_at("f7-r").await, None);
    assert_eq!(s.revoke_family(FamilyId(7), NOW).await.unwrap(), 1);
    assert_eq!(
        s.revoke_family(FamilyId(7), NOW + 1).await.unwrap(),
        0,
        "already revoked"
    );
    assert_eq!(revoked_at("f7-a").await, Some(NOW));
    assert_eq!(revoked_at("f7-r").await, Some(NOW));
    s.insert_grant(&grant(7, &[("f7-late", TokenKind::Access, NOW + 60)]))
        .await
        .unwrap();
    assert_eq!(revoked_at("f7-late").await, Some(NOW), "stored after");
    let listed = s.user_tokens(UserId(21), NOW).await.unwrap();
    assert!(
        listed.iter().all(|t| t.family != FamilyId(7)),
        "a revoked family's tokens are not listed as live"
    );
    let next = [NewToken {
        hash: TokenHash::of("f7-next"),
        kind: TokenKind::Access,
        expires_at: NOW + 60,
    }];
    assert_eq!(
        s.spend_refresh(
            &TokenHash::of("f7-r"),
            &ClientId("c1".into()),
            NOW + 2,
            0,
            &next
        )
        .await
        .unwrap(),
        SpendOutcome::NotLive,
        "a token of a revoked family cannot be spent"
    );
    assert_eq!(
        s.rotate_refresh(
            &TokenHash::of("f7-r"),
            NOW + 2,
            &grant(7, &[("f7-rot", TokenKind::Access, NOW + 60)])
        )
        .await
        .unwrap(),
        RotateOutcome::NotLive
    );
    assert!(s
        .token_by_hash(&TokenHash::of("f7-next"))
        .await
        .unwrap()
        .is_none());
    assert!(s
        .token_by_hash(&TokenHash::of("f7-rot"))
        .await
        .unwrap()
        .is_none());

    s.purge_expired_tokens(NOW + 1000).await.unwrap();
    s.insert_grant(&grant(7, &[("f7-after", TokenKind::Access, NOW + 10_000)]))
        .await
        .unwrap();
    assert_eq!(
        revoked_at("f7-after").await,
        Some(NOW),
        "remembered while a token of the family could still be live"
    );
    s.purge_expired_tokens(NOW + MAX_TOKEN_LIFETIME + 1)
        .await
        .unwrap();
    s.insert_grant(&grant(
        7,
        &[(
            "f7-reused-id",
            TokenKind::Access,
            NOW + MAX_TOKEN_LIFETIME + 100,
        )],
    ))
    .await
    .unwrap();
    assert_eq!(
        revoked_at("f7-reused-id").await,
        None,
        "forgotten once every token of it must have expired"
    );
}

/// The SQLite store inserts at most 128 rows per statement (padded statement sizes): a larger
/// write goes in several statements of one transaction, every row and every value intact.
async fn a_grant_of_more_rows_than_one_insert_takes_is_stored_whole(b: &Backend) {
    let names: Vec<String> = (0..300).map(|i| format!("many-{i}")).collect();
    let tokens: Vec<(&str, TokenKind, i64)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), TokenKind::Access, NOW + 60 + i as i64))
        .collect();
    b.store.insert_grant(&grant(9, &tokens)).await.unwrap();
    for i in [0usize, 1, 7, 8, 31, 32, 127, 128, 129, 255, 256, 299] {
        let t = b
            .store
            .token_by_hash(&TokenHash::of(&names[i]))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("row {i} stored"));
        assert_eq!(t.expires_at, NOW + 60 + i as i64);
        assert_eq!(t.family, FamilyId(9));
        assert_eq!(t.subject.device_id.as_deref(), Some("dev"));
        assert_eq!(t.subject.app_key_id, None);
    }
}

async fn user_product_links_are_upserted_listed_and_deleted(b: &Backend) {
    seed(b).await;
    let s = &b.store;
    // The fixture's app key made none for alice: links come from the admin API or bootstrap.
    let before = s.list_user_products(UserId(21)).await.unwrap();
    s.put_user_product(
        UserProductId(501),
        UserId(21),
        OrgId(111),
        ProductId(7),
        true,
    )
    .await
    .unwrap();
    s.put_user_product(
        UserProductId(502),
        UserId(21),
        OrgId(111),
        ProductId(7),
        false,
    )
    .await
    .unwrap();
    let after = s.list_user_products(UserId(21)).await.unwrap();
    assert_eq!(after.len(), before.len().max(1));
    assert!(after.contains(&("T1".to_string(), "O1".to_string(), ProductId(7), false)));
    assert_eq!(
        s.user_product(UserId(21), OrgId(111), ProductId(7))
            .await
            .unwrap()
            .map(|x| x.1),
        Some(false)
    );
    assert!(s
        .delete_user_product(UserId(21), OrgId(111), ProductId(7))
        .await
        .unwrap());
    assert!(!s
        .delete_user_product(UserId(21), OrgId(111), ProductId(7))
        .await
        .unwrap());
    assert!(s.list_user_products(UserId(21)).await.unwrap().is_empty());
}

/// Several Tessera processes starting at once on one PostgreSQL each run the migrations; the
/// advisory lock makes that safe (the others wait, then find nothing to do).
#[tokio::test]
async fn postgres_migrations_are_safe_when_processes_start_together() {
    let Some(db) = tessera_testkit::pg::fresh_database().await else {
        return;
    };
    let starts = (0..4).map(|_| {
        let url = db.url.clone();
        async move { tessera_store::connect(&url, 2).await.map(|_| ()) }
    });
    for r in futures_join_all(starts).await {
        r.expect("every process migrates or finds the schema up to date");
    }
    db.drop_db().await;
}

/// `join_all` without a dependency on `futures`: spawn each and await them in turn.
async fn futures_join_all<F>(fs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

fn new_user(name: &str) -> tessera_core::store::NewUser {
    tessera_core::store::NewUser {
        username: name.into(),
        phone: None,
        email: None,
        password_hash: None,
        user_type: UserType::P,
        display_name: String::new(),
        real_name: String::new(),
        enabled: true,
        active: true,
        superuser: false,
    }
}

/// Issue 15: a username is looked up and kept unique by its key (NFKC, lowercase, no
/// invisible characters); phone and e-mail holders are found for the clash checks.
async fn usernames_are_found_and_unique_by_their_key(b: &Backend) {
    seed(b).await;
    let s = &b.store;
    s.create_user(&new_user("Carol"), UserId(31), NOW)
        .await
        .unwrap();
    for v in ["Carol", "carol", "CAROL", "ｃａｒｏｌ", " Carol "] {
        let u = s.user_by_login(LoginField::Username, v).await.unwrap();
        assert_eq!(
            u.map(|u| (u.id, u.username)),
            Some((UserId(31), "Carol".to_string())),
            "{v:?}"
        );
    }
    assert_eq!(
        s.user_by_login(LoginField::Username, "ALICE")
            .await
            .unwrap()
            .unwrap()
            .id,
        UserId(21)
    );
    for v in ["car\u{200B}ol", "", "carol\u{FEFF}"] {
        assert!(
            s.user_by_login(LoginField::Username, v)
                .await
                .unwrap()
                .is_none(),
            "{v:?}"
        );
    }
    match s
        .create_user(&new_user("ＣＡＲＯＬ"), UserId(32), NOW)
        .await
    {
        Err(tessera_core::StoreError::Conflict { constraint }) => {
            assert!(constraint.contains("username"), "{constraint}")
        }
        other => panic!("{other:?}"),
    }
    assert!(s.user_by_id(UserId(32)).await.unwrap().is_none());
    assert!(s
        .create_user(&new_user("car\u{200B}ol"), UserId(33), NOW)
        .await
        .is_err());
    let ids = |v: Vec<User>| v.into_iter().map(|u| u.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s
            .users_holding(LoginField::Username, "carol")
            .await
            .unwrap()),
        [UserId(31)]
    );
    assert_eq!(
        ids(s
            .users_holding(LoginField::Username, "Carol")
            .await
            .unwrap()),
        Vec::<UserId>::new(),
        "a key, not a name"
    );
    assert_eq!(
        ids(s
            .users_holding(LoginField::Phone, "13500000001")
            .await
            .unwrap()),
        [UserId(21)]
    );
    assert_eq!(
        ids(s
            .users_holding(LoginField::Email, "ALICE@Example.TEST")
            .await
            .unwrap()),
        [UserId(21)],
        "e-mail ignoring case"
    );
    assert_eq!(
        ids(s
            .users_holding(LoginField::Email, "nobody@example.test")
            .await
            .unwrap()),
        Vec::<UserId>::new()
    );
}

/// Issue 15: `refresh_username_keys` rewrites keys that differ from the current rules; a key
/// wanted by two users stays with the one holding it, and the other is left without one.
async fn username_keys_are_refreshed_and_a_clash_leaves_the_holder_its_key(b: &Backend) {
    seed(b).await;
    let s = &b.store;
    let bob = s
        .user_by_login(LoginField::Username, "bob")
        .await
        .unwrap()
        .unwrap()
        .id;
    // Stale keys, as migration 0008 or an older version may leave them: alice's key on bob.
    s.set_username_key(UserId(21), Some("stale")).await.unwrap();
    s.set_username_key(bob, Some("alice")).await.unwrap();
    assert_eq!(
        s.user_by_login(LoginField::Username, "alice")
            .await
            .unwrap()
            .unwrap()
            .id,
        bob
    );
    match s.set_username_key(UserId(21), Some("alice")).await {
        Err(tessera_core::StoreError::Conflict { .. }) => {}
        other => panic!("{other:?}"),
    }
    let rep = b.engine.refresh_username_keys().await.unwrap();
    assert_eq!((rep.checked, rep.updated), (2, 2), "{rep:?}");
    assert!(rep.without_key.is_empty());
    assert_eq!(
        s.user_by_login(LoginField::Username, "alice")
            .await
            .unwrap()
            .unwrap()
            .id,
        UserId(21)
    );
    assert_eq!(
        s.user_by_login(LoginField::Username, "BOB")
            .await
            .unwrap()
            .unwrap()
            .id,
        bob
    );
    let page = s.username_keys(None, 10).await.unwrap();
    assert_eq!(page.len(), 2);
    assert!(page
        .iter()
        .all(|r| r.key.as_deref() == Some(r.username.as_str())));
    assert!(s
        .username_keys(Some(page[1].id), 10)
        .await
        .unwrap()
        .is_empty());

    // "Dave" kept no key (as a clash in migration 0008 leaves it); "dave" holds "dave".
    s.create_user(&new_user("Dave"), UserId(41), NOW)
        .await
        .unwrap();
    s.set_username_key(UserId(41), None).await.unwrap();
    s.create_user(&new_user("dave"), UserId(42), NOW)
        .await
        .unwrap();
    for _ in 0..2 {
        let rep = b.engine.refresh_username_keys().await.unwrap();
        assert_eq!((rep.checked, rep.updated), (4, 0), "{rep:?}");
        assert_eq!(rep.without_key, ["Dave"]);
        assert_eq!(
            s.user_by_login(LoginField::Username, "DAVE")
                .await
                .unwrap()
                .unwrap()
                .id,
            UserId(42)
        );
    }
    assert!(rep_shadowing(b).await.is_empty());
    // Names made before the cross-field checks (the store alone does not refuse them).
    s.create_user(&new_user("13500000002"), UserId(51), NOW)
        .await
        .unwrap();
    s.create_user(&new_user("Alice@Example.test"), UserId(52), NOW)
        .await
        .unwrap();
    let mut shadows = rep_shadowing(b).await;
    shadows.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        shadows,
        [
            (
                "13500000002".to_string(),
                "bob".to_string(),
                LoginField::Phone
            ),
            (
                "Alice@Example.test".to_string(),
                "alice".to_string(),
                LoginField::Email
            ),
        ]
    );
}

async fn rep_shadowing(b: &Backend) -> Vec<(String, String, LoginField)> {
    b.engine.refresh_username_keys().await.unwrap().shadowing
}

/// Migration 0008 on a database with users from before it: the SQL `lower()` keys where they
/// are unique, and the start-up refresh settles the rest (issue 15).
async fn legacy_users_get_keys_from_migration_0008_and_the_refresh(url: &str, pg: bool) {
    async fn upto_0007<DB: sqlx::Database>(m: sqlx::migrate::Migrator, pool: &sqlx::Pool<DB>)
    where
        <DB as sqlx::Database>::Connection: sqlx::migrate::Migrate,
    {
        let mut m = m;
        m.migrations = m
            .migrations
            .iter()
            .filter(|x| x.version <= 7)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        m.run(pool).await.unwrap();
    }
    const INSERT: &str = "INSERT INTO users (id, username, user_type, source, display_name, real_name, gender, title, \
        employee_number, portrait, state, enabled, active, phone_verified, email_verified, failed_attempts, created_at) \
        VALUES ($1, $2, 'P', 'local', '', '', 0, '', '', '', '', TRUE, TRUE, FALSE, FALSE, 0, $3)";
    // (id, username, created_at): "Alice" is older than "alice"; "ＢＯＢ" lowers to itself
    // in SQL; a zero-width space has no key.
    let legacy = [
        (1_i64, "alice", 200_i64),
        (2, "Alice", 100),
        (3, "ＢＯＢ", 100),
        (4, "al\u{200B}ice", 100),
        (5, "carl", 100),
    ];
    if pg {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        upto_0007(sqlx::migrate!("./migrations/postgres"), &pool).await;
        for (id, name, at) in legacy {
            sqlx::query(INSERT)
                .bind(id)
                .bind(name)
                .bind(at)
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    } else {
        let opts = url
            .parse::<sqlx::sqlite::SqliteConnectOptions>()
            .unwrap()
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
        upto_0007(sqlx::migrate!("./migrations/sqlite"), &pool).await;
        for (id, name, at) in legacy {
            sqlx::query(INSERT)
                .bind(id)
                .bind(name)
                .bind(at)
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    }
    let b = backend_on(url).await;
    let s = &b.store;
    let keys = |rows: Vec<tessera_core::store::UsernameKeyRow>| {
        rows.into_iter()
            .map(|r| (r.id.0, r.key))
            .collect::<Vec<_>>()
    };
    let after_sql = keys(s.username_keys(None, 10).await.unwrap());
    assert_eq!(after_sql[0], (1, None), "lower() clashes: no key yet");
    assert_eq!(after_sql[1], (2, None));
    assert_eq!(after_sql[4], (5, Some("carl".into())));
    let rep = b.engine.refresh_username_keys().await.unwrap();
    assert_eq!(
        keys(s.username_keys(None, 10).await.unwrap()),
        [
            (1, None),
            (2, Some("alice".into())),
            (3, Some("bob".into())),
            (4, None),
            (5, Some("carl".into())),
        ],
        "the older Alice wins; {rep:?}"
    );
    let mut without = rep.without_key.clone();
    without.sort();
    assert_eq!(without, ["alice", "al\u{200B}ice"]);
    let who = |v: &'static str| async move {
        s.user_by_login(LoginField::Username, v)
            .await
            .unwrap()
            .map(|u| u.id.0)
    };
    assert_eq!(who("ALICE").await, Some(2));
    assert_eq!(who("bob").await, Some(3));
    // Settled: a second start changes nothing.
    let again = b.engine.refresh_username_keys().await.unwrap();
    assert_eq!((again.checked, again.updated), (5, 0));
}

#[tokio::test]
async fn legacy_users_get_keys_from_migration_0008_and_the_refresh_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/legacy.db", dir.path().display());
    legacy_users_get_keys_from_migration_0008_and_the_refresh(&url, false).await;
}

#[tokio::test]
async fn legacy_users_get_keys_from_migration_0008_and_the_refresh_on_postgres() {
    let Some(db) = tessera_testkit::pg::fresh_database().await else {
        return;
    };
    legacy_users_get_keys_from_migration_0008_and_the_refresh(&db.url, true).await;
    db.drop_db().await;
}
