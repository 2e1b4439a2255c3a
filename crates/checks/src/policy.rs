//! Levels and verdicts. A level (per tenant, from a TOML file) says which documents are
//! required, what the checks accept, their thresholds, and whether the pipeline may reject on
//! its own and for which labels. The verdict turns check results into GREEN, RED or YELLOW.

use std::collections::BTreeMap;

use identdesk_domain::{DocumentType, RejectLabel, RejectType};
use serde::{Deserialize, Serialize};

use crate::image_quality::ImageThresholds;
use crate::result::{CheckKind, CheckResult, Outcome};

/// A tenant's levels by name, as in `levels.toml`:
///
/// ```toml
/// [levels.basic-kyc]
/// min_age = 18
/// auto_reject = true
/// auto_reject_labels = ["EXPIRATION_DATE", "AGE_REQUIREMENT_MISMATCH"]
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Levels {
    #[serde(default)]
    pub levels: BTreeMap<String, Level>,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("the levels file is not valid: {0}")]
    Invalid(String),
    #[error("no level named '{0}'")]
    UnknownLevel(String),
}

impl Levels {
    pub fn from_toml(text: &str) -> Result<Levels, PolicyError> {
        toml::from_str(text).map_err(|e| PolicyError::Invalid(e.to_string()))
    }

