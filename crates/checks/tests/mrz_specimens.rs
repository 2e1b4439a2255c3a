//! The ICAO 9303 specimens (parts 4 to 7, the "Utopia" documents of Anna Maria Eriksson), each
//! read as printed and then with each of its check digits broken in turn.

use identdesk_checks::date::Date;
use identdesk_checks::mrz::{self, MrzError, MrzFormat};

fn today() -> Date {
    Date::parse_iso("2026-11-23").unwrap()
}

const TD3: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
const TD1: &str = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<";
/// Part 5's document number of more than nine characters: D23145890734, check digit 9.
const TD1_LONG: &str = "I<UTOD23145890<7349<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<";
const TD2: &str = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6";
const MRV_A: &str = "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL8988901C4XXX4009078F96121096ZE184226B<<<<<<";
const MRV_B: &str = "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nL8988901C4XXX4009078F9612109<<<<<<<<";

/// (line index, column) of each check digit in a specimen, with the field it protects.
fn digit_positions(format: MrzFormat) -> Vec<(&'static str, usize, usize)> {
    match format {
        MrzFormat::Td1 => {
            vec![("documentNumber", 0, 14), ("dateOfBirth", 1, 6), ("dateOfExpiry", 1, 14), ("composite", 1, 29)]
        }
        MrzFormat::Td2 => {
            vec![("documentNumber", 1, 9), ("dateOfBirth", 1, 19), ("dateOfExpiry", 1, 27), ("composite", 1, 35)]
        }
        MrzFormat::Td3 => vec![
            ("documentNumber", 1, 9),
            ("dateOfBirth", 1, 19),
            ("dateOfExpiry", 1, 27),
            ("personalNumber", 1, 42),
            ("composite", 1, 43),
        ],
        MrzFormat::MrvA | MrzFormat::MrvB => {
            vec![("documentNumber", 1, 9), ("dateOfBirth", 1, 19), ("dateOfExpiry", 1, 27)]
        }
    }
}

fn with_digit(text: &str, line: usize, column: usize, digit: char) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[line].replace_range(column..=column, &digit.to_string());
    lines.join("\n")
}

/// Reads the specimen, then breaks each check digit in turn: exactly that field fails, with
/// the broken digit found and the printed one expected.
fn specimen_holds(text: &str, format: MrzFormat) {
    let read = mrz::parse(text, today()).unwrap();
    assert_eq!(read.format, format);
    assert!(read.valid, "{format:?} specimen reads as valid: {:?}", read.problems);
    let fields: Vec<&str> = read.checks.iter().map(|c| c.field).collect();
    let positions = digit_positions(format);
    assert_eq!(fields, positions.iter().map(|p| p.0).collect::<Vec<_>>(), "one check per protected field");

    for (field, line, column) in positions {
        let printed = text.lines().nth(line).unwrap().as_bytes()[column] as char;
        let broken = if printed == '3' { '4' } else { '3' };
        let read = mrz::parse(&with_digit(text, line, column, broken), today()).unwrap();
        assert!(!read.valid, "{format:?}: a broken {field} digit makes the MRZ invalid");
        let failed: Vec<_> = read.checks.iter().filter(|c| !c.valid).collect();
        // Every check digit but the composite is itself part of the composite's data.
        let expected_failures = if field == "composite" || !fields.contains(&"composite") { 1 } else { 2 };
        assert_eq!(failed.len(), expected_failures, "{format:?} {field}: {failed:?}");
        let check = failed.iter().find(|c| c.field == field).expect("the broken field is named");
        assert_eq!(check.found, broken.to_string());
        assert_eq!(check.expected, printed.to_string());
        assert!(read.problems.iter().any(|p| p.contains(&format!("is {broken}, expected {printed}"))));
    }
}

#[test]
fn td3_passport() {
    specimen_holds(TD3, MrzFormat::Td3);
    let f = mrz::parse(TD3, today()).unwrap().fields;
    assert_eq!((f.surname.as_str(), f.given_names.as_str()), ("ERIKSSON", "ANNA MARIA"));
    assert_eq!(f.document_number, "L898902C3");
    assert_eq!(f.nationality, "UTO");
    assert_eq!(f.birth_date.unwrap().to_string(), "1974-08-12");
    assert_eq!(f.expiry_date.unwrap().to_string(), "2012-04-15");
    assert_eq!(f.sex, "F");
    assert_eq!(f.personal_number.as_deref(), Some("ZE184226B"));
    assert!(!f.name_truncated);
}

