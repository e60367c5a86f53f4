//! The process's log output (`[log]`: level and `text` or `json`), with the request a line
//! belongs to.
//!
//! A line written while a request is being served carries that request's id, method and path
//! (`tessera_web::request_tag`): appended as `request.id=… request.method=… request.path=…` in
//! text, as a `"request"` object in JSON. The tag replaces a tracing span per request, which
//! cost every request ~8 % of an introspection's instructions whether or not it logged.

use std::fmt::Write as _;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Installs the global subscriber.
pub fn init(level: &str, format: crate::config::LogFormat) -> Result<(), String> {
    let filter =
        tracing_subscriber::EnvFilter::try_new(level).map_err(|e| format!("key log.level: {e}"))?;
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colours only on a terminal: escape codes are noise in a log file or a journal.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let r = if format == crate::config::LogFormat::Json {
        let b = b.json();
        let inner = tracing_subscriber::fmt::format().json();
        b.event_format(Tagged { inner, json: true }).try_init()
    } else {
        let inner = tracing_subscriber::fmt::format();
        b.event_format(Tagged { inner, json: false }).try_init()
    };
    r.map_err(|e| format!("logging: {e}"))
}

/// Formats with `inner`, then adds the current request's tag, if any.
struct Tagged<F> {
    inner: F,
    json: bool,
}

impl<S, N, F> FormatEvent<S, N> for Tagged<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let Some(tag) = tessera_web::request_tag::current() else {
            return self.inner.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        let id = tag.id.to_str().unwrap_or("-");
        let (method, path) = (tag.method.as_str(), tag.uri.path());
        writer.write_str(&with_tag(&line, self.json, id, method, path))
    }
}

/// `line` (one formatted event, ending in a newline) with the request's tag added.
fn with_tag(line: &str, json: bool, id: &str, method: &str, path: &str) -> String {
    let body = line.strip_suffix('\n').unwrap_or(line);
    let mut out = String::with_capacity(body.len() + 96);
    if json {
        // The JSON formatter writes one object per line: the tag goes in as its first member.
        let tag = serde_json::json!({ "id": id, "method": method, "path": path });
        match body.strip_prefix('{') {
            Some(rest) if rest.starts_with('}') => {
                let _ = write!(out, "{{\"request\":{tag}}}");
            }
            Some(rest) => {
                let _ = write!(out, "{{\"request\":{tag},{rest}");
            }
            None => out.push_str(body),
        }
    } else {
        // `Debug` quotes and escapes: a path is the client's text and must not forge a line.
        let _ = write!(
            out,
            "{body} request.id={id:?} request.method={method} request.path={path:?}"
        );
    }
    out.push('\n');
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::with_tag;

    #[test]
    fn a_json_line_gets_the_request_as_its_first_member_and_stays_json() {
        let line = "{\"timestamp\":\"t\",\"level\":\"ERROR\",\"fields\":{\"message\":\"m\"}}\n";
        let out = with_tag(line, true, "ab-1", "POST", "/oauth/token");
        assert!(out.ends_with('\n'));
        let v: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
        assert_eq!(v["request"]["id"], "ab-1");
        assert_eq!(v["request"]["path"], "/oauth/token");
        assert_eq!(v["level"], "ERROR");
    }

    #[test]
    fn a_text_line_gets_the_request_at_its_end_quoted() {
        let out = with_tag(
            "2026 ERROR x: internal error\n",
            false,
            "ab-1",
            "GET",
            "/a\nb",
        );
        assert_eq!(
            out,
            "2026 ERROR x: internal error request.id=\"ab-1\" request.method=GET request.path=\"/a\\nb\"\n"
        );
    }
}