    /// The named level; a tenant without a levels file gets the defaults under any name.
    pub fn level(&self, name: &str) -> Result<Level, PolicyError> {
        if self.levels.is_empty() {
            return Ok(Level::default());
        }
        self.levels.get(name).cloned().ok_or_else(|| PolicyError::UnknownLevel(name.to_owned()))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Level {
    /// Identity documents accepted; any one of them is required.
    pub identity_documents: Vec<DocumentType>,
    pub selfie_required: bool,
    pub proof_of_address_required: bool,
    /// Issuing countries accepted (alpha-3); empty accepts all but the blocked ones.
    pub issuing_countries: Vec<String>,
    pub blocked_issuing_countries: Vec<String>,
    pub min_age: i32,
    /// A document expiring within this many days is treated as expired.
    pub expiry_margin_days: i64,
    /// Nationalities and countries of residence the tenant treats as high risk (alpha-3).
    pub high_risk_countries: Vec<String>,
    /// The label a high-risk country suggests: REGULATIONS_VIOLATIONS or WRONG_USER_REGION.
    pub country_risk_label: RejectLabel,
    pub screening_threshold: f64,
    pub image: ImageThresholds,
    /// May the pipeline reject without a human, and for which labels?
    pub auto_reject: bool,
    pub auto_reject_labels: Vec<RejectLabel>,
}

impl Default for Level {
    fn default() -> Self {
        Level {
            identity_documents: vec![
                DocumentType::Passport,
                DocumentType::IdCard,
                DocumentType::Drivers,
                DocumentType::ResidencePermit,
            ],
            selfie_required: false,
            proof_of_address_required: false,
            issuing_countries: Vec::new(),
            blocked_issuing_countries: Vec::new(),
            min_age: 18,
            expiry_margin_days: 0,
            // FATF's "call for action" list (black list).
            high_risk_countries: vec!["PRK".into(), "IRN".into(), "MMR".into()],
            country_risk_label: RejectLabel::REGULATIONS_VIOLATIONS,
            screening_threshold: 0.8,
            image: ImageThresholds::default(),
            auto_reject: false,
            auto_reject_labels: vec![RejectLabel::EXPIRATION_DATE, RejectLabel::AGE_REQUIREMENT_MISMATCH],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum VerdictAnswer {
    Green,
    Red,
    /// A human decides: a review case is queued.
    Yellow,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub answer: VerdictAnswer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_type: Option<RejectType>,
    /// Labels for a RED verdict, or the labels suggested to the reviewer for YELLOW.
    pub labels: Vec<RejectLabel>,
    /// Screening hits: the decision needs a second reviewer.
    pub four_eyes: bool,
    /// One sentence on why this verdict.
    pub reason: String,
    pub results: Vec<CheckResult>,
}

/// Turns check results into a verdict under `level`.
///
/// GREEN when every check passed. RED only when the level allows automatic rejection, every
/// failure's labels are among its automatic ones, nothing was inconclusive and nothing was
/// found on a watchlist. Otherwise YELLOW, with the failures' labels suggested.
pub fn verdict(results: Vec<CheckResult>, level: &Level) -> Verdict {
    let mut labels: Vec<RejectLabel> = results.iter().flat_map(|r| r.labels()).collect();
    labels.sort();
    labels.dedup();
    let failed = results.iter().filter(|r| r.outcome == Outcome::Fail).count();
    let inconclusive: Vec<CheckKind> =
        results.iter().filter(|r| r.outcome == Outcome::Inconclusive).map(|r| r.check).collect();
    let screening_hit = results.iter().any(|r| r.check == CheckKind::Screening && r.outcome == Outcome::Fail);
    let (answer, reason) = if failed == 0 && inconclusive.is_empty() {
        (VerdictAnswer::Green, "Every check passed.".to_owned())
    } else if screening_hit {
        (VerdictAnswer::Yellow, "A watchlist entry matches: a human decides, with a second reviewer.".to_owned())
    } else if !inconclusive.is_empty() {
        (VerdictAnswer::Yellow, format!("Some checks could not decide ({}): a human decides.", kinds(&inconclusive)))
    } else if level.auto_reject && labels.iter().all(|l| level.auto_reject_labels.contains(l)) {
        (VerdictAnswer::Red, "Every failure is one the level rejects automatically.".to_owned())
    } else {
        (VerdictAnswer::Yellow, format!("{failed} check(s) failed: a human decides."))
    };
    let reject_type = (answer == VerdictAnswer::Red).then(|| {
        if labels.iter().any(|l| l.info().default_reject_type == RejectType::Final) {
            RejectType::Final
        } else {
            RejectType::Retry
        }
    });
    Verdict { answer, reject_type, labels, four_eyes: screening_hit, reason, results }
}

fn kinds(kinds: &[CheckKind]) -> String {
    kinds
        .iter()
        .map(|k| serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{CheckResult, Finding};

    fn failed(check: CheckKind, label: RejectLabel) -> CheckResult {
        CheckResult::from_findings(
            check,
            vec![Finding { label, explanation: "x".into() }],
            String::new(),
            serde_json::Value::Null,
        )
    }

    #[test]
    fn levels_read_from_toml_with_defaults() {
        let levels = Levels::from_toml(
            "[levels.strict]\nmin_age = 21\nauto_reject = true\nauto_reject_labels = [\"EXPIRATION_DATE\"]\n\
             identity_documents = [\"PASSPORT\"]\n[levels.strict.image]\nmin_sharpness = 80.0\n",
        )
        .unwrap();
        let strict = levels.level("strict").unwrap();
        assert_eq!((strict.min_age, strict.image.min_sharpness, strict.image.min_short_side), (21, 80.0, 600));
        assert!(levels.level("lenient").is_err());
        let err = Levels::from_toml("[levels.x]\nmin_agee = 3\n").unwrap_err();
        assert!(err.to_string().contains("min_agee"), "{err}");
    }

    #[test]
    fn verdicts() {
        let pass = CheckResult::from_findings(CheckKind::Mrz, vec![], "ok".into(), serde_json::Value::Null);
        let level = Level::default();
        assert_eq!(verdict(vec![pass.clone()], &level).answer, VerdictAnswer::Green);
        let expired = failed(CheckKind::DocumentValidity, RejectLabel::EXPIRATION_DATE);
        assert_eq!(verdict(vec![pass.clone(), expired.clone()], &level).answer, VerdictAnswer::Yellow);
        let auto = Level { auto_reject: true, ..Level::default() };
        let red = verdict(vec![pass.clone(), expired.clone()], &auto);
        assert_eq!((red.answer, red.reject_type), (VerdictAnswer::Red, Some(RejectType::Retry)));
        let hit = failed(CheckKind::Screening, RejectLabel::SANCTIONS);
        let v = verdict(vec![expired, hit], &auto);
        assert_eq!((v.answer, v.four_eyes), (VerdictAnswer::Yellow, true));
        assert_eq!(v.labels, vec![RejectLabel::SANCTIONS, RejectLabel::EXPIRATION_DATE]);
    }
}
