//! The message catalogue of `docs/reference/errors.md`, as data (`messages.toml`), parsed once at start,
//! and the request's language (`lang` or `Accept-Language`; default `zh_CN`).

use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    EnUs,
}

impl Lang {
    /// `lang` wins over `Accept-Language`; either spelling (`en_US`, `en-US`, `en`), q-values
    /// honoured; anything unknown is `zh_CN`.
    pub fn negotiate(lang_param: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(l) = lang_param.and_then(Self::parse_tag) {
            return l;
        }
        let Some(header) = accept_language else {
            return Lang::ZhCn;
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim();
            let q = it
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.trim().parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            if let Some(l) = Self::parse_tag(tag) {
                if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, l));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::ZhCn)
    }

    fn parse_tag(tag: &str) -> Option<Lang> {
        let t = tag.trim().to_ascii_lowercase().replace('_', "-");
        let primary = t.split('-').next().unwrap_or("");
        match primary {
            "zh" => Some(Lang::ZhCn),
            "en" => Some(Lang::EnUs),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
struct Entry {
    code: String,
    status: u16,
    #[serde(rename = "zh_CN")]
    zh: String,
    #[serde(rename = "en_US")]
    en: String,
}

#[derive(Debug, Deserialize)]
struct File {
    message: Vec<Entry>,
}

/// Every message, keyed by code.
#[derive(Debug, Clone)]
pub struct Catalogue {
    by_code: HashMap<String, Entry>,
}

const MESSAGES: &str = include_str!("../messages.toml");

impl Catalogue {
    /// The built-in catalogue. Fails only if `messages.toml` is malformed, which a unit test
    /// rules out.
    pub fn load() -> Result<Self, String> {
        let f: File = toml::from_str(MESSAGES).map_err(|e| format!("messages.toml: {e}"))?;
        let mut by_code = HashMap::new();
        for e in f.message {
            if by_code.insert(e.code.clone(), e.clone()).is_some() {
                return Err(format!("messages.toml: code {} twice", e.code));
            }
        }
        Ok(Self { by_code })
    }

    /// The message for `code` in `lang` with `{0}` replaced by `arg`; the code itself when the
    /// catalogue lacks it (a defect that a test checks against).
    pub fn text(&self, code: &str, lang: Lang, arg: Option<&str>) -> String {
        let Some(e) = self.by_code.get(code) else {
            return code.to_string();
        };
        let t = match lang {
            Lang::ZhCn => &e.zh,
            Lang::EnUs => &e.en,
        };
        match arg {
            Some(a) => t.replace("{0}", a),
            None => t.clone(),
        }
    }

    pub fn status(&self, code: &str) -> Option<u16> {
        self.by_code.get(code).map(|e| e.status)
    }

    pub fn contains(&self, code: &str) -> bool {
        self.by_code.contains_key(code)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_loads_with_seed_texts_byte_identical() {
        let c = Catalogue::load().unwrap();
        assert_eq!(
            c.text("hoth.warn.passwordError", Lang::ZhCn, Some("4")),
            "您的密码错误,还可以尝试4次"
        );
        assert_eq!(
            c.text("hoth.warn.passwordError", Lang::EnUs, Some("4")),
            "Wrong password; 4 attempts left"
        );
        assert_eq!(c.status("hoth.warn.captchaNull"), Some(400));
        assert_eq!(
            c.text("cluster.1000", Lang::ZhCn, None),
            "用户存在多个邀请码"
        );
        assert!(c.contains("hoth.warn.tooManyRequests"));
    }

    #[test]
    fn language_negotiation_accepts_both_spellings_and_q_values() {
        assert_eq!(Lang::negotiate(Some("en_US"), None), Lang::EnUs);
        assert_eq!(Lang::negotiate(Some("en-US"), Some("zh")), Lang::EnUs);
        assert_eq!(Lang::negotiate(None, Some("en")), Lang::EnUs);
        assert_eq!(
            Lang::negotiate(None, Some("zh-CN;q=0.5, en;q=0.9")),
            Lang::EnUs
        );
        assert_eq!(Lang::negotiate(None, Some("fr, de")), Lang::ZhCn);
        assert_eq!(Lang::negotiate(Some("xx"), None), Lang::ZhCn);
        assert_eq!(Lang::negotiate(None, None), Lang::ZhCn);
    }
}
