//! Sanctions, PEP and blocklist screening: watchlists loaded from their official formats
//! (`ofac`, `un`) or a tenant's own CSV (`tenant_csv`), indexed by name (`index`), and searched
//! with scores that say which features made them.
//!
//! A name matches across order, case, diacritics, transliteration, aliases, missing middle
//! names and single typos (`crate::names`). Date of birth and country then weigh in the way
//! yente's logic-v2 does: they never raise a name score, a mismatch lowers it.

mod index;
pub mod ofac;
pub mod tenant_csv;
pub mod un;

use std::path::Path;

use identdesk_domain::RejectLabel;
use serde::Serialize;

use crate::date::Date;
use crate::names::{self, NameMatch};
pub use index::NameIndex;

/// What kind of list an entry comes from: it decides the rejection label of a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ListKind {
    Sanctions,
    Pep,
    Blacklist,
}

impl ListKind {
    pub fn label(self) -> RejectLabel {
        match self {
            ListKind::Sanctions => RejectLabel::SANCTIONS,
            ListKind::Pep => RejectLabel::PEP,
            ListKind::Blacklist => RejectLabel::BLACKLIST,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EntityKind {
    Person,
    Organisation,
    Vessel,
    Aircraft,
}

/// A date of birth as lists give it: exact, a year, or a span of years ("circa 1957" is
/// 1956 to 1958).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum BirthDate {
    Exact(Date),
    Years(i32, i32),
}

impl BirthDate {
    fn covers_year(self, year: i32) -> bool {
        match self {
            BirthDate::Exact(d) => d.year == year,
            BirthDate::Years(from, to) => (from..=to).contains(&year),
        }
    }
}

/// One entry of a list.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entity {
    /// The list's name and the entry's own id in it: `ofac:306`, `un:6907993`.
    pub id: String,
    pub list: ListKind,
    pub kind: EntityKind,
    /// The primary name first, then the aliases.
    pub names: Vec<String>,
    pub birth_dates: Vec<BirthDate>,
    /// Nationalities, citizenships and address countries, as alpha-3 codes.
    pub countries: Vec<&'static str>,
    /// Passport and identity document numbers, upper case, letters and digits only.
    pub documents: Vec<String>,
    pub programs: Vec<String>,
}

impl Entity {
    pub fn new(id: String, list: ListKind, kind: EntityKind) -> Entity {
        Entity {
            id,
            list,
            kind,
            names: Vec::new(),
            birth_dates: Vec::new(),
            countries: Vec::new(),
            documents: Vec::new(),
            programs: Vec::new(),
        }
    }

    pub(crate) fn add_name(&mut self, name: &str) {
        let name = name.trim();
        if !name.is_empty() && !self.names.iter().any(|n| n == name) {
            self.names.push(name.to_owned());
        }
    }

    pub(crate) fn add_country(&mut self, text: &str) {
        if let Some(code) = crate::countries::alpha3(text) {
            if !self.countries.contains(&code) {
                self.countries.push(code);
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}, line {line}: {message}")]
    Format { path: String, line: u64, message: String },
    #[error("{0} is not a watchlist: give an OFAC folder (sdn.csv, alt.csv, add.csv), a UN XML file or a tenant CSV")]
    Unknown(String),
}

/// A list's entries with what loading them noticed (lines read as Latin-1, entries skipped).
pub struct Loaded {
    pub entities: Vec<Entity>,
    pub warnings: Vec<String>,
}

/// Loads a list from `path`: an OFAC folder, a UN XML file, or a tenant CSV.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    if path.is_dir() {
        return ofac::load(path);
    }
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("xml") => un::load(path),
        Some("csv") if path.file_name().is_some_and(|n| n == "sdn.csv") => ofac::load(path.parent().unwrap_or(path)),
        Some("csv") => tenant_csv::load(path),
        _ => Err(LoadError::Unknown(path.display().to_string())),
    }
}

/// The lists an applicant is screened against, indexed.
pub struct Watchlist {
    entities: Vec<Entity>,
    index: NameIndex,
}

/// Who is looked for.
#[derive(Debug, Clone)]
pub struct Query {
    pub name: String,
    pub dob: Option<Date>,
    /// Alpha-3.
    pub country: Option<String>,
    /// Vessels, aircraft and organisations are not people: skip them when screening a person.
    pub persons_only: bool,
    /// Hits below this score are not returned.
    pub threshold: f64,
    pub limit: usize,
}

impl Query {
    pub fn person(name: &str) -> Query {
        Query { name: name.to_owned(), dob: None, country: None, persons_only: true, threshold: 0.8, limit: 10 }
    }
}

/// One entry that matches, with its score and the features that made it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hit {
    pub entity_id: String,
    /// The entry's primary name.
    pub name: String,
    pub list: ListKind,
    pub score: f64,
    pub features: Features,
    /// What the list says about the entry, to set beside the applicant's data.
    pub entry: ListedEntry,
}

/// A listed entry's particulars as a reviewer compares them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedEntry {
    pub aliases: Vec<String>,
    /// "1979-03-14", "1985", or "1956–1958".
    pub birth_dates: Vec<String>,
    pub countries: Vec<&'static str>,
    pub documents: Vec<String>,
    pub programs: Vec<String>,
}

