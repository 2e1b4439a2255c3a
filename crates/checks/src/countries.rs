//! Countries as ISO 3166-1 alpha-3 codes, whichever way a source writes them: codes (`DE`,
//! `DEU`), English names and the watchlists' forms ("Iran", "Korea, North", "Congo,
//! Democratic Republic of the").

use celes::Country;

/// The alpha-3 code of a country written as a code or an English name, or `None`.
pub fn alpha3(text: &str) -> Option<&'static str> {
    let text = text.trim();
    let folded = fold(text);
    if folded.is_empty() {
        return None;
    }
    // "Korea, North" and "Congo, Democratic Republic of the" put the qualifier last.
    let turned = text.split_once(',').map(|(a, b)| fold(&format!("{b} {a}")));
    let turned = turned.as_deref();
    let mut keys = vec![folded.as_str()];
    keys.extend(turned);
    for key in keys {
        // Two- and three-letter keys are codes; longer ones are names.
        let found = Country::from_str(key)
            .or_else(|_| Country::from_alias(key))
            .or_else(|_| Country::from_name(key))
            .or_else(|_| Country::from_name(format!("the{key}")))
            .ok();
        if let Some(country) = found {
            return Some(country.alpha3);
        }
    }
    None
}

/// The alpha-3 code for an alpha-2 code (as phone numbers and IP look-ups give them).
pub fn alpha3_of_alpha2(code: &str) -> Option<&'static str> {
    Country::from_alpha2(code).ok().map(|c| c.alpha3)
}

/// Lower-case letters only: the form of celes' keys.
fn fold(text: &str) -> String {
    let key: String = deunicode::deunicode(text).chars().filter(char::is_ascii_alphabetic).collect();
    key.to_ascii_lowercase()
}

use std::str::FromStr as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_names_and_watchlist_forms() {
        for (text, code) in [
            ("DEU", "DEU"),
            ("de", "DEU"),
            ("Germany", "DEU"),
            ("Iran", "IRN"),
            ("Russia", "RUS"),
            ("Korea, North", "PRK"),
            ("Congo, Democratic Republic of the", "COD"),
            ("Democratic Republic of the Congo", "COD"),
            ("Syria", "SYR"),
            ("United Kingdom", "GBR"),
            ("Türkiye", "TUR"),
        ] {
            assert_eq!(alpha3(text), Some(code), "{text}");
        }
        assert_eq!(alpha3("Atlantis"), None);
        assert_eq!(alpha3(""), None);
        assert_eq!(alpha3_of_alpha2("FR"), Some("FRA"));
    }
}
