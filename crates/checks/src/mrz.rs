//! The machine-readable zone of travel documents (ICAO 9303): the five formats, their fields,
//! and every check digit with the digit found and the digit expected.
//!
//! | format | lines × characters | documents                               |
//! |--------|--------------------|-----------------------------------------|
//! | TD1    | 3 × 30             | identity cards                          |
//! | TD2    | 2 × 36             | older identity cards, some permits      |
//! | TD3    | 2 × 44             | passports                               |
//! | MRV-A  | 2 × 44             | visas, full size (first character `V`)  |
//! | MRV-B  | 2 × 36             | visas, smaller (first character `V`)    |

use serde::Serialize;

use crate::date::{Date, MrzDateKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MrzFormat {
    #[serde(rename = "TD1")]
    Td1,
    #[serde(rename = "TD2")]
    Td2,
    #[serde(rename = "TD3")]
    Td3,
    #[serde(rename = "MRV-A")]
    MrvA,
    #[serde(rename = "MRV-B")]
    MrvB,
}

impl MrzFormat {
    pub fn name(self) -> &'static str {
        match self {
            MrzFormat::Td1 => "TD1",
            MrzFormat::Td2 => "TD2",
            MrzFormat::Td3 => "TD3",
            MrzFormat::MrvA => "MRV-A",
            MrzFormat::MrvB => "MRV-B",
        }
    }
}

/// An MRZ that could be read: its fields, and each check digit's result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mrz {
    pub format: MrzFormat,
    /// Every check digit holds and both dates are calendar dates.
    pub valid: bool,
    pub fields: MrzFields,
    pub checks: Vec<DigitCheck>,
    /// What is wrong besides check digits, one sentence each.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MrzFields {
    pub document_code: String,
    pub issuing_state: String,
    pub document_number: String,
    pub surname: String,
    pub given_names: String,
    /// The name filled its field to the last character, so the issuer may have cut it.
    pub name_truncated: bool,
    pub nationality: String,
    /// As written: `YYMMDD`.
    pub date_of_birth: String,
    pub birth_date: Option<Date>,
    /// `M`, `F` or `<` (unspecified).
    pub sex: String,
    /// As written: `YYMMDD`.
    pub date_of_expiry: String,
    pub expiry_date: Option<Date>,
    /// TD3's personal number; the optional data of the other formats (TD1: line 1's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional_data: Option<String>,
    /// TD1's second optional data field (line 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional_data2: Option<String>,
}

/// One check digit: which field it protects, the digit on the document, the digit computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DigitCheck {
    /// `documentNumber`, `dateOfBirth`, `dateOfExpiry`, `personalNumber`, `optionalData`, `composite`.
    pub field: &'static str,
    pub valid: bool,
    pub found: String,
    pub expected: String,
}

