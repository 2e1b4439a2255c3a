//! The rejection label catalogue: the industry's vocabulary of reasons to reject, each with
//! the theme it belongs to, the reject type it usually implies, and a line a reviewer reads.
//! A label does not fix the reject type of a decision: the reviewer does.

use serde::{Deserialize, Serialize};

use crate::decision::RejectType;

/// The theme a rejection label belongs to; reviewers pick labels grouped by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum LabelGroup {
    Document,
    Selfie,
    Data,
    Compliance,
    Video,
    Other,
}

/// One entry of the catalogue as the API and the UI show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LabelInfo {
    pub label: RejectLabel,
    pub group: LabelGroup,
    pub default_reject_type: RejectType,
    pub description: &'static str,
}

// One table says everything about a label, so the enum, its wire name and its
// catalogue entry cannot drift apart.
macro_rules! catalogue {
    ($($name:ident => $group:ident, $rt:ident, $desc:literal;)*) => {
        /// A rejection label (wire form: `SCREAMING_SNAKE_CASE`, e.g. `SELFIE_MISMATCH`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        pub enum RejectLabel { $($name,)* }

        impl RejectLabel {
            /// Every label, in catalogue order.
            pub const ALL: &'static [RejectLabel] = &[$(RejectLabel::$name,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(RejectLabel::$name => stringify!($name),)* }
            }

            pub fn info(self) -> LabelInfo {
                match self {
                    $(RejectLabel::$name => LabelInfo {
                        label: self,
                        group: LabelGroup::$group,
                        default_reject_type: RejectType::$rt,
                        description: $desc,
                    },)*
                }
            }
        }
    };
}

