//! Applicants (the people being verified), their personal data and their documents.

use serde::{Deserialize, Serialize};

use crate::wire_enum;

/// Where an applicant stands: `init → pending → queued | on_hold → completed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum ApplicantStatus {
    Init,
    Pending,
    Queued,
    OnHold,
    Completed,
}
wire_enum!(ApplicantStatus, "applicant status", {
    Init => "init",
    Pending => "pending",
    Queued => "queued",
    OnHold => "onHold",
    Completed => "completed",
});

/// The applicant's own statement of who they are. Personal data: kept as one value so that
/// it is stored, encrypted and erased as one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicantInfo {
    pub first_name: String,
    pub last_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// ISO 8601 date, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dob: Option<String>,
    /// ISO 3166-1 alpha-3, as in the MRZ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl ApplicantInfo {
    /// The name as a reviewer reads it.
    pub fn full_name(&self) -> String {
        match &self.middle_name {
            Some(m) if !m.is_empty() => format!("{} {} {}", self.first_name, m, self.last_name),
            _ => format!("{} {}", self.first_name, self.last_name),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocumentType {
    Passport,
    IdCard,
    Drivers,
    ResidencePermit,
    Selfie,
    UtilityBill,
    Other,
}
wire_enum!(DocumentType, "document type", {
    Passport => "PASSPORT",
    IdCard => "ID_CARD",
    Drivers => "DRIVERS",
    ResidencePermit => "RESIDENCE_PERMIT",
    Selfie => "SELFIE",
    UtilityBill => "UTILITY_BILL",
    Other => "OTHER",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocumentSide {
    Front,
    Back,
}
wire_enum!(DocumentSide, "document side", { Front => "FRONT", Back => "BACK" });
