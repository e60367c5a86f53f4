//! Parameters of form endpoints, parsed at the edge: from the query string and an
//! `application/x-www-form-urlencoded` body (`docs/reference/oauth.md`: "parameters may come in the
//! query or the body"), strictly: invalid UTF-8 (raw or percent-encoded), a wrong content type,
//! a repeated parameter (RFC 6749 §3.2), more than [`MAX_PARAMS`] parameters or a body over
//! 64 KiB are refused as [`BadInput`], which each dialect renders in its own shape. Client
//! credentials from HTTP Basic (RFC 6749 §2.3.1).

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::{header, HeaderMap, Method};
use base64::Engine as _;
use std::net::SocketAddr;
use tessera_core::lang::Lang;
use tessera_core::secret::Secret;

/// The most parameters one request may carry, query and body together. No endpoint reads more
/// than about twenty; the cap bounds the work a 64 KiB body of ~20,000 tiny parameters can
/// cause (issue 15, `docs/decisions.md`, "Edge limits").
pub const MAX_PARAMS: usize = 256;

/// Up to this many parameters, the repeated-parameter check compares each with those before it
/// (no allocation); past it, a hash set keeps the check linear.
const SCAN_IN_PLACE: usize = 16;

/// Why a request's parameters could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadInput {
    TooLarge,
    ContentType,
    Encoding,
    Repeated(String),
    /// More than [`MAX_PARAMS`] parameters.
    TooMany,
    /// An `Authorization: Basic` header that does not decode.
    BadBasic,
}

/// The parameters and the headers a form endpoint needs.
#[derive(Debug, Default)]
pub struct FormRequest {
    /// In arrival order; a handful per request (at most [`MAX_PARAMS`]), so a list searched in
    /// place beats hashing.
    params: Vec<(String, String)>,
    /// Client credentials from `Authorization: Basic`.
    pub basic: Option<(String, Secret)>,
    pub accept_language: Option<String>,
    pub bearer: Option<String>,
    pub peer: Option<SocketAddr>,
    /// The `X-Forwarded-For` header, believed only from `server.trusted_proxies`.
    pub forwarded_for: Option<String>,
    /// The `Cookie` header.
    pub cookies: Option<String>,
    /// The request's path.
    pub path: String,
    /// Set when the parameters could not be read; the raw query is still looked at to pick the
    /// dialect that answers.
    pub bad: Option<BadInput>,
    pub raw_query: String,
}

impl FormRequest {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// The parameters as a typed request (a dialect's `wire.rs`): the same struct is the
    /// request body of the OpenAPI document, so the document and the parser cannot drift
    /// (issue 16). Values are strings, and an empty one is absent (RFC 6749 §3.1), as with
    /// [`Self::non_empty`]; names the struct does not know are ignored. A struct of `String`
    /// and `Option<String>` fields only fails for a required field that is missing.
    pub fn typed<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_urlencoded::de::Error> {
        // Through serde_urlencoded (which reads `Option` fields) rather than serde's value
        // deserializers (which do not); these endpoints are not hot paths.
        let pairs: Vec<(&str, &str)> = self
            .params
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let text = serde_urlencoded::to_string(pairs)
            .map_err(|e| serde::de::Error::custom(e.to_string()))?;
        serde_urlencoded::from_str(&text)
    }

