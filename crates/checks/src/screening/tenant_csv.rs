//! A tenant's own list (PEP, internal blocklist) as CSV with a header line:
//! `id,list,name,aliases,dob,country`. `list` is `pep`, `blacklist` or `sanctions`; `aliases`
//! are separated by `;`; `dob` is `YYYY-MM-DD` or a year; `country` a code or English name.
//! The list's name in entry ids is the file's name without `.csv`.

use std::path::Path;

use super::{decode, BirthDate, Entity, EntityKind, ListKind, LoadError, Loaded};
use crate::date::Date;

pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let shown = path.display().to_string();
    let list_name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "tenant".into());
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io { path: shown.clone(), source })?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(&bytes[..]);
    let format_error = |line: u64, message: String| LoadError::Format { path: shown.clone(), line, message };
    let headers: Vec<String> = reader
        .byte_headers()
        .map_err(|e| format_error(1, e.to_string()))?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_ascii_lowercase())
        .collect();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(id_col), Some(name_col)) = (column("id"), column("name")) else {
        return Err(format_error(
            1,
            "the header must name the columns id and name (and may name list, aliases, dob, country)".into(),
        ));
    };
    let (list_col, aliases_col, dob_col, country_col) =
        (column("list"), column("aliases"), column("dob"), column("country"));
    let mut entities = Vec::new();
    let mut warnings = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| format_error(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        let field = |col: Option<usize>, warnings: &mut Vec<String>| {
            col.and_then(|c| record.get(c))
                .map(|f| decode(f, &shown, line, warnings).trim().to_owned())
                .unwrap_or_default()
        };
        let (id, name) = (field(Some(id_col), &mut warnings), field(Some(name_col), &mut warnings));
        if id.is_empty() || name.is_empty() {
            warnings.push(format!("{shown}, line {line}: no id or name; skipped"));
            continue;
        }
        let list = match field(list_col, &mut warnings).to_ascii_lowercase().as_str() {
            "pep" => ListKind::Pep,
            "sanctions" => ListKind::Sanctions,
            "blacklist" | "blocklist" | "" => ListKind::Blacklist,
            other => {
                warnings
                    .push(format!("{shown}, line {line}: list '{other}' is not pep, blacklist or sanctions; skipped"));
                continue;
            }
        };
        let mut entity = Entity::new(format!("{list_name}:{id}"), list, EntityKind::Person);
        entity.add_name(&name);
        for alias in field(aliases_col, &mut warnings).split(';') {
            entity.add_name(alias);
        }
        let dob = field(dob_col, &mut warnings);
        if !dob.is_empty() {
            match (Date::parse_iso(&dob), dob.parse::<i32>()) {
                (Some(d), _) => entity.birth_dates.push(BirthDate::Exact(d)),
                (None, Ok(y)) => entity.birth_dates.push(BirthDate::Years(y, y)),
                _ => warnings.push(format!("{shown}, line {line}: dob '{dob}' is neither YYYY-MM-DD nor a year")),
            }
        }
        entity.add_country(&field(country_col, &mut warnings));
        entities.push(entity);
    }
    Ok(Loaded { entities, warnings })
}
