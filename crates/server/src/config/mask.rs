//! URLs fit to print: passwords and query values masked (`check-config`, start-up errors).

/// A URL fit to print: `scheme://user:secret@host` → `scheme://user:***@host`, and every query
/// value and the fragment masked (`?token=s3cr3t` → `?token=***`), as webhooks often carry
/// their credential there. Names, the host and the path stay, so the operator can tell which
/// URL it is.
pub fn mask_url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((b, _)) => (b, Some("***")),
        None => (url, None),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
    };
    let mut out = mask_userinfo(base);
    if let Some(q) = query {
        out.push('?');
        let masked: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, v)) if !v.is_empty() => format!("{name}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out.push_str(&masked.join("&"));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// `scheme://user:secret@host/path` → `scheme://user:***@host/path` (no query, no fragment).
fn mask_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    // The authority ends at the first `/`; the userinfo is what comes before its last `@`.
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let Some((cred, host)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    match cred.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
        None => url.to_string(),
    }
}
