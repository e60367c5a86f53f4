//! `/console/tenants`: the tenants within reach; a superuser creates one, enables or disables
//! one, and anyone with reach sets its SMS second-factor policy. Every change is
//! `Engine::admin_put_tenant`, with its checks (a tenant admin cannot lift a suspension, nor
//! create a tenant) and its audit.

use super::{csrf_ok, fault, operator, operator_for_action, render, Frame, Operator};
use crate::params::FormRequest;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tessera_core::engine::AdminFailure;
use tessera_core::ids::TenantId;
use tessera_core::model::{SmsSecondFactor, Tenant};

pub struct TenantRow {
    pub code: String,
    pub name: String,
    pub enabled: bool,
    pub second_factor: &'static str,
}

#[derive(Template)]
#[template(path = "console/tenants.html")]
struct TenantsPage {
    f: Frame,
    rows: Vec<TenantRow>,
    may_create: bool,
    /// The create form's values, kept after a refusal.
    new_code: String,
    new_name: String,
    /// A refusal, with the field it is about (`code`, `name`) when there is one.
    error: Option<(String, String)>,
    notice: Option<String>,
}

async fn page(
    st: &AppState,
    op: &Operator,
    status: StatusCode,
    kept: (String, String),
    error: Option<(String, String)>,
    notice: Option<String>,
) -> Response {
    let ts = match st.engine.admin_list_tenants(&op.actor).await {
        Ok(ts) => ts,
        Err(e) => {
            tracing::error!(error = %e, "console tenants");
            return fault(op.lang);
        }
    };
    let tpl = TenantsPage {
        f: Frame::of(op, "/console/tenants"),
        rows: ts
            .into_iter()
            .map(|t| TenantRow {
                second_factor: t.sms_second_factor.as_str(),
                code: t.code,
                name: t.name,
                enabled: t.enabled,
            })
            .collect(),
        may_create: op.actor.is_global(),
        new_code: kept.0,
        new_name: kept.1,
        error,
        notice,
    };
    render(op, status, &tpl)
}

/// `GET /console/tenants`.
#[utoipa::path(get, path = "/console/tenants", tag = "console", summary = "The console's tenants", params(("lang" = Option<String>, Query)), responses((status = 200, description = "HTML page", content_type = "text/html"), (status = 303, description = "Not signed in: to /login"), (status = 403, description = "No console rights", content_type = "text/html")))]
pub async fn tenants(State(st): State<AppState>, req: FormRequest) -> Response {
    match operator(&st, &req).await {
        Ok(op) => page(&st, &op, StatusCode::OK, Default::default(), None, None).await,
        Err(r) => r,
    }
}

/// What a form on the tenants page asks for.
enum TenantAction {
    Create {
        code: String,
        name: String,
    },
    SetEnabled {
        code: String,
        enabled: bool,
    },
    SetSecondFactor {
        code: String,
        policy: SmsSecondFactor,
    },
}

impl TenantAction {
    fn parse(req: &FormRequest) -> Option<TenantAction> {
        let code = || req.get("code").unwrap_or("").trim().to_string();
        Some(match req.get("action")? {
            "create" => TenantAction::Create {
                code: code(),
                name: req.get("name").unwrap_or("").trim().to_string(),
            },
            "enable" => TenantAction::SetEnabled {
                code: code(),
                enabled: true,
            },
            "disable" => TenantAction::SetEnabled {
                code: code(),
                enabled: false,
            },
            "second_factor" => TenantAction::SetSecondFactor {
                code: code(),
                policy: SmsSecondFactor::parse(req.get("policy")?)?,
            },
            _ => return None,
        })
    }
}

/// `POST /console/tenants`: `action` = `create` (`code`, `name`), `enable` or `disable`
/// (`code`), `second_factor` (`code`, `policy`); CSRF-checked.
#[utoipa::path(post, path = "/console/tenants", tag = "console", summary = "Create a tenant, enable or disable one, or set its SMS second factor (CSRF double submit)", request_body(content = crate::openapi::ConsoleTenantAction, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "The tenants page with the outcome", content_type = "text/html"), (status = 303, description = "Not signed in: to /login"), (status = 400, description = "Expired form, unknown action or a refused value (shown beside its field)", content_type = "text/html"), (status = 403, description = "Beyond the operator's reach", content_type = "text/html"), (status = 404, description = "No such tenant within reach", content_type = "text/html"), (status = 409, description = "The code is taken", content_type = "text/html")))]
pub async fn tenant_action(State(st): State<AppState>, req: FormRequest) -> Response {
    let op = match operator_for_action(&st, &req).await {
        Ok(op) => op,
        Err(r) => return r,
    };
    let t = super::console_texts(op.lang);
    let action = match TenantAction::parse(&req) {
        Some(a) if req.bad.is_none() && csrf_ok(&req) => a,
        _ => {
            let e = Some((String::new(), t.expired_form.to_string()));
            return page(
                &st,
                &op,
                StatusCode::BAD_REQUEST,
                Default::default(),
                e,
                None,
            )
            .await;
        }
    };
    let e = &st.engine;
    let mut kept = (String::new(), String::new());
    let outcome = match action {
        TenantAction::Create { code, name } => {
            kept = (code.clone(), name.clone());
            if name.is_empty() || name.chars().count() > 128 {
                let err = Some(("name".to_string(), t.name_rule.to_string()));
                return page(&st, &op, StatusCode::BAD_REQUEST, kept, err, None).await;
            }
            let tenant = Tenant {
                id: TenantId(0),
                code,
                name,
                enabled: true,
                sso_url: String::new(),
                server_url: String::new(),
                sms_second_factor: SmsSecondFactor::Never,
            };
            e.admin_put_tenant(&op.actor, tenant, true).await
        }
        TenantAction::SetEnabled { code, enabled } => match e.admin_tenant(&code).await {
            Ok(Some(mut tenant)) => {
                tenant.enabled = enabled;
                e.admin_put_tenant(&op.actor, tenant, false).await
            }
            Ok(None) => Ok(Err(AdminFailure::NotFound)),
            Err(err) => Err(err),
        },
        TenantAction::SetSecondFactor { code, policy } => match e.admin_tenant(&code).await {
            Ok(Some(mut tenant)) => {
                tenant.sms_second_factor = policy;
                e.admin_put_tenant(&op.actor, tenant, false).await
            }
            Ok(None) => Ok(Err(AdminFailure::NotFound)),
            Err(err) => Err(err),
        },
    };
    let (status, error) = match outcome {
        Ok(Ok(_)) => {
            let done = Some(t.done.to_string());
            return page(&st, &op, StatusCode::OK, Default::default(), None, done).await;
        }
        Ok(Err(AdminFailure::Invalid { field, message })) => {
            (StatusCode::BAD_REQUEST, (field.to_string(), message))
        }
        Ok(Err(AdminFailure::Conflict(_))) => {
            (StatusCode::CONFLICT, ("code".into(), t.code_taken.into()))
        }
        Ok(Err(AdminFailure::Forbidden(why))) => (StatusCode::FORBIDDEN, (String::new(), why)),
        Ok(Err(AdminFailure::NotFound)) => {
            (StatusCode::NOT_FOUND, (String::new(), t.not_found.into()))
        }
        Err(err) => {
            tracing::error!(error = %err, "console tenant action");
            return fault(op.lang);
        }
    };
    page(&st, &op, status, kept, Some(error), None).await
}
