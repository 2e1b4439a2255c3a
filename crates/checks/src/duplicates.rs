//! Duplicates: the tenant's other applicants with the same document number, e-mail, phone, or
//! name and date of birth. The store finds them; this turns them into a result with links.

use identdesk_domain::RejectLabel;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::result::{finding, CheckKind, CheckResult};

/// Another applicant of the tenant, and what the two share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateMatch {
    pub applicant_id: String,
    /// `documentNumber`, `email`, `phone`, `nameAndDob`.
    pub shared: Vec<String>,
}

pub fn check(matches: &[DuplicateMatch]) -> CheckResult {
    let findings = matches
        .iter()
        .map(|m| {
            let shared: Vec<&str> = m.shared.iter().map(|s| describe(s)).collect();
            finding(
                RejectLabel::DUPLICATE,
                format!("Applicant {} has the same {}.", m.applicant_id, shared.join(" and ")),
            )
        })
        .collect();
    CheckResult::from_findings(
        CheckKind::Duplicates,
        findings,
        "No other applicant of the tenant shares a document number, e-mail, phone, or name and date of birth.".into(),
        json!({"matches": matches}),
    )
}

fn describe(shared: &str) -> &str {
    match shared {
        "documentNumber" => "document number",
        "email" => "e-mail address",
        "phone" => "phone number",
        "nameAndDob" => "name and date of birth",
        other => other,
    }
}
