//! `POST /api/base/token/login` and `POST /api/base/token/refresh`.

use super::render;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use serde_json::Value;
use tessera_core::lang::Lang;
use tessera_core::secret::Secret;

const LOGIN: &str = "/api/base/token/login";
const REFRESH: &str = "/api/base/token/refresh";

fn lang_of(req: &Request) -> Lang {
    let q = req.uri().query().unwrap_or("");
    let lang = q.split('&').find_map(|p| p.strip_prefix("lang="));
    Lang::negotiate(
        lang,
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// The JSON object of the body, or the Spring-shaped 400/413.
async fn json_body(
    st: &AppState,
    lang: Lang,
    path: &str,
    req: Request,
    required: bool,
) -> Result<Option<serde_json::Map<String, Value>>, Response> {
    let e = &st.engine;
    let bytes = axum::body::to_bytes(req.into_body(), crate::BODY_LIMIT)
        .await
        .map_err(|_| {
            render::error(
                e,
                lang,
                StatusCode::PAYLOAD_TOO_LARGE,
                path,
                "oauth.bodyTooLarge",
                None,
            )
        })?;
    if bytes.iter().all(u8::is_ascii_whitespace) && !required {
        return Ok(None);
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(_) => Err(render::error(
            e,
            lang,
            StatusCode::BAD_REQUEST,
            path,
            "appkey.badBody",
            Some("not a JSON object"),
        )),
        Err(_) => Err(render::error(
            e,
            lang,
            StatusCode::BAD_REQUEST,
            path,
            "appkey.badBody",
            Some("malformed JSON"),
        )),
    }
}

fn string_field<'a>(m: &'a serde_json::Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

#[utoipa::path(post, path = "/api/base/token/login", tag = "appkey", summary = "Seed 002 app-key login", request_body(content = crate::openapi::AppKeyLogin, content_type = "application/json"), responses((status = 200, description = "Seed 002 token shape", content_type = "application/json"), (status = 400, description = "Spring error body"), (status = 401, description = "Wrong credentials"), (status = 403, description = "Disabled key, org or tenant")))]
pub async fn login(State(st): State<AppState>, req: Request) -> Response {
    let e = &st.engine;
    let lang = lang_of(&req);
    let (parts, body) = req.into_parts();
    let origin = tessera_core::engine::Origin {
        dialect: tessera_core::model::Dialect::Appkey,
        client_id: None,
        ip: crate::params::request_ip(&parts, &st.settings.trusted_proxies),
        detail: String::new(),
        captcha: None,
    };
    let req = Request::from_parts(parts, body);
    let m = match json_body(&st, lang, LOGIN, req, true).await {
        Ok(Some(m)) => m,
        Ok(None) => {
            return render::error(
                e,
                lang,
                StatusCode::BAD_REQUEST,
                LOGIN,
                "appkey.badBody",
                Some("empty"),
            )
        }
        Err(r) => return r,
    };
    let mut fields = Vec::with_capacity(4);
    for k in ["appId", "appKey", "appSecret", "loginType"] {
        match string_field(&m, k) {
            Some(v) => fields.push(v),
            None => {
                return render::error(
                    e,
                    lang,
                    StatusCode::BAD_REQUEST,
                    LOGIN,
                    "appkey.badBody",
                    Some(k),
                )
            }
        }
    }
    if fields[3] != "APP_KEY" {
        return render::error(
            e,
            lang,
            StatusCode::BAD_REQUEST,
            LOGIN,
            "appkey.loginType",
            None,
        );
    }
    match e
        .app_key_login(fields[0], fields[1], &Secret::new(fields[2]), &origin)
        .await
    {
        Ok(Ok(g)) => render::grant(&g),
        Ok(Err(f)) => render::failure(e, lang, LOGIN, f),
        Err(err) => render::fault(e, lang, LOGIN, &err),
    }
}

/// `refreshToken` in the query (the seed's way) or in a JSON body.
#[utoipa::path(post, path = "/api/base/token/refresh", tag = "appkey", summary = "Seed 002 refresh", params(("refreshToken" = Option<String>, Query)), request_body(content = Option<crate::openapi::AppKeyRefresh>, content_type = "application/json"), responses((status = 200, description = "Seed 002 token shape", content_type = "application/json"), (status = 400, description = "Spring error body"), (status = 401, description = "Dead or reused refresh token")))]
pub async fn refresh(State(st): State<AppState>, req: Request) -> Response {
    let e = &st.engine;
    let lang = lang_of(&req);
    let from_query = req.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|p| p.strip_prefix("refreshToken="))
            .and_then(|v| {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8()
                    .ok()
                    .map(|c| c.into_owned())
            })
    });
    let token = match from_query.filter(|t| !t.is_empty()) {
        Some(t) => t,
        None => match json_body(&st, lang, REFRESH, req, false).await {
            Ok(Some(m)) => match string_field(&m, "refreshToken") {
                Some(t) if !t.is_empty() => t.to_string(),
                _ => {
                    return render::error(
                        e,
                        lang,
                        StatusCode::BAD_REQUEST,
                        REFRESH,
                        "oauth.paramMissing",
                        Some("refreshToken"),
                    )
                }
            },
            Ok(None) => {
                return render::error(
                    e,
                    lang,
                    StatusCode::BAD_REQUEST,
                    REFRESH,
                    "oauth.paramMissing",
                    Some("refreshToken"),
                )
            }
            Err(r) => return r,
        },
    };
    match e.app_key_refresh(&token).await {
        Ok(Ok(g)) => render::grant(&g),
        Ok(Err(f)) => render::failure(e, lang, REFRESH, f),
        Err(err) => render::fault(e, lang, REFRESH, &err),
    }
}
