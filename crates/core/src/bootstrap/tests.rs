//! The bootstrap file's parsing and checks, without a database.

use super::*;

#[test]
fn unknown_key_is_an_error_with_its_line() {
    let e = parse("[[tenants]]\ncode = \"A\"\nname = \"a\"\nfoo = 1\n").unwrap_err();
    assert!(e.starts_with("line 4:"), "{e}");
    assert!(e.contains("foo"), "{e}");
}

#[test]
fn durations_and_instants_parse() {
    assert_eq!(parse_duration("30m").unwrap(), 1800);
    assert_eq!(parse_duration("2h").unwrap(), 7200);
    assert_eq!(parse_duration("30d").unwrap(), 30 * 86400);
    assert!(parse_duration("soon").is_err());
    assert_eq!(parse_instant("1970-01-01T00:01:00Z").unwrap(), 60);
}

#[test]
fn names_that_shadow_another_entry_are_refused_naming_the_later_entry() {
    let users = |t: &str| check(&parse(t).unwrap()).map_err(|e| e.to_string());
    assert_eq!(
        users("[[users]]\nusername = \"bob\"\nphone = \"13500000002\"\n[[users]]\nusername = \"13500000002\"\n"),
        Err("users[1] (13500000002): username equals the phone of users[0] (bob)".into())
    );
    assert_eq!(
        users("[[users]]\nusername = \"Bob@B.test\"\n[[users]]\nusername = \"bob\"\nemail = \"bob@b.test\"\n"),
        Err("users[1] (bob): email equals the username of users[0] (Bob@B.test)".into())
    );
    assert_eq!(
        users("[[users]]\nusername = \"alice\"\n[[users]]\nusername = \"ＡＬＩＣＥ\"\n"),
        Err("users[1] (ＡＬＩＣＥ): same username as users[0] (alice) once case, width and compatibility forms are ignored".into())
    );
    assert_eq!(
        users("[[users]]\nusername = \"a\"\nphone = \"x@y.test\"\n[[users]]\nusername = \"b\"\nemail = \"X@y.test\"\n"),
        Err("users[1] (b): email equals the phone of users[0] (a)".into())
    );
    assert!(
        users("[[users]]\nusername = \"13500000002\"\nphone = \"13500000002\"\n").is_ok(),
        "one's own phone"
    );
    let e = users("[[users]]\nusername = \"al\\u200bice\"\n").unwrap_err();
    assert!(
        e.starts_with("users[0] (al\u{200b}ice): username contains an invisible"),
        "{e}"
    );
    let e = users("[[users]]\nusername = \" alice\"\n").unwrap_err();
    assert!(e.contains("whitespace at its start or end"), "{e}");
}

#[test]
fn check_names_the_entry() {
    let f = parse("[[users]]\nusername = \"a\"\nbirthday = \"1990/01/02\"\n").unwrap();
    let e = check(&f).unwrap_err();
    assert_eq!(e.entry, "users[0] (a)");
}

/// Issue 15: what the admin API refuses, the file refuses too, naming the entry.
#[test]
fn scopes_tenant_codes_and_app_key_client_ids_are_checked_in_the_file() {
    let refused = |text: &str| check(&parse(text).unwrap()).unwrap_err();
    let e = refused("[[clients]]\nclient_id = \"c\"\nscopes = [\"x tessera:admin\"]\n");
    assert_eq!(e.entry, "clients[0] (c)");
    assert!(e.to_string().contains("scope"), "{e}");
    let e = refused("[[clients]]\nclient_id = \"appkey:k\"\n");
    assert!(e.to_string().contains("reserved"), "{e}");
    let e = refused("[[tenants]]\ncode = \"A B\"\nname = \"a\"\n");
    assert_eq!(e.entry, "tenants[0] (A B)");
    assert!(check(
        &parse("[[tenants]]\ncode = \"A\"\nname = \"a\"\n[[clients]]\nclient_id = \"c\"\nscopes = [\"openid\", \"tessera:admin:A\"]\n")
            .unwrap()
    )
    .is_ok());
}