    /// A parameter that is present and not empty (RFC 6749 treats empty as absent, §3.1).
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }
    pub fn lang(&self) -> Lang {
        Lang::negotiate(self.get("lang"), self.accept_language.as_deref())
    }
    /// The client's IP (`docs/reference/oauth.md`): the peer address, or, when the peer is a trusted
    /// proxy, the rightmost `X-Forwarded-For` entry that is not itself a trusted proxy.
    pub fn client_ip(&self, trusted: &[ipnet::IpNet]) -> Option<String> {
        client_ip(
            self.peer.map(|p| p.ip()),
            self.forwarded_for.as_deref(),
            trusted,
        )
        .map(|ip| ip.to_string())
    }

    /// A cookie's value. Tessera's cookies are ASCII tokens it set itself, so a split on `;`
    /// and `=` reads them (RFC 6265 §5.4).
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.as_deref()?.split(';').find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name).then_some(v)
        })
    }

    /// This request's path and query without `prompt`, to come back to after signing in.
    pub fn path_for_continue(&self) -> String {
        let pairs: Vec<(&str, &str)> = self
            .params
            .iter()
            .filter(|(k, _)| k.as_str() != "prompt")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        format!(
            "{}?{}",
            self.path,
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    }

    /// A query parameter read leniently, for choosing a dialect when the body is unreadable.
    pub fn raw_query_param(&self, name: &str) -> Option<String> {
        decode_pairs(&self.raw_query)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

impl<S: Send + Sync> FromRequest<S> for FormRequest {
    type Rejection = std::convert::Infallible;

    /// Never rejects: a bad request is a `FormRequest` with `bad` set, so the handler can
    /// answer in the right dialect.
    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let mut out = FormRequest {
            accept_language: header_str(&parts.headers, header::ACCEPT_LANGUAGE),
            forwarded_for: header_str(
                &parts.headers,
                header::HeaderName::from_static("x-forwarded-for"),
            ),
            peer: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
            raw_query: parts.uri.query().unwrap_or("").to_string(),
            cookies: header_str(&parts.headers, header::COOKIE),
            path: parts.uri.path().to_string(),
            ..Default::default()
        };
        match authorization(&parts.headers) {
            Ok(Auth::Basic(id, secret)) => out.basic = Some((id, secret)),
            Ok(Auth::Bearer(t)) => out.bearer = Some(t),
            Ok(Auth::None) => {}
            Err(b) => out.bad = Some(b),
        }
        let body = if parts.method == Method::GET || parts.method == Method::HEAD {
            axum::body::Bytes::new()
        } else {
            match read_body(body).await {
                Ok(b) => b,
                Err(b) => {
                    out.bad = Some(b);
                    return Ok(out);
                }
            }
        };
        if !body.is_empty() && !is_form(&parts.headers) {
            out.bad.get_or_insert(BadInput::ContentType);
            return Ok(out);
        }
        let parsed = std::str::from_utf8(&body)
            .map_err(|_| BadInput::Encoding)
            .and_then(|b| params_of(&out.raw_query, b, &mut out.params));
        if let Err(b) = parsed {
            out.bad.get_or_insert(b);
        }
        Ok(out)
    }
}

/// The client's IP of any request (`FormRequest::client_ip` reads the same for form
/// endpoints): the peer, or behind a trusted proxy the rightmost untrusted `X-Forwarded-For`.
pub fn request_ip(parts: &axum::http::request::Parts, trusted: &[ipnet::IpNet]) -> Option<String> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let xff = header_str(
        &parts.headers,
        header::HeaderName::from_static("x-forwarded-for"),
    );
    client_ip(peer, xff.as_deref(), trusted).map(|ip| ip.to_string())
}

fn client_ip(
    peer: Option<std::net::IpAddr>,
    xff: Option<&str>,
    trusted: &[ipnet::IpNet],
) -> Option<std::net::IpAddr> {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
    let mut ip = peer?;
    if !is_trusted(&ip) {
        return Some(ip);
    }
    for hop in xff.unwrap_or("").rsplit(',') {
        match hop.trim().parse::<std::net::IpAddr>() {
            Ok(h) => {
                ip = h;
                if !is_trusted(&h) {
                    break;
                }
            }
            // A malformed entry: stop at the last address that was believed.
            Err(_) => break,
        }
    }
    Some(ip)
}

async fn read_body(body: Body) -> Result<axum::body::Bytes, BadInput> {
    axum::body::to_bytes(body, crate::BODY_LIMIT)
        .await
        .map_err(|_| BadInput::TooLarge)
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn is_form(h: &HeaderMap) -> bool {
    h.get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

enum Auth {
    None,
    Basic(String, Secret),
    Bearer(String),
}

fn authorization(h: &HeaderMap) -> Result<Auth, BadInput> {
    let Some(v) = h.get(header::AUTHORIZATION) else {
        return Ok(Auth::None);
    };
    let v = v.to_str().map_err(|_| BadInput::BadBasic)?.trim();
    let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(Auth::Bearer(rest.trim().to_string()));
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(Auth::None);
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .map_err(|_| BadInput::BadBasic)?;
    let s = String::from_utf8(raw).map_err(|_| BadInput::BadBasic)?;
    let (id, secret) = s.split_once(':').ok_or(BadInput::BadBasic)?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before Base64.
    let dec = |x: &str| decode_component(x).map_err(|_| BadInput::BadBasic);
    Ok(Auth::Basic(dec(id)?, Secret::new(dec(secret)?)))
}

fn decode_component(s: &str) -> Result<String, BadInput> {
    // Most values (tokens, ids, grant types) need no decoding: one copy, no scan-and-rebuild.
    if !s.bytes().any(|b| b == b'+' || b == b'%') {
        return Ok(s.to_string());
    }
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| BadInput::Encoding)
}

/// `a=1&b=2` to pairs, failing on percent-escapes that are not UTF-8 (the `form_urlencoded`
/// crate would replace them silently).
fn decode_pairs(s: &str) -> Result<Vec<(String, String)>, BadInput> {
    pairs(s).collect()
}

fn pairs(s: &str) -> impl Iterator<Item = Result<(String, String), BadInput>> + '_ {
    s.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        Ok((decode_component(k)?, decode_component(v)?))
    })
}

