//! Document validity: the documents the level requires are there (both sides of an identity
//! card), of types and issuing countries it accepts, not expired or expiring within its margin;
//! and the applicant is old enough.

use identdesk_domain::{DocumentSide, DocumentType, RejectLabel};
use serde_json::json;

use crate::date::Date;
use crate::policy::Level;
use crate::result::{finding, CheckKind, CheckResult};
use crate::submission::{profile_dob, Submission};

pub fn check(submission: &Submission, level: &Level, today: Date) -> CheckResult {
    let mut findings = Vec::new();
    let identity: Vec<_> = submission.documents.iter().filter(|d| d.is_identity()).collect();
    let accepted: Vec<_> = identity.iter().filter(|d| level.identity_documents.contains(&d.doc_type)).collect();

    if identity.is_empty() {
        findings.push(finding(RejectLabel::DOCUMENT_MISSING, "No identity document was submitted."));
    }
    for doc in identity.iter().filter(|d| !level.identity_documents.contains(&d.doc_type)) {
        findings.push(finding(RejectLabel::ID_INVALID, format!("A {} is not accepted at this level.", doc.describe())));
    }
    // An identity card has two sides.
    let cards: Vec<_> = accepted.iter().filter(|d| d.doc_type == DocumentType::IdCard).collect();
    if !cards.is_empty() {
        for (side, label) in [
            (DocumentSide::Front, RejectLabel::FRONT_SIDE_MISSING),
            (DocumentSide::Back, RejectLabel::BACK_SIDE_MISSING),
        ] {
            if !cards.iter().any(|d| d.side == Some(side) || d.side.is_none()) {
                let name = if side == DocumentSide::Front { "front" } else { "back" };
                findings.push(finding(label, format!("The {name} side of the identity card is missing.")));
            }
        }
    }
    let has = |t: DocumentType| submission.documents.iter().any(|d| d.doc_type == t);
    if level.selfie_required && !has(DocumentType::Selfie) {
        findings.push(finding(RejectLabel::DOCUMENT_MISSING, "The level requires a selfie; none was submitted."));
    }
    if level.proof_of_address_required && !has(DocumentType::UtilityBill) {
        findings
            .push(finding(RejectLabel::DOCUMENT_MISSING, "The level requires a proof of address; none was submitted."));
    }

    for doc in &accepted {
        if let Some(country) = doc.issuing_country(today) {
            let blocked = level.blocked_issuing_countries.iter().any(|c| c.eq_ignore_ascii_case(&country));
            let outside = !level.issuing_countries.is_empty()
                && !level.issuing_countries.iter().any(|c| c.eq_ignore_ascii_case(&country));
            if blocked || outside {
                findings.push(finding(
                    RejectLabel::ID_INVALID,
                    format!("The {} was issued by {country}, which this level does not accept.", doc.describe()),
                ));
            }
        }
        match doc.expiry_date(today) {
            Some(expiry) if expiry < today => findings
                .push(finding(RejectLabel::EXPIRATION_DATE, format!("The {} expired on {expiry}.", doc.describe()))),
            Some(expiry) if expiry.days_since_epoch() - today.days_since_epoch() < level.expiry_margin_days => findings
                .push(finding(
                    RejectLabel::EXPIRATION_DATE,
                    format!(
                        "The {} expires on {expiry}, within the {} days this level requires.",
                        doc.describe(),
                        level.expiry_margin_days
                    ),
                )),
            Some(_) => {}
            // Driving licences of some countries carry no expiry; the others must.
            None if doc.doc_type != DocumentType::Drivers && doc.side != Some(DocumentSide::Back) => {
                findings.push(finding(
                    RejectLabel::PROBLEMATIC_APPLICANT_DATA,
                    format!("The {}'s expiry date is not known.", doc.describe()),
                ))
            }
            None => {}
        }
    }

    let dob = profile_dob(&submission.profile)
        .or_else(|| accepted.iter().find_map(|d| d.mrz(today).and_then(|m| m.fields.birth_date)));
    match dob {
        Some(dob) if dob.years_until(today) < level.min_age => findings.push(finding(
            RejectLabel::AGE_REQUIREMENT_MISMATCH,
            format!("The applicant is {}; this level requires {}.", dob.years_until(today), level.min_age),
        )),
        Some(_) => {}
        None => findings.push(finding(
            RejectLabel::PROBLEMATIC_APPLICANT_DATA,
            "The date of birth is not known, so the minimum age cannot be checked.",
        )),
    }
    let summary = format!(
        "{} identity document(s) accepted, valid and unexpired; the applicant is at least {}.",
        accepted.len(),
        level.min_age
    );
    CheckResult::from_findings(
        CheckKind::DocumentValidity,
        findings,
        summary,
        json!({"identityDocuments": accepted.len()}),
    )
}
