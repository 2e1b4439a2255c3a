//! Staff roles and what each may do.

use serde::{Deserialize, Serialize};

use crate::{wire_enum, CaseKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Reviewer,
    VideoOperator,
    Supervisor,
    Admin,
}
wire_enum!(Role, "role", {
    Reviewer => "reviewer",
    VideoOperator => "video_operator",
    Supervisor => "supervisor",
    Admin => "admin",
});

impl Role {
    /// The case kinds this role takes from the queue. Admins manage users, not cases.
    pub fn claimable_kinds(self) -> &'static [CaseKind] {
        match self {
            Role::Reviewer => &[CaseKind::Review, CaseKind::FourEyes, CaseKind::QaSample],
            Role::VideoOperator => &[CaseKind::VideoIdent],
            Role::Supervisor => &[CaseKind::Review, CaseKind::FourEyes, CaseKind::QaSample],
            Role::Admin => &[],
        }
    }

    /// Whether the role works the case queue (lists, opens, claims and decides cases).
    pub fn works_cases(self) -> bool {
        !self.claimable_kinds().is_empty()
    }

    /// Whether the role manages the tenant's users and API keys.
    pub fn administers(self) -> bool {
        self == Role::Admin
    }

    /// Whether the role may read the audit trail.
    pub fn audits(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }
}