/// The parameters of the query and then the body into `out`, strictly: more than
/// [`MAX_PARAMS`] of them is [`BadInput::TooMany`] (found before decoding past the cap), a name
/// twice is [`BadInput::Repeated`]; `out` keeps those read before the fault (`lang` among them,
/// to answer in). Linear in the input: the cap bounds the list, and past [`SCAN_IN_PLACE`]
/// names a hash set finds a repeat.
fn params_of(query: &str, body: &str, out: &mut Vec<(String, String)>) -> Result<(), BadInput> {
    let mut seen: Option<std::collections::HashSet<String>> = None;
    for pair in pairs(query).chain(pairs(body)) {
        if out.len() == MAX_PARAMS {
            return Err(BadInput::TooMany);
        }
        let (k, v) = pair?;
        let repeated = match &mut seen {
            Some(set) => !set.insert(k.clone()),
            None => out.iter().any(|(s, _)| *s == k),
        };
        if repeated {
            return Err(BadInput::Repeated(k));
        }
        out.push((k, v));
        if seen.is_none() && out.len() > SCAN_IN_PLACE {
            seen = Some(out.iter().map(|(k, _)| k.clone()).collect());
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_client_ip_is_believed_from_trusted_proxies_only() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |peer: &str, xff: Option<&str>| {
            client_ip(Some(peer.parse().unwrap()), xff, &trusted)
                .unwrap()
                .to_string()
        };
        assert_eq!(
            ip("203.0.113.9", Some("1.2.3.4")),
            "203.0.113.9",
            "an untrusted peer's header is ignored"
        );
        assert_eq!(ip("10.0.0.1", Some("1.2.3.4")), "1.2.3.4");
        assert_eq!(
            ip("10.0.0.1", Some("6.6.6.6, 1.2.3.4, 10.0.0.2")),
            "1.2.3.4",
            "rightmost untrusted hop"
        );
        assert_eq!(ip("10.0.0.1", None), "10.0.0.1");
        assert_eq!(ip("10.0.0.1", Some("garbage")), "10.0.0.1");
    }

    #[test]
    fn pairs_decode_strictly() {
        assert_eq!(
            decode_pairs("a=1+2&b=%E4%B8%AD&c").ok(),
            Some(vec![
                ("a".into(), "1 2".into()),
                ("b".into(), "中".into()),
                ("c".into(), "".into())
            ])
        );
        assert_eq!(decode_pairs("a=%FF"), Err(BadInput::Encoding));
    }

    fn read(query: &str, body: &str) -> (Result<(), BadInput>, Vec<(String, String)>) {
        let mut out = Vec::new();
        (params_of(query, body, &mut out), out)
    }

    fn form(names: impl Iterator<Item = String>) -> String {
        names
            .map(|n| format!("{n}=1"))
            .collect::<Vec<_>>()
            .join("&")
    }

    #[test]
    fn a_name_twice_is_repeated_in_the_query_the_body_or_across_them() {
        assert_eq!(
            read("a=1&b=2", "a=3").0,
            Err(BadInput::Repeated("a".into()))
        );
        assert_eq!(read("", "b=1&b=2").0, Err(BadInput::Repeated("b".into())));
        // Past the in-place scan too, early and late names alike.
        let many = form((0..100).map(|i| format!("p{i}")));
        assert_eq!(read(&many, "p3=x").0, Err(BadInput::Repeated("p3".into())));
        assert_eq!(
            read(&many, "p99=x").0,
            Err(BadInput::Repeated("p99".into()))
        );
        let (r, params) = read("lang=en_US&a=1", "a=2");
        assert!(r.is_err());
        assert_eq!(
            params[0],
            ("lang".into(), "en_US".into()),
            "kept to answer in"
        );
    }

    #[test]
    fn parameters_up_to_the_cap_are_read_and_one_more_is_too_many() {
        let (r, params) = read("", &form((0..MAX_PARAMS).map(|i| format!("p{i}"))));
        assert_eq!(r, Ok(()));
        assert_eq!(params.len(), MAX_PARAMS);
        let half = MAX_PARAMS / 2;
        let q = form((0..half).map(|i| format!("q{i}")));
        let b = form((0..=MAX_PARAMS - half).map(|i| format!("b{i}")));
        assert_eq!(
            read(&q, &b).0,
            Err(BadInput::TooMany),
            "query and body count together"
        );
        // A body of 20,000 short parameters is refused at the cap, not read whole.
        let flood = form((0..20_000).map(|i| format!("{i:x}")));
        assert_eq!(read("", &flood).0, Err(BadInput::TooMany));
    }

    #[test]
    fn a_typed_request_reads_options_and_takes_empty_as_absent() {
        #[derive(serde::Deserialize)]
        struct Req {
            phone: Option<String>,
            #[serde(rename = "clusterCode")]
            cluster: Option<String>,
            lang: Option<String>,
        }
        let req = FormRequest {
            params: vec![
                ("phone".into(), "13800000001".into()),
                ("clusterCode".into(), "A&B=C".into()),
                ("lang".into(), String::new()),
                ("other".into(), "ignored".into()),
            ],
            ..Default::default()
        };
        let r: Req = req.typed().unwrap();
        assert_eq!(r.phone.as_deref(), Some("13800000001"));
        assert_eq!(r.cluster.as_deref(), Some("A&B=C"));
        assert_eq!(r.lang, None);
    }
}
