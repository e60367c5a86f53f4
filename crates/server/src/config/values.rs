//! Typed values of `tessera.toml`: durations and the keys that take one of a few words. Each
//! is parsed by serde when the file (or a `TESSERA_<SECTION>__<KEY>` variable) is read, so a
//! bad value is refused with the line and key it came from, like any other type error, and the
//! rest of the server never sees a string it would have to check again.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A duration in whole seconds: `"90s"`, `"5m"`, `"2h"`, `"30d"`, or a bare number of
/// seconds; at most 100 years (`tessera_core::bootstrap::parse_duration`). The text is kept as
/// written, so that `check-config` shows the operator's own spelling back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seconds {
    text: String,
    secs: i64,
}

impl Seconds {
    pub fn secs(&self) -> i64 {
        self.secs
    }

    /// A default: the text and the value it reads as (`defaults_are_valid` checks they agree).
    pub(super) fn known(text: &str, secs: i64) -> Seconds {
        Seconds {
            text: text.into(),
            secs,
        }
    }
}

impl FromStr for Seconds {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(Seconds {
            secs: tessera_core::bootstrap::parse_duration(s)?,
            text: s.to_string(),
        })
    }
}

/// `passwords.max_wait`: the one duration that keeps fractions (`"250ms"`, `"0.5"`), since a
/// sign-in's wait for a hashing slot is counted in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FineDuration {
    text: String,
    value: std::time::Duration,
}

impl FineDuration {
    pub fn get(&self) -> std::time::Duration {
        self.value
    }

    /// A default, as `Seconds::known`.
    pub(super) fn known(text: &str, value: std::time::Duration) -> FineDuration {
        FineDuration {
            text: text.into(),
            value,
        }
    }
}

impl FromStr for FineDuration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        // A bare number is seconds, as for every other duration.
        let value = match s.trim().parse::<f64>() {
            Ok(x) if (0.0..=86_400.0).contains(&x) => std::time::Duration::from_secs_f64(x),
            Ok(_) => return Err(format!("bad duration {s:?}: between 0 and 1 day")),
            Err(_) => humantime::parse_duration(s.trim())
                .map_err(|e| format!("bad duration {s:?}: {e}"))?,
        };
        Ok(FineDuration {
            text: s.to_string(),
            value,
        })
    }
}

/// Both duration types read a string, or a number (a variable's value that looks like one
/// arrives as a number), and write the text back.
struct TextVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: FromStr<Err = String>> Visitor<'de> for TextVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a duration such as \"250ms\", \"90s\", \"5m\", \"2h\" or \"30d\"")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for FineDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor(std::marker::PhantomData))
    }
}

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl Serialize for FineDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// `log.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// `captcha.mode`: `test` returns each captcha's answer to the client, for automated tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptchaMode {
    Image,
    Test,
}

/// `sms.sender`: `log` writes codes to the server log (development), `webhook` posts them to
/// `sms.webhook_url`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsSenderKind {
    Log,
    Webhook,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Deserialize, Serialize)]
    struct T {
        d: Seconds,
        f: FineDuration,
        m: CaptchaMode,
    }

    #[test]
    fn durations_read_words_and_numbers_and_write_the_text_back() {
        let t: T = toml::from_str("d = \"5m\"\nf = \"250ms\"\nm = \"test\"\n").unwrap();
        assert_eq!(t.d.secs(), 300);
        assert_eq!(t.f.get(), std::time::Duration::from_millis(250));
        assert_eq!(t.m, CaptchaMode::Test);
        assert!(toml::to_string(&t).unwrap().contains("d = \"5m\""));
        let t: T = toml::from_str("d = 90\nf = 0.5\nm = \"image\"\n").unwrap();
        assert_eq!(t.d.secs(), 90);
        assert_eq!(t.f.get(), std::time::Duration::from_millis(500));
    }

    #[test]
    fn bad_values_are_refused_in_one_line() {
        for text in [
            "d = \"soon\"\nf = \"1s\"\nm = \"test\"\n",
            "d = \"1s\"\nf = -1\nm = \"test\"\n",
            "d = \"1s\"\nf = \"1s\"\nm = \"audio\"\n",
            "d = \"9223372036854775807\"\nf = \"1s\"\nm = \"test\"\n",
        ] {
            let e = toml::from_str::<T>(text).err().unwrap();
            assert!(!e.message().contains('\n'), "{e}");
        }
    }
}
