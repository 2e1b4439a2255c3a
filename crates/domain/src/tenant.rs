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