#[test]
fn td1_identity_card() {
    specimen_holds(TD1, MrzFormat::Td1);
    let f = mrz::parse(TD1, today()).unwrap().fields;
    assert_eq!(f.document_number, "D23145890");
    assert_eq!(f.given_names, "ANNA MARIA");
}

#[test]
fn td1_long_document_number() {
    let read = mrz::parse(TD1_LONG, today()).unwrap();
    assert!(read.valid, "{:?}", read.problems);
    assert_eq!(read.fields.document_number, "D23145890734");
    assert_eq!(read.fields.optional_data.as_deref(), Some(""));
    // Its check digit sits after the extra characters, in the optional data.
    let read = mrz::parse(&with_digit(TD1_LONG, 0, 18, '1'), today()).unwrap();
    let number = read.checks.iter().find(|c| c.field == "documentNumber").unwrap();
    assert_eq!((number.valid, number.found.as_str(), number.expected.as_str()), (false, "1", "9"));
}

#[test]
fn td2_identity_card() {
    specimen_holds(TD2, MrzFormat::Td2);
}

#[test]
fn mrv_a_visa() {
    specimen_holds(MRV_A, MrzFormat::MrvA);
    let f = mrz::parse(MRV_A, today()).unwrap().fields;
    assert_eq!(f.document_number, "L8988901C");
    assert_eq!(f.nationality, "XXX");
    assert_eq!(f.expiry_date.unwrap().to_string(), "1996-12-10");
    assert_eq!(f.optional_data.as_deref(), Some("6ZE184226B"));
}

#[test]
fn mrv_b_visa() {
    specimen_holds(MRV_B, MrzFormat::MrvB);
}

#[test]
fn the_check_digit_of_the_specification_example() {
    // ICAO 9303 part 3, 4.9: 520727 gives 3.
    assert_eq!(mrz::check_digit("520727"), 3);
    assert_eq!(mrz::check_digit("AB2134<<<"), 5);
}

#[test]
fn unreadable_input_names_what_is_wrong() {
    let truncated = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<";
    assert_eq!(
        mrz::parse(truncated, today()).unwrap_err(),
        MrzError::LineLength { line: 2, found: 39, expected: 44, format: "TD3" }
    );
    assert_eq!(mrz::parse("  \n", today()).unwrap_err(), MrzError::Empty);
    assert_eq!(mrz::parse("P<UTO", today()).unwrap_err(), MrzError::LineCount(1));
    assert_eq!(mrz::parse("P<UTO\nL898", today()).unwrap_err(), MrzError::UnknownLength { line: 1, found: 5 });
    let lower = TD3.replace("ERIKSSON", "Eriksson");
    let err = mrz::parse(&lower, today()).unwrap_err();
    assert_eq!(err, MrzError::Character { line: 1, position: 7, found: 'r' });
    assert!(err.to_string().contains("line 1, position 7"));
}

#[test]
fn an_impossible_date_is_a_problem_even_with_a_matching_digit() {
    // Month 13, with the check digit computed for it.
    let digit = char::from_digit(mrz::check_digit("741312"), 10).unwrap();
    let mut line2: Vec<char> = "L898902C36UTO7408122F1204159ZE184226B<<<<<10".chars().collect();
    line2[13..19].copy_from_slice(&"741312".chars().collect::<Vec<_>>());
    line2[19] = digit;
    let text = format!("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n{}", line2.into_iter().collect::<String>());
    let read = mrz::parse(&text, today()).unwrap();
    assert!(!read.valid);
    assert!(read.problems.iter().any(|p| p == "MRZ date of birth 741312 is not a calendar date"));
}

#[test]
fn a_composed_passport_mrz_reads_back_valid_with_its_fields() {
    let text = mrz::compose_td3("ASHCOMBE<VILLIERS", "TARQUIN", "533019284", "GBR", "900211", "310922");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!((lines.len(), lines[0].len(), lines[1].len()), (2, 44, 44));
    let read = mrz::parse(&text, today()).unwrap();
    assert!(read.valid, "{:?}", read.checks);
    assert_eq!(read.format, MrzFormat::Td3);
    assert_eq!(read.fields.document_number, "533019284");
    assert_eq!((read.fields.surname.as_str(), read.fields.given_names.as_str()), ("ASHCOMBE VILLIERS", "TARQUIN"));
    // A name longer than the line is cut at 44 characters, and still reads.
    let long =
        mrz::compose_td3("WOLFESCHLEGELSTEINHAUSENBERGERDORFF", "HUBERT BLAINE", "X1", "DEU", "650101", "300101");
    assert!(mrz::parse(&long, today()).unwrap().valid);
}
