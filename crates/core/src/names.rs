//! Usernames compared as people read them (issue 15, `docs/decisions.md` "Usernames").
//!
//! A username is stored as typed (for display) and beside it its *key*, which is what
//! uniqueness, sign-in and the clash checks compare:
//!
//! 1. outer whitespace is trimmed (as the admin API always did);
//! 2. the name must then be 1 to [`MAX_USERNAME_CHARS`] characters;
//! 3. the key is NFKC, then `char::to_lowercase` of each character (with the final sigma `ς`
//!    folded to `σ`, as Unicode case folding does), then NFKC again: `Alice`, `ALICE` and the
//!    fullwidth `ａｌｉｃｅ` have one key, `alice`. This is lowercasing, not full case folding:
//!    `ß` stays apart from `ss` (they look different), which keeps the key dependency-free;
//! 4. a name is refused if the name as typed or its key holds a character that shows as
//!    nothing or moves text around: general categories `Cc`, `Cf`, `Cs`, `Co`, `Cn` (control,
//!    format such as U+200B..U+200F, U+202A..U+202E, U+2060..U+2064, U+2066..U+2069, U+FEFF,
//!    U+00AD; surrogate; private use; unassigned), every separator `Zs`, `Zl`, `Zp` and every
//!    other `White_Space` character (no whitespace inside a name at all, so `a b` and `a  b`
//!    cannot be two people), and [`INVISIBLE`]: the rest of Unicode's
//!    `Default_Ignorable_Code_Point` that is not `Cf` (variation selectors, Hangul fillers,
//!    the combining grapheme joiner…) and the Braille blank U+2800.
//!
//! The general categories come from `unicode-properties` and NFKC from
//! `unicode-normalization`, both already in the tree (sqlx's PostgreSQL driver uses them for
//! SASLprep); the short table of non-`Cf` invisible characters is written out here because
//! neither crate has the `Default_Ignorable_Code_Point` property.
//!
//! Look-alikes across scripts (Cyrillic `а` for Latin `a`, UTS #39 confusables) are not
//! folded: they are visible characters, and telling them apart is a policy of its own.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// Characters of a username at most (after trimming, as typed).
pub const MAX_USERNAME_CHARS: usize = 128;

/// Why a username cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameProblem {
    #[error("is empty")]
    Empty,
    #[error("is longer than {MAX_USERNAME_CHARS} characters")]
    TooLong,
    /// The first character refused, as a code point.
    #[error("contains an invisible, control or whitespace character (U+{0:04X})")]
    Invisible(u32),
}

/// Invisible characters outside the refused general categories: the
/// `Default_Ignorable_Code_Point` characters (Unicode `DerivedCoreProperties.txt`) that are not
/// `Cf` or `Cn`, and U+2800 BRAILLE PATTERN BLANK, which renders as a blank.
pub const INVISIBLE: &[(char, char)] = &[
    ('\u{034F}', '\u{034F}'),   // COMBINING GRAPHEME JOINER (Mn)
    ('\u{115F}', '\u{1160}'),   // HANGUL CHOSEONG / JUNGSEONG FILLER (Lo)
    ('\u{17B4}', '\u{17B5}'),   // KHMER VOWEL INHERENT AQ, AA (Mn)
    ('\u{180B}', '\u{180D}'),   // MONGOLIAN FREE VARIATION SELECTOR ONE..THREE (Mn)
    ('\u{180F}', '\u{180F}'),   // MONGOLIAN FREE VARIATION SELECTOR FOUR (Mn)
    ('\u{2800}', '\u{2800}'),   // BRAILLE PATTERN BLANK (So)
    ('\u{3164}', '\u{3164}'),   // HANGUL FILLER (Lo)
    ('\u{FE00}', '\u{FE0F}'),   // VARIATION SELECTOR-1..16 (Mn)
    ('\u{FFA0}', '\u{FFA0}'),   // HALFWIDTH HANGUL FILLER (Lo)
    ('\u{E0100}', '\u{E01EF}'), // VARIATION SELECTOR-17..256 (Mn)
];

/// Whether `c` may not appear in a username.
pub fn is_refused_char(c: char) -> bool {
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Other | GeneralCategoryGroup::Separator
    ) || c.is_whitespace()
        || INVISIBLE.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// NFKC, lowercase, NFKC: the comparison form of any name, without the checks of
