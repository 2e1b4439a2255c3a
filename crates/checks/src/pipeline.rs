//! One applicant through every check, into a verdict. The store supplies what needs the
//! database (duplicate matches) and the loaded watchlist; everything else is here.

use identdesk_domain::{DocumentType, RejectLabel};
use serde_json::json;

use crate::date::Date;
use crate::duplicates::DuplicateMatch;
use crate::policy::{verdict, Level, Verdict};
use crate::result::{finding, CheckKind, CheckResult};
use crate::screening::{Query, Watchlist};
use crate::submission::{profile_dob, Submission};
use crate::{consistency, contact, country_risk, duplicates, image_quality, validity};

pub fn run(
    submission: &Submission,
    level: &Level,
    watchlists: &[&Watchlist],
    duplicate_matches: &[DuplicateMatch],
    today: Date,
) -> Verdict {
    let mut results = vec![
        mrz_check(submission, today),
        validity::check(submission, level, today),
        consistency::check(submission, today),
    ];
    for doc in &submission.documents {
        if let Some(image) = &doc.image {
            let mut result = image_quality::check(image, &level.image);
            // Say which document each sentence is about.
            for f in &mut result.findings {
                f.explanation = format!("{}: {}", capitalised(&doc.describe()), f.explanation);
            }
            result.summary = format!("{}: {}", capitalised(&doc.describe()), result.summary);
            results.push(result);
        }
    }
    results.push(screening_check(submission, level, watchlists));
    let document_country = submission.documents.iter().find(|d| d.is_identity()).and_then(|d| d.issuing_country(today));
    if let Some(phone) = &submission.phone {
        results.push(contact::phone_check(phone, document_country.as_deref(), submission.ip_country.as_deref()));
    }
    if let Some(email) = &submission.email {
        results.push(contact::email_check(email));
    }
    results.push(duplicates::check(duplicate_matches));
    results.push(country_risk::check(submission, level, today));
    verdict(results, level)
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Every MRZ given: read, every check digit verified.
pub fn mrz_check(submission: &Submission, today: Date) -> CheckResult {
    let mut findings = Vec::new();
    let mut read = Vec::new();
    let needs_mrz = |t: DocumentType| matches!(t, DocumentType::Passport | DocumentType::IdCard);
    for doc in &submission.documents {
        match doc.read_mrz(today) {
            Some(Ok(mrz)) => {
                for problem in &mrz.problems {
                    findings.push(finding(RejectLabel::FORGERY, format!("{} on the {}.", problem, doc.describe())));
                }
                read.push(json!({"documentId": doc.id, "format": mrz.format, "valid": mrz.valid, "checks": mrz.checks,
                        "documentNumber": mrz.fields.document_number}));
            }
            Some(Err(e)) => findings.push(finding(
                RejectLabel::PROBLEMATIC_APPLICANT_DATA,
                format!("The MRZ of the {} cannot be read: {e}.", doc.describe()),
            )),
            None => {}
        }
    }
    if read.is_empty() && findings.is_empty() {
        return if submission.documents.iter().any(|d| needs_mrz(d.doc_type)) {
            CheckResult::inconclusive(CheckKind::Mrz, "No MRZ was given for the identity document.".into())
        } else {
            CheckResult::from_findings(
                CheckKind::Mrz,
                vec![],
                "No document with an MRZ was submitted.".into(),
                json!([]),
            )
        };
    }
    let summary = format!("{} MRZ read; every check digit holds.", read.len());
    CheckResult::from_findings(CheckKind::Mrz, findings, summary, json!(read))
}

/// The applicant's name against every watchlist that applies (shared and the tenant's own).
pub fn screening_check(submission: &Submission, level: &Level, watchlists: &[&Watchlist]) -> CheckResult {
    if watchlists.is_empty() {
        return CheckResult::inconclusive(CheckKind::Screening, "No watchlist is loaded for this tenant.".into());
    }
    let profile = &submission.profile;
    let mut query = Query::person(&profile.full_name());
    query.dob = profile_dob(profile);
    query.country = profile.nationality.as_deref().and_then(crate::countries::alpha3).map(str::to_owned);
    query.threshold = level.screening_threshold;
    let mut hits: Vec<_> = watchlists.iter().flat_map(|list| list.search(&query)).collect();
    hits.sort_by(|a, b| b.score.total_cmp(&a.score));
    hits.truncate(query.limit);
    let entities: usize = watchlists.iter().map(|list| list.len()).sum();
    let findings = hits
        .iter()
        .map(|h| {
            finding(
                h.list.label(),
                format!(
                    "The applicant's name matches {} \"{}\" on a {} list (score {:.2}{}).",
                    h.entity_id,
                    h.features.matched_name,
                    match h.list {
                        crate::screening::ListKind::Sanctions => "sanctions",
                        crate::screening::ListKind::Pep => "PEP",
                        crate::screening::ListKind::Blacklist => "block",
                    },
                    h.score,
                    match h.features.dob_match {
                        Some(true) => ", date of birth matches",
                        Some(false) => ", date of birth differs",
                        None => "",
                    }
                ),
            )
        })
        .collect();
    CheckResult::from_findings(
        CheckKind::Screening,
        findings,
        format!("No entry among {entities} listed entities scores {:.2} or more.", level.screening_threshold),
        json!({"hits": hits}),
    )
}
