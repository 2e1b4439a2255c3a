//! Cases: units of human work in the queue, and the moves between their states.

use serde::{Deserialize, Serialize};

use crate::wire_enum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    Review,
    VideoIdent,
    FourEyes,
    QaSample,
}
wire_enum!(CaseKind, "case kind", {
    Review => "review",
    VideoIdent => "video_ident",
    FourEyes => "four_eyes",
    QaSample => "qa_sample",
});

/// `queued → claimed → decided`, or set aside as `escalated` / `on_hold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    Queued,
    Claimed,
    Decided,
    Escalated,
    OnHold,
}
wire_enum!(CaseState, "case state", {
    Queued => "queued",
    Claimed => "claimed",
    Decided => "decided",
    Escalated => "escalated",
    OnHold => "on_hold",
});

/// Why a reviewer may not decide a case now. Checked in this order, so that the most
/// useful reason wins: a decided case says so even to someone whose lease ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecideRefusal {
    AlreadyDecided,
    LeaseNotHeld,
    LeaseExpired,
    VersionConflict,
}

/// What the queue knows about a case when someone asks to decide it.
pub struct LeaseView<'a> {
    pub state: CaseState,
    pub holder: Option<&'a str>,
    pub lease_until_ms: Option<i64>,
    pub version: i64,
}

impl LeaseView<'_> {
    /// May `user` decide the case at `now_ms`, having read it at `expected_version`?
    pub fn check_decide(&self, user: &str, now_ms: i64, expected_version: i64) -> Result<(), DecideRefusal> {
        if self.state == CaseState::Decided {
            return Err(DecideRefusal::AlreadyDecided);
        }
        if self.state != CaseState::Claimed || self.holder != Some(user) {
            return Err(DecideRefusal::LeaseNotHeld);
        }
        if self.lease_until_ms.is_none_or(|until| until <= now_ms) {
            return Err(DecideRefusal::LeaseExpired);
        }
        if self.version != expected_version {
            return Err(DecideRefusal::VersionConflict);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claimed(holder: &str, until: i64) -> LeaseView<'_> {
        LeaseView { state: CaseState::Claimed, holder: Some(holder), lease_until_ms: Some(until), version: 3 }
    }

    #[test]
    fn only_the_holder_of_a_live_lease_at_the_current_version_decides() {
        assert_eq!(claimed("ana", 100).check_decide("ana", 50, 3), Ok(()));
        assert_eq!(claimed("ana", 100).check_decide("bob", 50, 3), Err(DecideRefusal::LeaseNotHeld));
        assert_eq!(claimed("ana", 100).check_decide("ana", 100, 3), Err(DecideRefusal::LeaseExpired));
        assert_eq!(claimed("ana", 100).check_decide("ana", 50, 2), Err(DecideRefusal::VersionConflict));
        let queued = LeaseView { state: CaseState::Queued, holder: None, lease_until_ms: None, version: 1 };
        assert_eq!(queued.check_decide("ana", 50, 1), Err(DecideRefusal::LeaseNotHeld));
        let decided = LeaseView { state: CaseState::Decided, ..claimed("ana", 100) };
        assert_eq!(decided.check_decide("ana", 50, 3), Err(DecideRefusal::AlreadyDecided));
    }
}
