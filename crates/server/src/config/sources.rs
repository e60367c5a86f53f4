//! Where configuration comes from and how its errors are told: the TOML file's errors with
//! their line, figment's, the `TESSERA_<SECTION>__<KEY>` variables, and the location of a key
//! that `Config::derive` refused.

use serde::Deserialize;
use std::path::{Path, PathBuf};

pub(super) fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().replace('\n', " ");
    let Some(span) = e.span() else {
        return format!("{}: {msg}", path.display());
    };
    let start = span.start.min(text.len());
    let line_no = text[..start].matches('\n').count() + 1;
    // The key is read off the line the error points into (the span may cover the key, the
    // value or a whole table).
    let line = text.lines().nth(line_no - 1).unwrap_or("").trim();
    let header = |l: &str| {
        (l.starts_with('[') && l.ends_with(']'))
            .then(|| l.trim_matches(|c| c == '[' || c == ']').trim().to_string())
    };
    let key = if let Some(h) = header(line) {
        Some(h)
    } else if let Some((k, _)) = line.split_once('=') {
        let section = text[..start].lines().rev().find_map(|l| header(l.trim()));
        Some(match section {
            Some(s) => format!("{s}.{}", k.trim()),
            None => k.trim().to_string(),
        })
    } else {
        None
    };
    match key {
        Some(k) => format!("{}:{line_no}: key {k}: {msg}", path.display()),
        None => format!("{}:{line_no}: {msg}", path.display()),
    }
}

pub(super) fn figment_error(e: &figment::Error) -> String {
    let key = e.path.join(".").to_lowercase();
    let from_env = e
        .metadata
        .as_ref()
        .is_some_and(|m| m.name.contains("environment"));
    if from_env && !e.path.is_empty() {
        let var = format!("TESSERA_{}", e.path.join("__").to_uppercase());
        return format!("{var}: key {key}: {}", e.kind).replace('\n', " ");
    }
    let mut s = if key.is_empty() {
        e.kind.to_string()
    } else {
        format!("key {key}: {}", e.kind)
    };
    if let Some(src) = e.metadata.as_ref().and_then(|m| m.source.as_ref()) {
        s.push_str(&format!(" (from {src})"));
    }
    s.replace('\n', " ")
}

/// A list of strings, or one string of comma-separated items (what an environment variable
/// naturally holds: `TESSERA_SERVER__TRUSTED_PROXIES=10.0.0.0/8,192.168.0.1`).
pub(super) fn list_or_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        List(Vec<String>),
        One(String),
    }
    Ok(match Form::deserialize(d)? {
        Form::List(v) => v,
        Form::One(s) => s
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// One `TESSERA_<SECTION>__<KEY>` variable. figment's `Env` types a value by its look, so
/// `TESSERA_KEYS__DIR=007` was the number 7 and a string key refused it; here a value stays a
/// string (see `extract_lossy` in [`Config::load`]), unless it is written as a TOML array or
/// table (`["10.0.0.0/8"]`).
pub(super) struct EnvVar {
    pub(super) key: String,
    pub(super) value: String,
    pub(super) metadata: figment::Metadata,
}

impl figment::Provider for EnvVar {
    fn metadata(&self) -> figment::Metadata {
        self.metadata.clone()
    }

    fn data(
        &self,
    ) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        use figment::value::Value;
        let value = if matches!(self.value.trim_start().chars().next(), Some('[' | '{')) {
            self.value
                .parse::<Value>()
                .unwrap_or_else(|never| match never {})
        } else {
            Value::from(self.value.clone())
        };
        let dict = figment::util::nest(&self.key, value)
            .into_dict()
            .unwrap_or_default();
        Ok(figment::Profile::Default.collect(dict))
    }
}

/// Names the file and line where `key` (`section.key`) is set, if the file sets it.
pub(super) fn locate(text: Option<&(PathBuf, String)>, key: &str, msg: &str) -> String {
    // A variable overrides the file, so the value at fault is the variable's.
    let var = format!("TESSERA_{}", key.replace('.', "__").to_uppercase());
    if std::env::var_os(&var).is_some() {
        return format!("{var}: key {key}: {msg}");
    }
    if let Some((path, t)) = text {
        let (section, name) = key.split_once('.').unwrap_or(("", key));
        let mut in_section = section.is_empty();
        for (i, l) in t.lines().enumerate() {
            let l = l.trim();
            if l.starts_with('[') {
                in_section = l.trim_matches(|c| c == '[' || c == ']').trim() == section;
            } else if in_section && l.split('=').next().is_some_and(|k| k.trim() == name) {
                return format!("{}:{}: key {key}: {msg}", path.display(), i + 1);
            }
        }
    }
    format!("key {key}: {msg}")
}
