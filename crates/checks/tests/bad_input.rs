//! Bad input gets a clear result or error naming what is wrong, and never a panic.

use identdesk_checks::date::Date;
use identdesk_checks::image_quality::{self, ImageThresholds};
use identdesk_checks::mrz::{self, MrzError};
use identdesk_checks::pipeline;
use identdesk_checks::policy::{Level, VerdictAnswer};
use identdesk_checks::screening::{self, Query, Watchlist};
use identdesk_checks::submission::{Submission, SubmittedDocument};
use identdesk_domain::{DocumentType, RejectLabel};

fn today() -> Date {
    Date::parse_iso("2026-11-23").unwrap()
}

#[test]
fn a_truncated_mrz_names_the_line_and_its_length() {
    let err = mrz::parse("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408", today()).unwrap_err();
    assert_eq!(err, MrzError::LineLength { line: 2, found: 17, expected: 44, format: "TD3" });
    assert_eq!(err.to_string(), "line 2 has 17 characters; a TD3 MRZ has 44 on every line");
}

#[test]
fn a_watchlist_line_that_is_not_utf8_is_read_as_latin1_and_named() {
    let dir = tempfile::tempdir().unwrap();
    // "Jos\xe9 Mu\xf1oz" in Latin-1 on line 3.
    let mut csv = b"id,list,name,aliases,dob,country\n1,pep,Anna Berg,,1970,SWE\n2,pep,Jos".to_vec();
    csv.extend_from_slice(b"\xe9 Mu\xf1oz Rivera,,1961-02-03,ESP\n");
    let path = dir.path().join("tenant-pep.csv");
    std::fs::write(&path, &csv).unwrap();
    let loaded = screening::load(&path).unwrap();
    assert_eq!(loaded.entities.len(), 2);
    assert_eq!(loaded.entities[1].names[0], "José Muñoz Rivera");
    assert!(loaded.warnings.iter().any(|w| w.contains("line 3: not UTF-8; read as Latin-1")), "{:?}", loaded.warnings);
    let list = Watchlist::new(loaded.entities);
    assert_eq!(list.search(&Query::person("Jose Munoz Rivera"))[0].entity_id, "tenant-pep:2");

    // An OFAC folder with the same problem, and a file that is not a list at all.
    let ofac = dir.path().join("ofac");
    std::fs::create_dir(&ofac).unwrap();
    let mut sdn = b"36,\"GARC".to_vec();
    sdn.extend_from_slice(
        b"\xcdA, Ram\xf3n\",\"individual\",\"SDNT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 1960.\"\n",
    );
    std::fs::write(ofac.join("sdn.csv"), sdn).unwrap();
    let loaded = screening::load(&ofac).unwrap();
    assert_eq!(loaded.entities[0].names[0], "GARCÍA, Ramón");
    assert!(!loaded.warnings.is_empty());
    let err = screening::load(&dir.path().join("list.pdf")).err().unwrap();
    assert!(err.to_string().contains("is not a watchlist"), "{err}");
    let broken = dir.path().join("broken.xml");
    std::fs::write(&broken, "<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL></WRONG>").unwrap();
    let err = screening::load(&broken).err().unwrap();
    assert!(err.to_string().contains("broken.xml"), "{err}");
}

#[test]
fn an_image_that_is_not_an_image_is_a_finding_not_a_crash() {
    for bytes in [&b""[..], b"GIF89a", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"] {
        let result = image_quality::check(bytes, &ImageThresholds::default());
        assert_eq!(result.labels().collect::<Vec<_>>(), vec![RejectLabel::UNSATISFACTORY_PHOTOS]);
    }
}

#[test]
fn an_empty_profile_goes_to_a_human_with_reasons() {
    let mut doc = SubmittedDocument::new("d1", DocumentType::Passport);
    doc.mrz = Some("garbage".into());
    doc.image = Some(b"not an image".to_vec());
    let submission = Submission { documents: vec![doc], ..Submission::default() };
    let verdict = pipeline::run(&submission, &Level::default(), &[], &[], today());
    assert_eq!(verdict.answer, VerdictAnswer::Yellow);
    let sentences: Vec<String> = verdict.results.iter().map(|r| r.explanation()).collect();
    let all = sentences.join(" | ");
    for expected in [
        "The MRZ of the passport cannot be read: line 1, position 1: 'g' cannot be in an MRZ",
        "The date of birth is not known",
        "The file is not an image",
        "No watchlist is loaded",
    ] {
        assert!(all.contains(expected), "'{expected}' in {all}");
    }
    // Nothing at all: still an answer.
    let verdict = pipeline::run(&Submission::default(), &Level::default(), &[], &[], today());
    assert!(verdict.labels.contains(&RejectLabel::DOCUMENT_MISSING));
}
