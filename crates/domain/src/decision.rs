//! Decisions: a reviewer's answer on a case, and the rules a decision must keep.

use serde::{Deserialize, Serialize};

use crate::{wire_enum, DomainError, RejectLabel};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum Answer {
    Green,
    Red,
}
wire_enum!(Answer, "answer", { Green => "GREEN", Red => "RED" });

/// FINAL: the applicant cannot try again. RETRY: the applicant may fix and resubmit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum RejectType {
    Final,
    Retry,
}
wire_enum!(RejectType, "reject type", { Final => "FINAL", Retry => "RETRY" });

/// What a reviewer submits to decide a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecisionInput {
    pub answer: Answer,
    #[serde(default)]
    pub reject_type: Option<RejectType>,
    #[serde(default)]
    pub labels: Vec<RejectLabel>,
    /// Shown to the applicant.
    #[serde(default)]
    pub moderation_comment: Option<String>,
    /// Shown to the client company only.
    #[serde(default)]
    pub client_comment: Option<String>,
    /// Staff only.
    #[serde(default)]
    pub internal_note: Option<String>,
    /// For a RETRY: which documents the applicant must upload again, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reupload: Vec<ReuploadRequest>,
    /// The case version the reviewer decided on (optimistic concurrency).
    pub version: i64,
}

/// One document the applicant is asked to upload again, with the reason they are shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReuploadRequest {
    pub document_id: String,
    pub reason: String,
}

/// Longest comment or note we keep, in characters.
pub const MAX_COMMENT_CHARS: usize = 4000;
/// Longest re-upload reason, in characters, and most re-upload requests in one decision.
pub const MAX_REUPLOAD_REASON_CHARS: usize = 500;
pub const MAX_REUPLOADS: usize = 20;

impl DecisionInput {
    /// An approval of the case at `version`, with no comments.
    pub fn green(version: i64) -> DecisionInput {
        DecisionInput {
            answer: Answer::Green,
            reject_type: None,
            labels: vec![],
            moderation_comment: None,
            client_comment: None,
            internal_note: None,
            reupload: vec![],
            version,
        }
    }

    /// A GREEN carries no rejection; a RED names its reject type and at least one label.
    pub fn validate(&self) -> Result<(), DomainError> {
        match self.answer {
            Answer::Green if self.reject_type.is_some() || !self.labels.is_empty() => {
                Err(DomainError::InvalidDecision("a GREEN decision takes no reject type and no rejection labels"))
            }
            Answer::Red if self.reject_type.is_none() => {
                Err(DomainError::InvalidDecision("a RED decision needs a reject type (FINAL or RETRY)"))
            }
            Answer::Red if self.labels.is_empty() => {
                Err(DomainError::InvalidDecision("a RED decision needs at least one rejection label"))
            }
            _ if !self.reupload.is_empty() && self.reject_type != Some(RejectType::Retry) => {
                Err(DomainError::InvalidDecision("documents can be asked for again only with a RED RETRY"))
            }
            _ if self.reupload.len() > MAX_REUPLOADS => {
                Err(DomainError::InvalidDecision("at most 20 documents can be asked for again"))
            }
            _ if self.reupload.iter().any(|r| {
                let n = r.reason.trim().chars().count();
                n == 0 || n > MAX_REUPLOAD_REASON_CHARS
            }) =>
            {
                Err(DomainError::InvalidDecision("each document asked for again needs a reason of 1 to 500 characters"))
            }
            _ => {
                let texts = [&self.moderation_comment, &self.client_comment, &self.internal_note];
                if texts.iter().any(|t| t.as_deref().is_some_and(|t| t.chars().count() > MAX_COMMENT_CHARS)) {
                    return Err(DomainError::InvalidDecision("comments and notes are limited to 4000 characters"));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(answer: Answer, reject_type: Option<RejectType>, labels: Vec<RejectLabel>) -> DecisionInput {
        DecisionInput {
            answer,
            reject_type,
            labels,
            moderation_comment: None,
            client_comment: None,
            internal_note: None,
            reupload: vec![],
            version: 1,
        }
    }

    #[test]
    fn red_needs_a_type_and_a_label_and_green_needs_neither() {
        assert!(input(Answer::Green, None, vec![]).validate().is_ok());
        assert!(input(Answer::Green, Some(RejectType::Final), vec![]).validate().is_err());
        assert!(input(Answer::Red, None, vec![RejectLabel::FORGERY]).validate().is_err());
        assert!(input(Answer::Red, Some(RejectType::Retry), vec![]).validate().is_err());
        assert!(input(Answer::Red, Some(RejectType::Retry), vec![RejectLabel::LOW_QUALITY]).validate().is_ok());
    }

    #[test]
    fn wire_form_is_camel_case_and_rejects_unknown_fields() {
        let d: DecisionInput = serde_json::from_str(
            r#"{"answer":"RED","rejectType":"RETRY","labels":["BAD_SELFIE"],"moderationComment":"Please retake","version":2}"#,
        )
        .unwrap();
        assert_eq!(d.labels, vec![RejectLabel::BAD_SELFIE]);
        assert!(serde_json::from_str::<DecisionInput>(r#"{"answer":"GREEN","version":1,"colour":"x"}"#).is_err());
    }
}

#[cfg(test)]
mod reupload_tests {
    use super::*;

    #[test]
    fn documents_are_asked_for_again_only_with_a_retry_and_a_reason() {
        let mut retry = DecisionInput::green(1);
        retry.answer = Answer::Red;
        retry.reject_type = Some(RejectType::Retry);
        retry.labels = vec![RejectLabel::LOW_QUALITY];
        retry.reupload = vec![ReuploadRequest { document_id: "d-1".into(), reason: "The photo is blurred.".into() }];
        assert!(retry.validate().is_ok());
        let mut final_ = retry.clone();
        final_.reject_type = Some(RejectType::Final);
        assert!(final_.validate().is_err());
        let mut blank = retry.clone();
        blank.reupload[0].reason = "  ".into();
        assert!(blank.validate().is_err());
        let mut many = retry.clone();
        many.reupload = vec![retry.reupload[0].clone(); MAX_REUPLOADS + 1];
        assert!(many.validate().is_err());
    }
}