/// [`username_key`]. Phones and e-mail addresses are folded with it when they are compared
/// with usernames.
pub fn fold(s: &str) -> String {
    let lower: String = s
        .nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ς' { 'σ' } else { c })
        .collect();
    lower.nfkc().collect()
}

/// The key of a username: what uniqueness and sign-in compare (see the module).
pub fn username_key(raw: &str) -> Result<String, NameProblem> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(NameProblem::Empty);
    }
    if name.chars().count() > MAX_USERNAME_CHARS {
        return Err(NameProblem::TooLong);
    }
    let key = fold(name);
    match name
        .chars()
        .chain(key.chars())
        .find(|c| is_refused_char(*c))
    {
        Some(c) => Err(NameProblem::Invisible(u32::from(c))),
        None if key.is_empty() => Err(NameProblem::Empty),
        None => Ok(key),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn case_width_and_compatibility_forms_share_one_key() {
        for v in [
            "alice",
            "Alice",
            "ALICE",
            "ａｌｉｃｅ",
            "ＡＬＩＣＥ",
            "  alice\t",
            "\u{3000}Alice",
        ] {
            assert_eq!(username_key(v).unwrap(), "alice", "{v:?}");
        }
        // The Kelvin sign and the long s are compatibility forms of k and s.
        assert_eq!(username_key("\u{212A}ate").unwrap(), "kate");
        assert_eq!(username_key("ſam").unwrap(), "sam");
        // Fullwidth digits are digits: a phone-like name is caught as the phone it equals.
        assert_eq!(
            username_key("１３５０００００００２").unwrap(),
            "13500000002"
        );
        assert_eq!(username_key("Bob@B.test").unwrap(), "bob@b.test");
        // Greek final sigma folds like Unicode case folding.
        assert_eq!(username_key("ΟΔΟΣ").unwrap(), username_key("οδος").unwrap());
        // Decomposed and precomposed accents are one name.
        assert_eq!(
            username_key("Jose\u{301}").unwrap(),
            username_key("José").unwrap()
        );
        assert_eq!(username_key("张三").unwrap(), "张三");
    }

    #[test]
    fn invisible_control_and_inner_whitespace_are_refused() {
        for v in [
            "al\u{200B}ice",
            "al\u{200C}ice",
            "al\u{200D}ice",
            "al\u{200E}ice",
            "al\u{200F}ice",
            "al\u{2060}ice",
            "al\u{2064}ice",
            "al\u{FEFF}ice",
            "al\u{00AD}ice",
            "al\u{202E}ice",
            "al\u{2066}ice",
            "al\u{2069}ice",
            "alice\u{200B}",
            "\u{200B}alice",
            "al\u{0007}ice",
            "al\u{0085}ice",
            "al ice",
            "al\u{00A0}ice",
            "al\u{2003}ice",
            "al\u{2028}ice",
            "al\u{3164}ice",
            "al\u{FE0F}ice",
            "al\u{034F}ice",
            "al\u{2800}ice",
            "al\u{E000}ice",
            "al\u{E0061}ice",
        ] {
            assert!(
                matches!(username_key(v), Err(NameProblem::Invisible(_))),
                "{v:?}: {:?}",
                username_key(v)
            );
        }
        assert_eq!(
            username_key("al\u{200B}ice"),
            Err(NameProblem::Invisible(0x200B))
        );
    }

    #[test]
    fn empty_and_overlong_names_are_refused() {
        assert_eq!(username_key(""), Err(NameProblem::Empty));
        assert_eq!(username_key(" \t\u{3000}"), Err(NameProblem::Empty));
        let max = "a".repeat(MAX_USERNAME_CHARS);
        assert!(username_key(&max).is_ok());
        assert_eq!(username_key(&format!("{max}a")), Err(NameProblem::TooLong));
        // Characters, not bytes.
        assert!(username_key(&"张".repeat(MAX_USERNAME_CHARS)).is_ok());
    }

    #[test]
    fn keys_are_stable_under_a_second_pass() {
        for v in ["Alice", "ａｌｉｃｅ", "İstanbul", "ΟΔΟΣ", "ǅemal", "㍿"] {
            let k = username_key(v).unwrap();
            assert_eq!(fold(&k), k, "{v:?}");
        }
    }
}
