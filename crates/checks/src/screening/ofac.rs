//! The OFAC SDN list in its legacy CSV form: `sdn.csv` (ent_num, SDN_Name, SDN_Type, Program,
//! Title, Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks), `alt.csv`
//! (ent_num, alt_num, alt_type, alt_name, alt_remarks) and `add.csv` (ent_num, add_num,
//! address, city/state/postal, country, add_remarks). Nulls are `-0-`. Dates of birth,
//! nationalities, passports and more aliases sit in Remarks, as `;`-separated phrases.

use std::collections::HashMap;
use std::path::Path;

use super::{decode, BirthDate, Entity, EntityKind, ListKind, LoadError, Loaded};
use crate::date::Date;

/// Loads `sdn.csv` from `folder`, with `alt.csv` and `add.csv` when they are there.
pub fn load(folder: &Path) -> Result<Loaded, LoadError> {
    let mut warnings = Vec::new();
    let mut entities = Vec::new();
    let mut by_number: HashMap<String, usize> = HashMap::new();
    for (line, fields) in rows(&folder.join("sdn.csv"), &mut warnings)? {
        let [number, name, kind, program, ..] = &fields[..] else {
            warnings.push(format!("sdn.csv, line {line}: {} fields, expected 12; skipped", fields.len()));
            continue;
        };
        let kind = match kind.to_ascii_lowercase().as_str() {
            "individual" => EntityKind::Person,
            "vessel" => EntityKind::Vessel,
            "aircraft" => EntityKind::Aircraft,
            _ => EntityKind::Organisation,
        };
        let mut entity = Entity::new(format!("ofac:{number}"), ListKind::Sanctions, kind);
        entity.add_name(name);
        entity.programs.extend(
            program
                .split(']')
                .map(|p| p.trim_matches(|c| c == '[' || c == ' '))
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
        );
        if let Some(remarks) = fields.get(11) {
            read_remarks(&mut entity, remarks);
        }
        by_number.insert(number.clone(), entities.len());
        entities.push(entity);
    }
    let alt = folder.join("alt.csv");
    if alt.exists() {
        for (line, fields) in rows(&alt, &mut warnings)? {
            match (fields.first().and_then(|n| by_number.get(n)), fields.get(3)) {
                (Some(&i), Some(name)) => entities[i].add_name(name),
                _ => warnings.push(format!("alt.csv, line {line}: no entry {:?} in sdn.csv; skipped", fields.first())),
            }
        }
    }
    let add = folder.join("add.csv");
    if add.exists() {
        for (_, fields) in rows(&add, &mut warnings)? {
            if let (Some(&i), Some(country)) = (fields.first().and_then(|n| by_number.get(n)), fields.get(4)) {
                entities[i].add_country(country);
            }
        }
    }
    Ok(Loaded { entities, warnings })
}

/// The records of one file with their line numbers; fields trimmed, `-0-` as empty.
fn rows(path: &Path, warnings: &mut Vec<String>) -> Result<Vec<(u64, Vec<String>)>, LoadError> {
    let shown = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let file =
        std::fs::File::open(path).map_err(|source| LoadError::Io { path: path.display().to_string(), source })?;
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(std::io::BufReader::new(file));
    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let fields: Vec<String> = record
                    .iter()
                    .map(|f| {
                        let text = decode(f, &shown, line, warnings);
                        let text = text.trim();
                        if text == "-0-" {
                            String::new()
                        } else {
                            text.to_owned()
                        }
                    })
                    .collect();
                // The file ends with a line holding only an end-of-file mark (0x1A).
                if fields.len() > 1 {
                    out.push((line, fields));
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(LoadError::Format { path: shown, line, message: e.to_string() });
            }
        }
    }
    Ok(out)
}

/// Reads the phrases of Remarks this check uses: `DOB …`, `nationality …`, `citizen …`,
/// `Passport N (Country)`, `National ID No. N`, `a.k.a. 'NAME'`.
fn read_remarks(entity: &mut Entity, remarks: &str) {
    for phrase in remarks.split(';') {
        let phrase = phrase.trim().trim_end_matches('.').trim_start_matches("alt. ");
        if let Some(date) = phrase.strip_prefix("DOB ") {
            entity.birth_dates.extend(birth_date(date));
        } else if let Some(country) = phrase.strip_prefix("nationality ").or_else(|| phrase.strip_prefix("citizen ")) {
            entity.add_country(country);
        } else if let Some(rest) = phrase.strip_prefix("Passport ").or_else(|| phrase.strip_prefix("National ID No. "))
        {
            let (number, country) = rest.split_once(" (").unwrap_or((rest, ""));
            let number: String = number.chars().filter(char::is_ascii_alphanumeric).collect();
            if !number.is_empty() {
                entity.documents.push(number.to_ascii_uppercase());
            }
            let country = country.split(')').next().unwrap_or("");
            entity.add_country(country);
        } else if phrase.starts_with("a.k.a.") || phrase.starts_with("f.k.a.") {
            for alias in phrase.split('\'').skip(1).step_by(2) {
                entity.add_name(alias);
            }
        }
    }
}

/// `12 Jul 1957`, `Jul 1957`, `1957`, `circa 1957`, `1955 to 1957`.
pub(crate) fn birth_date(text: &str) -> Option<BirthDate> {
    let text = text.trim();
    if let Some(year) = text.strip_prefix("circa ") {
        let year: i32 = year.trim().parse().ok()?;
        return Some(BirthDate::Years(year - 1, year + 1));
    }
    if let Some((from, to)) = text.split_once(" to ") {
        let year = |t: &str| t.trim().rsplit(' ').next().and_then(|y| y.parse::<i32>().ok());
        return Some(BirthDate::Years(year(from)?, year(to)?));
    }
    let parts: Vec<&str> = text.split_whitespace().collect();
    match parts[..] {
        [year] => year.parse().ok().map(|y| BirthDate::Years(y, y)),
        [_, year] => year.parse().ok().map(|y| BirthDate::Years(y, y)),
        [day, month, year] => {
            let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as u32 + 1;
            Date::new(year.parse().ok()?, month, day.parse().ok()?).map(BirthDate::Exact)
        }
        _ => None,
    }
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remarks_give_dates_countries_documents_and_aliases() {
        let mut e = Entity::new("ofac:1".into(), ListKind::Sanctions, EntityKind::Person);
        read_remarks(
            &mut e,
            "DOB 12 Jul 1957; alt. DOB circa 1960; POB Cairo, Egypt; nationality Egypt; citizen Iran; \
             Passport 1084010 (Egypt); a.k.a. 'ABU MOHAMMED'; a.k.a. 'THE DOCTOR'.",
        );
        assert_eq!(
            e.birth_dates,
            vec![BirthDate::Exact(Date::new(1957, 7, 12).unwrap()), BirthDate::Years(1959, 1961)]
        );
        assert_eq!(e.countries, vec!["EGY", "IRN"]);
        assert_eq!(e.documents, vec!["1084010"]);
        assert_eq!(e.names, vec!["ABU MOHAMMED", "THE DOCTOR"]);
        assert_eq!(birth_date("1955 to 1957"), Some(BirthDate::Years(1955, 1957)));
        assert_eq!(birth_date("Feb 1970"), Some(BirthDate::Years(1970, 1970)));
        assert_eq!(birth_date("sometime"), None);
    }
}