/// Aliases shown with a hit; some entries have dozens.
const ALIASES_SHOWN: usize = 8;

impl ListedEntry {
    fn of(entity: &Entity) -> ListedEntry {
        ListedEntry {
            aliases: entity.names.iter().skip(1).take(ALIASES_SHOWN).cloned().collect(),
            birth_dates: entity
                .birth_dates
                .iter()
                .map(|b| match b {
                    BirthDate::Exact(d) => d.to_string(),
                    BirthDate::Years(from, to) if from == to => from.to_string(),
                    BirthDate::Years(from, to) => format!("{from}–{to}"),
                })
                .collect(),
            countries: entity.countries.clone(),
            documents: entity.documents.clone(),
            programs: entity.programs.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    /// The name or alias that matched best, and its score before date of birth and country.
    pub matched_name: String,
    pub name_score: f64,
    pub tokens_equal: usize,
    pub tokens_sound_alike: usize,
    pub tokens_with_typo: usize,
    /// `Some(true)` when a listed date of birth fits, `Some(false)` when none does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dob_match: Option<bool>,
    #[serde(skip_serializing_if = "is_zero")]
    pub dob_penalty: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_match: Option<bool>,
    #[serde(skip_serializing_if = "is_zero")]
    pub country_penalty: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// A different year of birth: a different person, most likely.
const DOB_YEAR_PENALTY: f64 = 0.2;
/// The same year but another day: often a list's placeholder day, so it weighs less.
const DOB_DAY_PENALTY: f64 = 0.1;
const COUNTRY_PENALTY: f64 = 0.1;

impl Watchlist {
    pub fn new(entities: Vec<Entity>) -> Watchlist {
        let index = NameIndex::build(&entities);
        Watchlist { entities, index }
    }

    pub fn len(&self) -> usize {
        self.entities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// Names indexed (primary names and aliases).
    pub fn names(&self) -> usize {
        self.index.names()
    }

    /// The entries that match `query` at or above its threshold, best first.
    pub fn search(&self, query: &Query) -> Vec<Hit> {
        let wanted = names::tokens(&query.name);
        if wanted.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<Hit> = Vec::new();
        let mut best: Option<(u32, NameMatch, u16)> = None;
        // Matches come sorted by entity: keep each entity's best name.
        for (entity, name, m) in self.index.matches(&wanted, query.threshold) {
            if query.persons_only && self.entities[entity as usize].kind != EntityKind::Person {
                continue;
            }
            match best {
                Some((e, b, _)) if e == entity => {
                    if m.score > b.score {
                        best = Some((entity, m, name));
                    }
                }
                _ => {
                    if let Some((e, m, n)) = best.replace((entity, m, name)) {
                        hits.extend(self.weigh(query, &self.entities[e as usize], m, n));
                    }
                }
            }
        }
        if let Some((e, m, n)) = best {
            hits.extend(self.weigh(query, &self.entities[e as usize], m, n));
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.entity_id.cmp(&b.entity_id)));
        hits.truncate(query.limit);
        hits
    }

    fn weigh(&self, query: &Query, entity: &Entity, m: NameMatch, name: u16) -> Option<Hit> {
        // Penalties only lower a score, so a name below the threshold is out already.
        if m.score < query.threshold {
            return None;
        }
        let mut features = Features {
            matched_name: entity.names[name as usize].clone(),
            name_score: round(m.score),
            tokens_equal: m.exact,
            tokens_sound_alike: m.sounds_alike,
            tokens_with_typo: m.typos,
            dob_match: None,
            dob_penalty: 0.0,
            country_match: None,
            country_penalty: 0.0,
        };
        if let (Some(dob), false) = (query.dob, entity.birth_dates.is_empty()) {
            let fits = entity.birth_dates.iter().any(|b| match b {
                BirthDate::Exact(d) => *d == dob,
                BirthDate::Years(..) => b.covers_year(dob.year),
            });
            features.dob_match = Some(fits);
            if !fits {
                let same_year = entity.birth_dates.iter().any(|b| b.covers_year(dob.year));
                features.dob_penalty = if same_year { DOB_DAY_PENALTY } else { DOB_YEAR_PENALTY };
            }
        }
        if let (Some(country), false) = (&query.country, entity.countries.is_empty()) {
            let fits = entity.countries.iter().any(|c| c.eq_ignore_ascii_case(country));
            features.country_match = Some(fits);
            if !fits {
                features.country_penalty = COUNTRY_PENALTY;
            }
        }
        let score = round((m.score - features.dob_penalty - features.country_penalty).max(0.0));
        (score >= query.threshold).then(|| Hit {
            entity_id: entity.id.clone(),
            name: entity.names[0].clone(),
            list: entity.list,
            score,
            features,
            entry: ListedEntry::of(entity),
        })
    }
}

fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Decodes one field of a list file: UTF-8, or Latin-1 (the legacy lists' encoding) with a
/// warning naming the line.
pub(crate) fn decode(bytes: &[u8], path: &str, line: u64, warnings: &mut Vec<String>) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => {
            warnings.push(format!("{path}, line {line}: not UTF-8; read as Latin-1"));
            bytes.iter().map(|&b| b as char).collect()
        }
    }
}
