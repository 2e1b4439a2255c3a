//! Personal names compared the way documents and watchlists write them: in any order, any
//! case, with or without diacritics, transliterated differently (Mohammed, Muhammad,
//! Mokhammed), with middle names missing and the odd typo.

use strsim::jaro_winkler;

/// A name's tokens: transliterated to ASCII, upper case, split on anything that is not a letter
/// or digit (`al-Baghdadi` is `AL BAGHDADI`; `O'Brien` is `O BRIEN`). Titles are dropped: lists
/// write "Dr. Ayman", applicants do not.
pub fn tokens(name: &str) -> Vec<String> {
    let ascii = deunicode::deunicode(name).to_ascii_uppercase();
    ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty() && !TITLES.contains(t))
        .map(str::to_owned)
        .collect()
}

const TITLES: &[&str] =
    &["DR", "MR", "MRS", "MS", "MISS", "PROF", "SIR", "SHEIKH", "SHAYKH", "HAJI", "HAJJI", "MULLAH"];

/// A token's sound: transliteration variants map to one key. Vowels after the first letter
/// are dropped (they are what transliterations disagree on most), common digraphs are folded,
/// and doubled letters collapse: MOHAMMED, MUHAMMAD and MOHAMED are all `MHMD`.
pub fn phonetic(token: &str) -> String {
    let t = token.as_bytes();
    let mut out = String::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let next = t.get(i + 1).copied();
        let (c, used) = match (t[i], next) {
            (b'P', Some(b'H')) => ('F', 2),
            (b'K' | b'G', Some(b'H')) => (t[i] as char, 2),
            (b'S' | b'C' | b'Z', Some(b'H')) => ('S', 2),
            (b'T' | b'D', Some(b'H')) => (t[i] as char, 2),
            (b'C', Some(b'E' | b'I' | b'Y')) => ('S', 1),
            (b'C' | b'Q', _) => ('K', 1),
            (b'Z', _) => ('S', 1),
            (b'W', _) => ('V', 1),
            (b'J' | b'Y', _) if i > 0 => ('I', 1),
            (b'X', _) => ('S', 1),
            (b, _) => (b as char, 1),
        };
        let vowel = matches!(c, 'A' | 'E' | 'I' | 'O' | 'U' | 'Y' | 'J');
        if i == 0 {
            out.push(if vowel { 'A' } else { c });
        } else if !vowel && c != 'H' && !out.ends_with(c) {
            out.push(c);
        }
        i += used;
    }
    out
}

/// A token's sound when it says enough to compare: keys of one or two letters (ROSSI and ROJAS
/// are both `RS`) match too many names.
pub fn sound_key(token: &str) -> Option<String> {
    Some(phonetic(token)).filter(|k| k.len() >= 3)
}

/// How alike two tokens are, 0 to 1: 1 when equal, 0.92 when they sound the same, the
/// Jaro-Winkler similarity when one is a small typo of the other, 0 otherwise.
pub fn token_similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    if sound_key(a).is_some_and(|k| Some(k) == sound_key(b)) {
        return 0.92;
    }
    let jw = jaro_winkler(a, b);
    if a.len().min(b.len()) >= 4 && jw >= 0.85 && within_one_edit(a, b) {
        jw.min(0.9)
    } else {
        0.0
    }
}

/// True when `a` and `b` differ by at most one inserted, deleted, replaced or swapped character.
pub fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if short.len() == long.len() {
        let suffix_equal = |from: usize| short[from..] == long[from..];
        prefix == short.len()
            || suffix_equal(prefix + 1)
            || (prefix + 1 < short.len()
                && short[prefix] == long[prefix + 1]
                && short[prefix + 1] == long[prefix]
                && suffix_equal(prefix + 2))
    } else {
        short[prefix..] == long[prefix + 1..]
    }
}

/// How well a whole name matches another, 0 to 1, with the pairs of tokens matched.
///
/// Tokens are paired greedily, best pairs first, each token used once. The score is the mean
/// similarity of the pairs over the shorter name, lowered by the share of the longer name left
/// unmatched (a missing middle name costs little, a one-word name inside a long one much).
pub fn name_similarity(query: &[String], candidate: &[String]) -> NameMatch {
    match_tokens(query.len(), candidate.len(), |i, j| token_similarity(&query[i], &candidate[j]))
}

