//! Country risk: a nationality or issuing country on the level's list of high-risk
//! jurisdictions.

use serde_json::json;

use crate::date::Date;
use crate::policy::Level;
use crate::result::{finding, CheckKind, CheckResult};
use crate::submission::Submission;

pub fn check(submission: &Submission, level: &Level, today: Date) -> CheckResult {
    let mut countries: Vec<(String, &str)> = Vec::new();
    if let Some(c) = submission.profile.nationality.as_deref().and_then(crate::countries::alpha3) {
        countries.push((c.to_owned(), "nationality"));
    }
    for doc in submission.documents.iter().filter(|d| d.is_identity()) {
        if let Some(mrz) = doc.mrz(today) {
            countries.push((mrz.fields.nationality.clone(), "nationality on the document"));
        }
        if let Some(c) = doc.issuing_country(today) {
            countries.push((c, "issuing country"));
        }
    }
    if let Some(c) = submission.ip_country.as_deref().and_then(crate::countries::alpha3) {
        countries.push((c.to_owned(), "IP address country"));
    }
    let mut findings = Vec::new();
    let mut seen = Vec::new();
    for (country, what) in &countries {
        if level.high_risk_countries.iter().any(|h| h.eq_ignore_ascii_case(country)) && !seen.contains(country) {
            seen.push(country.clone());
            findings.push(finding(
                level.country_risk_label,
                format!("The {what} ({country}) is on this level's list of high-risk jurisdictions."),
            ));
        }
    }
    let mut all: Vec<&str> = countries.iter().map(|(c, _)| c.as_str()).collect();
    all.sort_unstable();
    all.dedup();
    let summary = format!(
        "No high-risk jurisdiction among {}.",
        if all.is_empty() { "the data given".to_owned() } else { all.join(", ") }
    );
    CheckResult::from_findings(CheckKind::CountryRisk, findings, summary, json!({"countries": all}))
}
