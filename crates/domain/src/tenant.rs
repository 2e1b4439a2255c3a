//! Tenants are the client companies; each lives in one data-residency region.

use serde::{Deserialize, Serialize};

use crate::wire_enum;

/// Where a tenant's data is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Region {
    Eu,
    Us,
    Apac,
}
wire_enum!(Region, "region", { Eu => "eu", Us => "us", Apac => "apac" });

/// The environment an API key belongs to; sandbox data never mixes with production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Sandbox,
    Production,
}
wire_enum!(Environment, "environment", { Sandbox => "sandbox", Production => "production" });

/// What an API key may do. A key holds a set of these; a key created without naming any holds
/// them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ApiPermission {
    /// Read applicants and their check results.
    #[serde(rename = "applicants:read")]
    ApplicantsRead,
    /// Create applicants, upload documents, submit, report the relationship's end.
    #[serde(rename = "applicants:write")]
    ApplicantsWrite,
    /// Invite applicants to a video identification.
    #[serde(rename = "video:invite")]
    VideoInvite,
    /// Erase applicants.
    #[serde(rename = "applicants:erase")]
    ApplicantsErase,
    /// Export an applicant's data (portability).
    #[serde(rename = "applicants:export")]
    ApplicantsExport,
}
wire_enum!(ApiPermission, "API key permission", {
    ApplicantsRead => "applicants:read",
    ApplicantsWrite => "applicants:write",
    VideoInvite => "video:invite",
    ApplicantsErase => "applicants:erase",
    ApplicantsExport => "applicants:export",
});
