//! What every check returns: an outcome, the labels it suggests, and sentences a reviewer can
//! read ("MRZ date of birth check digit is 3, expected 7").

use identdesk_domain::RejectLabel;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CheckKind {
    Mrz,
    DocumentValidity,
    DataConsistency,
    ImageQuality,
    Screening,
    PhoneRisk,
    EmailRisk,
    Duplicates,
    CountryRisk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    Pass,
    Fail,
    /// The check could not decide (missing input, unreadable data): a human looks.
    Inconclusive,
}

/// One finding of a check: the label it suggests and the sentence that explains it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub label: RejectLabel,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    pub check: CheckKind,
    pub outcome: Outcome,
    /// What failed, one finding per problem; empty when the check passed.
    pub findings: Vec<Finding>,
    /// One sentence when nothing failed: what was checked.
    pub summary: String,
    /// The measured values and matched data, for the reviewer's detail view.
    pub details: serde_json::Value,
}

impl CheckResult {
    /// A pass or a fail, decided by whether there are findings.
    pub fn from_findings(
        check: CheckKind,
        findings: Vec<Finding>,
        summary: String,
        details: serde_json::Value,
    ) -> Self {
        let outcome = if findings.is_empty() { Outcome::Pass } else { Outcome::Fail };
        CheckResult { check, outcome, findings, summary, details }
    }

    pub fn inconclusive(check: CheckKind, why: String) -> Self {
        CheckResult {
            check,
            outcome: Outcome::Inconclusive,
            findings: Vec::new(),
            summary: why,
            details: serde_json::Value::Null,
        }
    }

    pub fn labels(&self) -> impl Iterator<Item = RejectLabel> + '_ {
        self.findings.iter().map(|f| f.label)
    }

    /// Every sentence: the findings, or the summary when there are none.
    pub fn explanation(&self) -> String {
        if self.findings.is_empty() {
            self.summary.clone()
        } else {
            self.findings.iter().map(|f| f.explanation.as_str()).collect::<Vec<_>>().join(" ")
        }
    }
}

pub(crate) fn finding(label: RejectLabel, explanation: impl Into<String>) -> Finding {
    Finding { label, explanation: explanation.into() }
}