/// `name_similarity` over any token similarity: `similarity(i, j)` compares the query's `i`th
/// token with the candidate's `j`th (the index supplies it from a table, without strings).
pub fn match_tokens(query: usize, candidate: usize, similarity: impl Fn(usize, usize) -> f64) -> NameMatch {
    if query == 0 || candidate == 0 {
        return NameMatch::default();
    }
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for i in 0..query {
        for j in 0..candidate {
            let s = similarity(i, j);
            if s > 0.0 {
                pairs.push((s, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut used_q, mut used_c) = (vec![false; query], vec![false; candidate]);
    let mut matched = Vec::new();
    for (s, i, j) in pairs {
        if !used_q[i] && !used_c[j] {
            used_q[i] = true;
            used_c[j] = true;
            matched.push((s, i, j));
        }
    }
    let shorter = query.min(candidate);
    let longer = query.max(candidate);
    let sum: f64 = matched.iter().map(|m| m.0).sum();
    let mut score = sum / shorter as f64 * (shorter as f64 / longer as f64).powf(0.25);
    // Two people who share one name of several are not a match: a one-word match counts fully
    // only when both names are one word.
    if matched.len() < 2 && longer > 1 {
        score = score.min(0.7);
    }
    let exact = matched.iter().filter(|m| m.0 == 1.0).count();
    let sounds_alike = matched.iter().filter(|m| m.0 == 0.92).count();
    NameMatch { score, matched: matched.len(), exact, sounds_alike, typos: matched.len() - exact - sounds_alike }
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NameMatch {
    pub score: f64,
    /// Token pairs matched in all, equal, alike in sound, and within one typo.
    pub matched: usize,
    pub exact: usize,
    pub sounds_alike: usize,
    pub typos: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> Vec<String> {
        tokens(name)
    }

    #[test]
    fn tokens_fold_case_diacritics_and_punctuation() {
        assert_eq!(t("José  Álvarez-Núñez"), vec!["JOSE", "ALVAREZ", "NUNEZ"]);
        assert_eq!(t("Ерик Ериксон"), vec!["ERIK", "ERIKSON"]);
        assert_eq!(t("O'Brien, Seán"), vec!["O", "BRIEN", "SEAN"]);
    }

    #[test]
    fn transliterations_share_a_sound() {
        for (a, b) in [("MOHAMMED", "MUHAMMAD"), ("MOHAMED", "MOHAMMAD"), ("USAMA", "OSAMA"), ("YUSUF", "YOUSEF")] {
            assert_eq!(phonetic(a), phonetic(b), "{a} ~ {b}");
        }
        assert_ne!(phonetic("SMITH"), phonetic("SCHMIDT"));
    }

    #[test]
    fn one_edit_means_one() {
        assert!(within_one_edit("ERIKSSON", "ERIKSON"));
        assert!(within_one_edit("ERIKSSON", "ERKISSON"));
        assert!(within_one_edit("ERIKSSON", "ERIXSSON"));
        assert!(!within_one_edit("ERIKSSON", "ERXKSOON"));
        assert!(!within_one_edit("ANNA", "ANNABELLE"));
    }

    #[test]
    fn names_match_in_any_order_and_without_a_middle_name() {
        let full = t("ERIKSSON, Anna Maria");
        assert!(name_similarity(&t("Anna Maria Eriksson"), &full).score > 0.99);
        let no_middle = name_similarity(&t("Anna Eriksson"), &full).score;
        assert!((0.85..0.99).contains(&no_middle), "{no_middle}");
        assert!(name_similarity(&t("Anna Eriksen"), &full).score < no_middle);
        assert!(name_similarity(&t("Anna Schmidt"), &full).score <= 0.7);
        assert!(name_similarity(&t("Ali"), &t("Ali Hassan Mahmoud")).score <= 0.7);
    }
}
