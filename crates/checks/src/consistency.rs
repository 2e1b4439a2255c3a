//! Data consistency: the profile the applicant stated against each document's MRZ (name with
//! the MRZ's transliteration and truncation, date of birth, nationality, document number),
//! the documents against each other, and a proof of address against the stated address.

use identdesk_domain::RejectLabel;
use serde_json::json;

use crate::date::Date;
use crate::mrz::Mrz;
use crate::names::{self, name_similarity};
use crate::result::{finding, CheckKind, CheckResult, Finding};
use crate::submission::{profile_dob, Submission};

/// Names this alike are the same person's, written by different hands.
const SAME_NAME: f64 = 0.85;
/// Addresses this alike are the same address.
const SAME_ADDRESS: f64 = 0.75;

pub fn check(submission: &Submission, today: Date) -> CheckResult {
    let profile = &submission.profile;
    let mut findings = Vec::new();
    let mut compared = 0;
    let mrzs: Vec<(String, &Mrz)> =
        submission.documents.iter().filter_map(|d| Some((d.describe(), d.mrz(today)?))).collect();
    let profile_name = mrz_tokens(&profile.full_name());
    for (doc, mrz) in &mrzs {
        compared += 1;
        let f = &mrz.fields;
        let on_document = mrz_tokens(&format!("{} {}", f.given_names, f.surname));
        if !same_name(&profile_name, &on_document, f.name_truncated) {
            findings.push(finding(
                RejectLabel::REQUESTED_DATA_MISMATCH,
                format!(
                    "The name on the {doc} ({} {}) differs from the profile ({}).",
                    f.given_names,
                    f.surname,
                    profile.full_name()
                ),
            ));
        }
        if let (Some(stated), Some(read)) = (profile_dob(profile), f.birth_date) {
            if stated != read {
                findings.push(finding(
                    RejectLabel::REQUESTED_DATA_MISMATCH,
                    format!("The date of birth on the {doc} ({read}) differs from the profile ({stated})."),
                ));
            }
        }
        if let Some(stated) = profile.nationality.as_deref().and_then(crate::countries::alpha3) {
            let read = crate::countries::alpha3(&f.nationality).unwrap_or(f.nationality.as_str());
            if !read.is_empty() && read != stated {
                findings.push(finding(
                    RejectLabel::REQUESTED_DATA_MISMATCH,
                    format!("The nationality on the {doc} ({read}) differs from the profile ({stated})."),
                ));
            }
        }
    }
    for doc in submission.documents.iter().filter(|d| d.number.is_some()) {
        let Some(mrz) = doc.mrz(today) else { continue };
        let given: String = doc.number.as_deref().unwrap_or("").chars().filter(char::is_ascii_alphanumeric).collect();
        if !given.eq_ignore_ascii_case(&mrz.fields.document_number) {
            findings.push(finding(
                RejectLabel::REQUESTED_DATA_MISMATCH,
                format!(
                    "The {} number given ({given}) differs from its MRZ ({}).",
                    doc.describe(),
                    mrz.fields.document_number
                ),
            ));
        }
    }
    findings.extend(across_documents(&mrzs));
    for doc in submission.documents.iter().filter(|d| d.address.is_some()) {
        compared += 1;
        let (Some(on_document), Some(stated)) = (doc.address.as_deref(), profile.address.as_deref()) else { continue };
        let score = name_similarity(&names::tokens(on_document), &names::tokens(stated)).score;
        if score < SAME_ADDRESS {
            findings.push(finding(
                RejectLabel::WRONG_ADDRESS,
                format!("The address on the {} differs from the profile's (similarity {score:.2}).", doc.describe()),
            ));
        }
    }
    let summary = if compared == 0 {
        "No MRZ or address was given to compare with the profile.".to_owned()
    } else {
        format!("The profile matches the {compared} document(s) compared.")
    };
    CheckResult::from_findings(CheckKind::DataConsistency, findings, summary, json!({"documentsCompared": compared}))
}

/// Two documents of different people (INCONSISTENT_PROFILE): their MRZ names or dates of
/// birth disagree.
fn across_documents(mrzs: &[(String, &Mrz)]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, (a_doc, a)) in mrzs.iter().enumerate() {
        for (b_doc, b) in &mrzs[i + 1..] {
            let (fa, fb) = (&a.fields, &b.fields);
            let names_agree = same_name(
                &mrz_tokens(&format!("{} {}", fa.given_names, fa.surname)),
                &mrz_tokens(&format!("{} {}", fb.given_names, fb.surname)),
                fa.name_truncated || fb.name_truncated,
            );
            if !names_agree || fa.birth_date != fb.birth_date {
                out.push(finding(
                    RejectLabel::INCONSISTENT_PROFILE,
                    format!("The {a_doc} and the {b_doc} name different people."),
                ));
            }
        }
    }
    out
}

/// Tokens in the MRZ's transliteration: ICAO writes Ä as AE, Ö as OE, Ü as UE and Å as AA
/// where plain ASCII folding gives A, O, U, A; both are folded to the single letter.
fn mrz_tokens(name: &str) -> Vec<String> {
    names::tokens(name)
        .into_iter()
        .map(|t| t.replace("AE", "A").replace("OE", "O").replace("UE", "U").replace("AA", "A"))
        .collect()
}

/// The same name, allowing a last given name the MRZ cut short.
fn same_name(profile: &[String], document: &[String], truncated: bool) -> bool {
    if name_similarity(profile, document).score >= SAME_NAME {
        return true;
    }
    truncated && document.iter().all(|d| profile.iter().any(|p| p == d || (d.len() >= 2 && p.starts_with(d.as_str()))))
}

#[cfg(test)]
mod tests {
    use identdesk_domain::{ApplicantInfo, DocumentType};

    use super::*;
    use crate::result::Outcome;
    use crate::submission::SubmittedDocument;

    const TD3: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

    fn submission(first: &str, last: &str, dob: &str) -> Submission {
        let mut passport = SubmittedDocument::new("d1", DocumentType::Passport);
        passport.mrz = Some(TD3.into());
        Submission {
            profile: ApplicantInfo {
                first_name: first.into(),
                last_name: last.into(),
                dob: Some(dob.into()),
                ..ApplicantInfo::default()
            },
            documents: vec![passport],
            ..Submission::default()
        }
    }

    #[test]
    fn the_profile_matches_the_mrz_with_transliteration() {
        let today = Date::parse_iso("2026-11-23").unwrap();
        let ok = check(&submission("Anna Maria", "Eriksson", "1974-08-12"), today);
        assert_eq!(ok.outcome, Outcome::Pass, "{}", ok.explanation());
        let missing_middle = check(&submission("Anna", "Eriksson", "1974-08-12"), today);
        assert_eq!(missing_middle.outcome, Outcome::Pass, "{}", missing_middle.explanation());
        let other = check(&submission("Anna Maria", "Larsson", "1974-08-12"), today);
        assert_eq!(other.labels().collect::<Vec<_>>(), vec![RejectLabel::REQUESTED_DATA_MISMATCH]);
        let dob = check(&submission("Anna Maria", "Eriksson", "1974-08-13"), today);
        assert!(
            dob.explanation().contains("(1974-08-12) differs from the profile (1974-08-13)"),
            "{}",
            dob.explanation()
        );
        assert!(same_name(&mrz_tokens("Jürgen Müller"), &mrz_tokens("JUERGEN MUELLER"), false));
        assert!(same_name(&mrz_tokens("Maria Alexandra Wolkenstein"), &mrz_tokens("MARIA ALEXAN WOLKENSTEIN"), true));
    }
}