catalogue! {
    // Final rejections: fraud, compliance and profile problems.
    FORGERY => Document, Final, "The document shows signs of forgery or alteration.";
    DOCUMENT_TEMPLATE => Document, Final, "The document is a template or specimen found on the internet.";
    SELFIE_MISMATCH => Selfie, Final, "The face in the selfie does not match the document photo.";
    FRAUDULENT_LIVENESS => Selfie, Final, "The liveness check was spoofed (photo, screen, mask or deepfake).";
    DUPLICATE => Data, Final, "The applicant already exists under another profile.";
    SANCTIONS => Compliance, Final, "The applicant matches a sanctions list entry.";
    PEP => Compliance, Final, "The applicant is a politically exposed person the client does not accept.";
    ADVERSE_MEDIA => Compliance, Final, "Adverse media about the applicant was found.";
    CRIMINAL => Compliance, Final, "The applicant is involved in criminal activity.";
    BLACKLIST => Compliance, Final, "The applicant is on the client's own blocklist.";
    INCONSISTENT_PROFILE => Data, Final, "Data or documents belong to different people.";
    WRONG_USER_REGION => Compliance, Final, "The applicant is from a country or region the client does not serve.";
    AGE_REQUIREMENT_MISMATCH => Data, Final, "The applicant does not meet the age requirement.";
    THIRD_PARTY_INVOLVED => Video, Final, "A third party took part in or directed the verification.";
    SUSPICIOUS_PATTERNS => Other, Final, "The verification shows suspicious patterns.";
    FRAUDULENT_PATTERNS => Other, Final, "The verification shows known fraud patterns.";
    NOT_DOCUMENT => Document, Final, "The upload is not an identity document.";
    SPAM => Other, Final, "The applicant sent irrelevant or repeated uploads.";
    UNSUPPORTED_LANGUAGE => Document, Final, "The document's language is not supported.";
    REGULATIONS_VIOLATIONS => Compliance, Final, "Onboarding the applicant would violate regulations.";
    COMPROMISED_PERSONS => Compliance, Final, "The applicant's identity is known to be compromised.";
    DB_DATA_MISMATCH => Data, Final, "Data does not match the authoritative database.";
    DB_DATA_NOT_FOUND => Data, Final, "The applicant's data was not found in the authoritative database.";
    CHECK_UNAVAILABLE => Other, Retry, "A required check could not be performed; try again later.";
    EXTERNAL_DECISION_REJECTION => Other, Final, "Rejected by a decision outside IdentDesk.";
    // Resubmission: the applicant can fix these and try again.
    ADDITIONAL_DOCUMENT_REQUIRED => Document, Retry, "Another document is needed to complete the check.";
    APPLICANT_INTERRUPTED_INTERVIEW => Video, Retry, "The applicant left or interrupted the video interview.";
    BACK_SIDE_MISSING => Document, Retry, "The back side of the document is missing.";
    FRONT_SIDE_MISSING => Document, Retry, "The front side of the document is missing.";
    BAD_AVATAR => Selfie, Retry, "The profile photo is unsuitable.";
    BAD_FACE_MATCHING => Selfie, Retry, "The face could not be compared with the document photo.";
    BAD_PROOF_OF_ADDRESS => Document, Retry, "The proof of address is unsuitable or too old.";
    BAD_PROOF_OF_IDENTITY => Document, Retry, "The proof of identity is unsuitable.";
    BAD_PROOF_OF_PAYMENT => Document, Retry, "The proof of payment is unsuitable.";
    BAD_SELFIE => Selfie, Retry, "The selfie is unsuitable (face hidden, several faces, too far).";
    BAD_VIDEO_SELFIE => Selfie, Retry, "The video selfie is unsuitable.";
    BLACK_AND_WHITE => Document, Retry, "The document image is a black-and-white copy.";
    CONNECTION_INTERRUPTED => Video, Retry, "The video call was interrupted by the connection.";
    DIGITAL_DOCUMENT => Document, Retry, "A digital version was uploaded where a photo of the original is needed.";
    DOCUMENT_DAMAGED => Document, Retry, "The document is damaged.";
    DOCUMENT_DEPRIVED => Document, Retry, "The document has been invalidated or withdrawn.";
    DOCUMENT_MISSING => Document, Retry, "A required document is missing.";
    DOCUMENT_PAGE_MISSING => Document, Retry, "Some pages of the document are missing.";
    EXPIRATION_DATE => Document, Retry, "The document has expired or expires too soon.";
    GRAPHIC_EDITOR => Document, Retry, "The image was edited in a graphics editor.";
    ID_INVALID => Document, Retry, "The document type or issuing country is not accepted.";
    INCOMPATIBLE_LANGUAGE => Document, Retry, "The document needs a certified translation.";
    INCOMPLETE_DOCUMENT => Document, Retry, "Part of the document is cut off or covered.";
    INCORRECT_SOCIAL_NUMBER => Data, Retry, "The social or tax number is incorrect.";
    LOW_QUALITY => Document, Retry, "The image quality is too low to read the document.";
    NOT_ALL_CHECKS_COMPLETED => Other, Retry, "Not all verification steps were completed.";
    PROBLEMATIC_APPLICANT_DATA => Data, Retry, "The applicant's data is incomplete or wrong.";
    REQUESTED_DATA_MISMATCH => Data, Retry, "The document's data differs from the data the applicant gave.";
    SCREENSHOTS => Document, Retry, "A screenshot was uploaded instead of a photo of the document.";
    SELFIE_WITH_PAPER => Selfie, Retry, "A selfie with a handwritten note is needed.";
    UNFILLED_ID => Document, Retry, "The document lacks required entries (e.g. a signature).";
    UNSATISFACTORY_PHOTOS => Document, Retry, "The photos are unsuitable (glare, blur, too dark).";
    UNSUITABLE_ENV => Video, Retry, "The surroundings are unsuitable for the video interview.";
    WRONG_ADDRESS => Data, Retry, "The address on the proof of address differs from the profile.";
    ADDITIONAL_DATA_REQUIRED => Data, Retry, "More information is needed from the applicant.";
}

impl std::fmt::Display for RejectLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RejectLabel {
    type Err = crate::DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RejectLabel::ALL
            .iter()
            .copied()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| crate::DomainError::UnknownLabel(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_round_trips_through_its_wire_name() {
        for &label in RejectLabel::ALL {
            let json = serde_json::to_string(&label).unwrap();
            assert_eq!(json, format!("\"{}\"", label.as_str()));
            assert_eq!(label.as_str().parse::<RejectLabel>().unwrap(), label);
            assert!(!label.info().description.is_empty());
        }
    }

    #[test]
    fn the_catalogue_holds_the_industry_vocabulary() {
        assert_eq!(RejectLabel::ALL.len(), 60);
        assert_eq!(RejectLabel::SANCTIONS.info().group, LabelGroup::Compliance);
        assert_eq!(RejectLabel::BACK_SIDE_MISSING.info().default_reject_type, RejectType::Retry);
        assert_eq!(RejectLabel::FORGERY.info().default_reject_type, RejectType::Final);
        assert!("NOT_A_LABEL".parse::<RejectLabel>().is_err());
    }
}
