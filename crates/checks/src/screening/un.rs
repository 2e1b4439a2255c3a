//! The UN Security Council consolidated list (XML): INDIVIDUALS and ENTITIES with their names
//! (FIRST_NAME … FOURTH_NAME), aliases, dates of birth (exact, a year, or between two years),
//! nationalities, documents and address countries. Entry ids are the list's DATAID.

use std::path::Path;

use quick_xml::events::Event;
use quick_xml::Reader;

use super::{BirthDate, Entity, EntityKind, ListKind, LoadError, Loaded};
use crate::date::Date;

pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| LoadError::Io { path: shown.clone(), source })?;
    let mut reader = Reader::from_reader(std::io::BufReader::new(file));
    let mut buf = Vec::new();
    let mut path_stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut entry: Option<Entry> = None;
    let mut entities = Vec::new();
    let mut warnings = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| LoadError::Format {
            path: shown.clone(),
            line: line_of(path, reader.error_position()),
            message: e.to_string(),
        })?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                match name.as_str() {
                    "INDIVIDUAL" => entry = Some(Entry::new(EntityKind::Person)),
                    "ENTITY" => entry = Some(Entry::new(EntityKind::Organisation)),
                    _ => {}
                }
                path_stack.push(name);
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.decode().unwrap_or_default()),
            Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match r.decode().unwrap_or_default().as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                text.extend(resolved);
            }
            Event::End(_) => {
                let name = path_stack.pop().unwrap_or_default();
                let parent = path_stack.last().map(String::as_str).unwrap_or("");
                if let Some(current) = entry.as_mut() {
                    current.take(parent, &name, text.trim());
                    if name == "INDIVIDUAL" || name == "ENTITY" {
                        match entry.take().and_then(Entry::finish) {
                            Some(entity) => entities.push(entity),
                            None => warnings.push(format!("{shown}: an {name} without DATAID or name; skipped")),
                        }
                    }
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(Loaded { entities, warnings })
}

/// The line of a byte offset, for error messages.
fn line_of(path: &Path, offset: u64) -> u64 {
    std::fs::read(path)
        .map_or(0, |bytes| bytes.iter().take(offset as usize).filter(|&&b| b == b'\n').count() as u64 + 1)
}

/// An entry being read.
struct Entry {
    kind: EntityKind,
    id: String,
    name_parts: Vec<String>,
    aliases: Vec<String>,
    countries: Vec<String>,
    documents: Vec<String>,
    programs: Vec<String>,
    birth_dates: Vec<BirthDate>,
    /// The date of birth being read: its DATE, YEAR, FROM_YEAR, TO_YEAR.
    dob: (Option<Date>, Option<i32>, Option<i32>, Option<i32>),
}

impl Entry {
    fn new(kind: EntityKind) -> Entry {
        Entry {
            kind,
            id: String::new(),
            name_parts: Vec::new(),
            aliases: Vec::new(),
            countries: Vec::new(),
            documents: Vec::new(),
            programs: Vec::new(),
            birth_dates: Vec::new(),
            dob: (None, None, None, None),
        }
    }

    /// Takes the text of element `name` inside `parent`.
    fn take(&mut self, parent: &str, name: &str, text: &str) {
        let top = parent == "INDIVIDUAL" || parent == "ENTITY";
        match (parent, name) {
            (_, "DATAID") if top => self.id = text.to_owned(),
            (_, "FIRST_NAME" | "SECOND_NAME" | "THIRD_NAME" | "FOURTH_NAME") if top && !text.is_empty() => {
                self.name_parts.push(text.to_owned())
            }
            (_, "UN_LIST_TYPE") if top => self.programs.push(text.to_owned()),
            ("INDIVIDUAL_ALIAS" | "ENTITY_ALIAS", "ALIAS_NAME") if !text.is_empty() => {
                // Aliases sometimes list several names separated by ';'.
                self.aliases.extend(text.split(';').map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()))
            }
            ("NATIONALITY", "VALUE") | ("INDIVIDUAL_ADDRESS" | "ENTITY_ADDRESS", "COUNTRY") if !text.is_empty() => {
                self.countries.push(text.to_owned())
            }
            ("INDIVIDUAL_DOCUMENT", "NUMBER") => {
                let number: String = text.chars().filter(char::is_ascii_alphanumeric).collect();
                if !number.is_empty() {
                    self.documents.push(number.to_ascii_uppercase());
                }
            }
            ("INDIVIDUAL_DATE_OF_BIRTH", "DATE") => self.dob.0 = Date::parse_iso(text.get(..10).unwrap_or(text)),
            ("INDIVIDUAL_DATE_OF_BIRTH", "YEAR") => self.dob.1 = text.parse().ok(),
            ("INDIVIDUAL_DATE_OF_BIRTH", "FROM_YEAR") => self.dob.2 = text.parse().ok(),
            ("INDIVIDUAL_DATE_OF_BIRTH", "TO_YEAR") => self.dob.3 = text.parse().ok(),
            (_, "INDIVIDUAL_DATE_OF_BIRTH") => {
                let dob = std::mem::take(&mut self.dob);
                let date = match dob {
                    (Some(d), ..) => Some(BirthDate::Exact(d)),
                    (None, Some(y), ..) => Some(BirthDate::Years(y, y)),
                    (None, None, Some(from), Some(to)) => Some(BirthDate::Years(from, to)),
                    _ => None,
                };
                self.birth_dates.extend(date);
            }
            _ => {}
        }
    }

    fn finish(self) -> Option<Entity> {
        if self.id.is_empty() || self.name_parts.is_empty() {
            return None;
        }
        let mut entity = Entity::new(format!("un:{}", self.id), ListKind::Sanctions, self.kind);
        entity.add_name(&self.name_parts.join(" "));
        for alias in &self.aliases {
            entity.add_name(alias);
        }
        for country in &self.countries {
            entity.add_country(country);
        }
        entity.documents = self.documents;
        entity.programs = self.programs;
        entity.birth_dates = self.birth_dates;
        Some(entity)
    }
}