impl DigitCheck {
    /// "MRZ date of birth check digit is 3, expected 7".
    pub fn explain(&self) -> String {
        let field = match self.field {
            "documentNumber" => "document number",
            "dateOfBirth" => "date of birth",
            "dateOfExpiry" => "date of expiry",
            "personalNumber" => "personal number",
            "optionalData" => "optional data",
            _ => "composite",
        };
        format!("MRZ {field} check digit is {}, expected {}", self.found, self.expected)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    #[error("no MRZ lines were given")]
    Empty,
    #[error("an MRZ has 2 or 3 lines, this one has {0}")]
    LineCount(usize),
    #[error("line {line} has {found} characters; MRZ lines have 30 (TD1), 36 (TD2, MRV-B) or 44 (TD3, MRV-A)")]
    UnknownLength { line: usize, found: usize },
    #[error("line {line} has {found} characters; a {format} MRZ has {expected} on every line")]
    LineLength { line: usize, found: usize, expected: usize, format: &'static str },
    #[error("line {line}, position {position}: '{found}' cannot be in an MRZ (only A-Z, 0-9 and <)")]
    Character { line: usize, position: usize, found: char },
}

/// The ICAO 9303 check digit of `text`: weights 7, 3, 1; digits count as themselves, letters
/// A-Z as 10-35, the filler `<` as 0.
pub fn check_digit(text: &str) -> u32 {
    text.bytes()
        .zip([7u32, 3, 1].into_iter().cycle())
        .map(|(b, w)| {
            let value = match b {
                b'0'..=b'9' => u32::from(b - b'0'),
                b'A'..=b'Z' => u32::from(b - b'A') + 10,
                _ => 0,
            };
            value * w
        })
        .sum::<u32>()
        % 10
}

/// Writes a passport's MRZ (TD3) with correct check digits: for demo data and tests. Names in
/// MRZ letters (`surname` "DE JONG" becomes `DE<JONG`); dates as YYMMDD; sex is F.
pub fn compose_td3(surname: &str, given: &str, number: &str, country: &str, dob: &str, expiry: &str) -> String {
    let name = format!("{}<<{}", surname.replace(' ', "<"), given.replace(' ', "<"));
    let line1: String = format!("P<{country}{name:<<39}").chars().take(44).collect();
    let number = format!("{number:<<9}");
    let personal = "<".repeat(14);
    let mut line2 = format!(
        "{number}{}{country}{dob}{}F{expiry}{}{personal}{}",
        check_digit(&number),
        check_digit(dob),
        check_digit(expiry),
        check_digit(&personal)
    );
    let composite = format!("{}{}{}", &line2[0..10], &line2[13..20], &line2[21..43]);
    line2.push_str(&check_digit(&composite).to_string());
    format!("{line1}\n{line2}")
}

/// Reads an MRZ: its lines separated by line breaks; surrounding blanks and empty lines are
/// ignored. `today` decides the centuries of the two dates.
pub fn parse(text: &str, today: Date) -> Result<Mrz, MrzError> {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.is_empty() {
        return Err(MrzError::Empty);
    }
    for (i, line) in lines.iter().enumerate() {
        if let Some((position, found)) =
            line.chars().enumerate().find(|(_, c)| !(c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '<'))
        {
            return Err(MrzError::Character { line: i + 1, position: position + 1, found });
        }
    }
    let format = match (lines.len(), lines[0].len()) {
        (3, _) => MrzFormat::Td1,
        (2, 36) if lines[0].starts_with('V') => MrzFormat::MrvB,
        (2, 36) => MrzFormat::Td2,
        (2, 44) if lines[0].starts_with('V') => MrzFormat::MrvA,
        (2, 44) => MrzFormat::Td3,
        (2, found) => return Err(MrzError::UnknownLength { line: 1, found }),
        (n, _) => return Err(MrzError::LineCount(n)),
    };
    let width = match format {
        MrzFormat::Td1 => 30,
        MrzFormat::Td2 | MrzFormat::MrvB => 36,
        MrzFormat::Td3 | MrzFormat::MrvA => 44,
    };
    for (i, line) in lines.iter().enumerate() {
        if line.len() != width {
            return Err(MrzError::LineLength {
                line: i + 1,
                found: line.len(),
                expected: width,
                format: format.name(),
            });
        }
    }
    Ok(match format {
        MrzFormat::Td1 => read_td1(&lines, today),
        _ => read_two_lines(format, lines[0], lines[1], today),
    })
}

/// Builds the result from the parts every format has.
struct Reading {
    format: MrzFormat,
    fields: MrzFields,
    checks: Vec<DigitCheck>,
}

impl Reading {
    fn finish(self) -> Mrz {
        let mut problems = Vec::new();
        if self.fields.birth_date.is_none() {
            problems.push(format!("MRZ date of birth {} is not a calendar date", self.fields.date_of_birth));
        }
        if self.fields.expiry_date.is_none() {
            problems.push(format!("MRZ date of expiry {} is not a calendar date", self.fields.date_of_expiry));
        }
        problems.extend(self.checks.iter().filter(|c| !c.valid).map(DigitCheck::explain));
        Mrz { format: self.format, valid: problems.is_empty(), fields: self.fields, checks: self.checks, problems }
    }
}

/// The check over `data` against the digit written at `found`. A field left empty (all
/// fillers) may carry `<` instead of its digit 0.
fn digit(field: &'static str, data: &str, found: char) -> DigitCheck {
    let expected = char::from_digit(check_digit(data), 10).expect("a digit");
    let empty_field = data.bytes().all(|b| b == b'<');
    let valid = found == expected || (empty_field && found == '<' && expected == '0');
    DigitCheck { field, valid, found: found.to_string(), expected: expected.to_string() }
}

fn at(line: &str, i: usize) -> char {
    line.as_bytes()[i] as char
}

fn clean(text: &str) -> String {
    text.trim_end_matches('<').replace('<', " ")
}

fn optional(text: &str) -> Option<String> {
    Some(clean(text))
}

/// `SURNAME<<GIVEN<NAMES<<<` into surname and given names.
fn names(field: &str) -> (String, String, bool) {
    let truncated = !field.ends_with('<');
    let (surname, given) = field.split_once("<<").unwrap_or((field, ""));
    (clean(surname).trim().to_owned(), clean(given).trim().to_owned(), truncated)
}

/// A document number longer than nine characters (TD1 and TD2): the first nine in the number
/// field, `<` in place of its check digit, and the rest followed by the check digit at the start
/// of the optional data, ended by `<`. Returns the whole number, its check digit and the
/// optional data that is left.
fn long_number(first_nine: &str, optional: &str) -> Option<(String, char, String)> {
    let end = optional.find('<')?;
    if end < 2 {
        return None;
    }
    let (rest, tail) = optional.split_at(end);
    let (more, check) = rest.split_at(rest.len() - 1);
    Some((format!("{first_nine}{more}"), check.chars().next()?, clean(tail)))
}

/// The run every format has in its data line: date of birth (6), its digit, sex, date of
/// expiry (6), its digit.
struct Dates {
    birth: String,
    birth_date: Option<Date>,
    sex: String,
    expiry: String,
    expiry_date: Option<Date>,
}

impl Dates {
    /// Reads the run starting at `start`, adding its two check digits to `checks`.
    fn read(line: &str, start: usize, today: Date, checks: &mut Vec<DigitCheck>) -> Dates {
        let (birth, expiry) = (&line[start..start + 6], &line[start + 8..start + 14]);
        checks.push(digit("dateOfBirth", birth, at(line, start + 6)));
        checks.push(digit("dateOfExpiry", expiry, at(line, start + 14)));
        Dates {
            birth: birth.to_owned(),
            birth_date: Date::parse_mrz(birth, MrzDateKind::Birth, today),
            sex: line[start + 7..start + 8].to_owned(),
            expiry: expiry.to_owned(),
            expiry_date: Date::parse_mrz(expiry, MrzDateKind::Expiry, today),
        }
    }
}

fn read_td1(lines: &[&str], today: Date) -> Mrz {
    let (l1, l2, l3) = (lines[0], lines[1], lines[2]);
    let (surname, given_names, name_truncated) = names(l3);
    let mut checks = Vec::new();
    let (number, optional_data) = match (at(l1, 14), long_number(&l1[5..14], &l1[15..30])) {
        ('<', Some((number, check, rest))) => {
            checks.push(digit("documentNumber", &number, check));
            (number, rest)
        }
        (check, _) => {
            checks.push(digit("documentNumber", &l1[5..14], check));
            (clean(&l1[5..14]), clean(&l1[15..30]))
        }
    };
    let dates = Dates::read(l2, 0, today, &mut checks);
    let composite = format!("{}{}{}{}", &l1[5..30], &l2[0..7], &l2[8..15], &l2[18..29]);
    checks.push(digit("composite", &composite, at(l2, 29)));
    Reading {
        format: MrzFormat::Td1,
        fields: MrzFields {
            document_code: clean(&l1[0..2]),
            issuing_state: clean(&l1[2..5]),
            document_number: number,
            surname,
            given_names,
            name_truncated,
            nationality: clean(&l2[15..18]),
            date_of_birth: dates.birth,
            birth_date: dates.birth_date,
            sex: dates.sex,
            date_of_expiry: dates.expiry,
            expiry_date: dates.expiry_date,
            personal_number: None,
            optional_data: Some(optional_data),
            optional_data2: optional(&l2[18..29]),
        },
        checks,
    }
    .finish()
}

/// TD2, TD3, MRV-A and MRV-B: a name line, then the data line.
fn read_two_lines(format: MrzFormat, l1: &str, l2: &str, today: Date) -> Mrz {
    let (surname, given_names, name_truncated) = names(&l1[5..]);
    let width = l2.len();
    let mut checks = Vec::new();
    // Where the optional data runs, and whether a composite digit ends the line.
    let (optional_end, composite) = match format {
        MrzFormat::Td2 => (35, true),
        MrzFormat::Td3 => (42, true),
        _ => (width, false),
    };
    let optional_field = &l2[28..optional_end];
    let (number, optional_data) = match (format, at(l2, 9), long_number(&l2[0..9], optional_field)) {
        (MrzFormat::Td2, '<', Some((number, check, rest))) => {
            checks.push(digit("documentNumber", &number, check));
            (number, rest)
        }
        (_, check, _) => {
            checks.push(digit("documentNumber", &l2[0..9], check));
            (clean(&l2[0..9]), clean(optional_field))
        }
    };
    let dates = Dates::read(l2, 13, today, &mut checks);
    let personal_number = (format == MrzFormat::Td3).then(|| {
        checks.push(digit("personalNumber", &l2[28..42], at(l2, 42)));
        clean(&l2[28..42])
    });
    if composite {
        let data = format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..width - 1]);
        checks.push(digit("composite", &data, at(l2, width - 1)));
    }
    Reading {
        format,
        fields: MrzFields {
            document_code: clean(&l1[0..2]),
            issuing_state: clean(&l1[2..5]),
            document_number: number,
            surname,
            given_names,
            name_truncated,
            nationality: clean(&l2[10..13]),
            date_of_birth: dates.birth,
            birth_date: dates.birth_date,
            sex: dates.sex,
            date_of_expiry: dates.expiry,
            expiry_date: dates.expiry_date,
            personal_number,
            optional_data: (format != MrzFormat::Td3).then_some(optional_data),
            optional_data2: None,
        },
        checks,
    }
    .finish()
}
