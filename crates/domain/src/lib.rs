//! IdentDesk's domain: the words of identity verification as types, and the rules that need
//! no I/O. Tenants and roles, applicants and their documents, cases in the review queue,
//! decisions with rejection labels, the hash-chained audit trail, and the video interview.

pub mod applicant;
pub mod audit;
pub mod case;
pub mod decision;
mod error;
pub mod labels;
pub mod role;
pub mod second_look;
pub mod tenant;
pub mod video;

pub use applicant::{ApplicantInfo, ApplicantStatus, DocumentSide, DocumentType};
pub use audit::{AuditEvent, ChainBreak, ChainVerifier, GENESIS_HASH};
pub use case::{CaseKind, CaseState, DecideRefusal, LeaseView};
pub use decision::{Answer, DecisionInput, RejectType, ReuploadRequest};
pub use error::DomainError;
pub use labels::{LabelGroup, LabelInfo, RejectLabel};
pub use role::Role;
pub use second_look::{agrees, label_agreement, DecisionStatus, FourEyesReason, ReviewPolicy};
pub use tenant::{ApiPermission, Environment, Region};
pub use video::{AbortReason, Interview, InterviewRefusal, InterviewStep, ScreenshotTag, SecurityFeature};

/// Implements `as_str`, `Display` and `FromStr` for a wire enum from one list of names,
/// so the database, the API and the CLI spell every value the same way.
macro_rules! wire_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $s:literal),* $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $s),* }
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $ty {
            type Err = $crate::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok($ty::$variant),)*
                    _ => Err($crate::DomainError::UnknownValue { what: $what, value: s.to_owned() }),
                }
            }
        }
    };
}
pub(crate) use wire_enum;
