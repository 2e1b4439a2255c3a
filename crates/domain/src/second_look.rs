//! Second looks at a decision: four-eyes (a second person confirms before the decision counts)
//! and QA sampling (a second person re-decides blind after it counted). The tenant's rules
//! say which decisions get one; the rules for agreement live here too.

use serde::{Deserialize, Serialize};

use crate::{wire_enum, Answer, RejectLabel, RejectType};

/// Where a decision stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    /// It counts: the applicant has its answer.
    #[default]
    Final,
    /// Made, waiting for a second reviewer (four-eyes); the applicant has no answer yet.
    Staged,
    /// Staged, then confirmed by a second reviewer or a supervisor: it counts.
    Confirmed,
    /// Staged, then a supervisor decided otherwise.
    Overruled,
    /// Staged, then the evidence changed: it was made on evidence that no longer exists.
    Voided,
}
wire_enum!(DecisionStatus, "decision status", {
    Final => "final",
    Staged => "staged",
    Confirmed => "confirmed",
    Overruled => "overruled",
    Voided => "voided",
});

/// A tenant's rules for second looks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewPolicy {
    /// A decision giving any of these labels needs four eyes.
    pub four_eyes_labels: Vec<RejectLabel>,
    /// The share of all other review decisions that needs four eyes anyway, in percent.
    pub four_eyes_percent: u8,
    /// The share of decisions that counted which a second reviewer re-decides blind, in percent.
    pub qa_sample_percent: u8,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        ReviewPolicy {
            four_eyes_labels: vec![RejectLabel::SANCTIONS, RejectLabel::PEP, RejectLabel::FORGERY],
            four_eyes_percent: 0,
            qa_sample_percent: 0,
        }
    }
}

/// Why a decision needs a second reviewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FourEyesReason {
    /// The automated checks found a watchlist hit on the case.
    ScreeningHit,
    /// The decision gives a label the tenant names.
    Label(RejectLabel),
    /// Drawn in the tenant's random share.
    RandomShare,
}

impl FourEyesReason {
    /// How the audit trail and the checker's screen say it.
    pub fn describe(&self) -> String {
        match self {
            FourEyesReason::ScreeningHit => "the case has a watchlist hit".into(),
            FourEyesReason::Label(l) => format!("the decision gives {l}"),
            FourEyesReason::RandomShare => "drawn in the tenant's random share".into(),
        }
    }
}

impl ReviewPolicy {
    /// Whether a review decision with `labels` on a case (`screening_hit` when the checks found
    /// one) needs four eyes. `roll` is a uniform draw in 0..100 for the random share.
    pub fn four_eyes(&self, screening_hit: bool, labels: &[RejectLabel], roll: u8) -> Option<FourEyesReason> {
        if screening_hit {
            return Some(FourEyesReason::ScreeningHit);
        }
        if let Some(l) = labels.iter().find(|l| self.four_eyes_labels.contains(l)) {
            return Some(FourEyesReason::Label(*l));
        }
        (roll < self.four_eyes_percent).then_some(FourEyesReason::RandomShare)
    }

    /// Whether a decision that counted goes to QA; `roll` as for `four_eyes`.
    pub fn qa_sample(&self, roll: u8) -> bool {
        roll < self.qa_sample_percent
    }

    /// Percentages above 100 make no sense; the policy is refused rather than clamped.
    pub fn validate(&self) -> Result<(), crate::DomainError> {
        if self.four_eyes_percent > 100 || self.qa_sample_percent > 100 {
            return Err(crate::DomainError::InvalidPolicy("shares are percentages from 0 to 100"));
        }
        Ok(())
    }
}

/// Two decisions agree when they give the same answer and, for a rejection, the same reject
/// type: the applicant sees the same outcome. Labels may differ (they are compared per label in
/// the QA figures).
pub fn agrees(a: (Answer, Option<RejectType>), b: (Answer, Option<RejectType>)) -> bool {
    a.0 == b.0 && (a.0 == Answer::Green || a.1 == b.1)
}

/// Per label, whether two decisions agree on it: every label either gave, true when both did.
pub fn label_agreement(a: &[RejectLabel], b: &[RejectLabel]) -> Vec<(RejectLabel, bool)> {
    let mut out: Vec<(RejectLabel, bool)> = Vec::new();
    for l in a.iter().chain(b) {
        if !out.iter().any(|(seen, _)| seen == l) {
            out.push((*l, a.contains(l) && b.contains(l)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_screening_hit_or_a_named_label_needs_four_eyes_and_the_share_draws_the_rest() {
        let policy = ReviewPolicy { four_eyes_percent: 10, ..ReviewPolicy::default() };
        assert_eq!(policy.four_eyes(true, &[], 99), Some(FourEyesReason::ScreeningHit));
        assert_eq!(
            policy.four_eyes(false, &[RejectLabel::LOW_QUALITY, RejectLabel::PEP], 99),
            Some(FourEyesReason::Label(RejectLabel::PEP))
        );
        assert_eq!(policy.four_eyes(false, &[RejectLabel::LOW_QUALITY], 99), None);
        assert_eq!(policy.four_eyes(false, &[], 9), Some(FourEyesReason::RandomShare));
        assert_eq!(policy.four_eyes(false, &[], 10), None);
        let none = ReviewPolicy { four_eyes_labels: vec![], ..ReviewPolicy::default() };
        assert_eq!(none.four_eyes(false, &[RejectLabel::FORGERY], 0), None);
    }

    #[test]
    fn agreement_is_the_same_outcome_for_the_applicant() {
        let red = |t| (Answer::Red, Some(t));
        assert!(agrees((Answer::Green, None), (Answer::Green, None)));
        assert!(agrees(red(RejectType::Final), red(RejectType::Final)));
        assert!(!agrees(red(RejectType::Final), red(RejectType::Retry)));
        assert!(!agrees((Answer::Green, None), red(RejectType::Retry)));
    }

    #[test]
    fn labels_agree_one_by_one() {
        use RejectLabel as L;
        let got = label_agreement(&[L::FORGERY, L::LOW_QUALITY], &[L::LOW_QUALITY, L::SPAM]);
        assert_eq!(got, vec![(L::FORGERY, false), (L::LOW_QUALITY, true), (L::SPAM, false)]);
        assert!(label_agreement(&[], &[]).is_empty());
    }

    #[test]
    fn shares_above_a_hundred_percent_are_refused() {
        assert!(ReviewPolicy { qa_sample_percent: 101, ..ReviewPolicy::default() }.validate().is_err());
        assert!(ReviewPolicy { four_eyes_percent: 100, ..ReviewPolicy::default() }.validate().is_ok());
    }
}
