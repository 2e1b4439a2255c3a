//! Video identification as the regulators describe it (BaFin 3/2017, ETSI TS 119 461): the
//! guided interview's steps in their enforced order, the security features an operator checks
//! while the applicant tilts the document, screenshot tags, and the reasons to abort a call.

use serde::{Deserialize, Serialize};

use crate::{wire_enum, DocumentType, RejectLabel};

/// What a security feature is, as the operator sees it in a live picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SecurityFeature {
    Hologram,
    Kinegram,
    OpticallyVariableInk,
    ChangeableLaserImage,
    MultipleLaserImage,
    IridescentStripe,
    Microprint,
    Guilloche,
    TactileRelief,
    GhostImage,
    Watermark,
}
wire_enum!(SecurityFeature, "security feature", {
    Hologram => "hologram",
    Kinegram => "kinegram",
    OpticallyVariableInk => "optically_variable_ink",
    ChangeableLaserImage => "changeable_laser_image",
    MultipleLaserImage => "multiple_laser_image",
    IridescentStripe => "iridescent_stripe",
    Microprint => "microprint",
    Guilloche => "guilloche",
    TactileRelief => "tactile_relief",
    GhostImage => "ghost_image",
    Watermark => "watermark",
});

impl SecurityFeature {
    /// Optically variable features change when the document tilts: a photocopy or a screen
    /// cannot imitate them, which is why the rules ask for at least two of them.
    pub fn optically_variable(self) -> bool {
        use SecurityFeature::*;
        matches!(
            self,
            Hologram | Kinegram | OpticallyVariableInk | ChangeableLaserImage | MultipleLaserImage | IridescentStripe
        )
    }

    /// What the operator asks the applicant to do and looks for.
    pub fn instruction(self) -> &'static str {
        use SecurityFeature::*;
        match self {
            Hologram => "Tilt the document slowly: the hologram's picture must change colour and shape.",
            Kinegram => "Tilt the document: the kinegram's figures must move and switch between images.",
            OpticallyVariableInk => "Tilt the document: the optically variable ink must shift colour.",
            ChangeableLaserImage => "Tilt the document sideways: the laser image must switch between two pictures.",
            MultipleLaserImage => "Tilt the document: the small photo must show different images at different angles.",
            IridescentStripe => "Tilt the document: the iridescent stripe must shimmer and appear and disappear.",
            Microprint => {
                "Hold the document close and still: the microprint line must be sharp text, not a dotted line."
            }
            Guilloche => "Hold the document close: the fine guilloche lines must run unbroken.",
            TactileRelief => "Tilt the document against the light: the raised relief must cast shadows.",
            GhostImage => "Hold the document still: the ghost image must match the main photo.",
            Watermark => "Hold the document against the light: the watermark must appear.",
        }
    }

    /// The features a document type carries, as the public registers (PRADO) describe the
    /// common specimens.
    pub fn catalogue(document_type: DocumentType) -> &'static [SecurityFeature] {
        use SecurityFeature::*;
        match document_type {
            DocumentType::Passport => &[
                Hologram,
                Kinegram,
                OpticallyVariableInk,
                MultipleLaserImage,
                Microprint,
                Guilloche,
                GhostImage,
                Watermark,
            ],
            DocumentType::IdCard | DocumentType::ResidencePermit => &[
                Hologram,
                Kinegram,
                OpticallyVariableInk,
                ChangeableLaserImage,
                IridescentStripe,
                Microprint,
                Guilloche,
                TactileRelief,
                GhostImage,
            ],
            _ => &[Hologram, OpticallyVariableInk, IridescentStripe, Microprint, Guilloche, TactileRelief],
        }
    }

    /// Chooses `count` (at least three) distinct features of the document type, at least two of
    /// them optically variable. `pick(n)` returns a random index below `n`: the caller brings
    /// the randomness, so the rule itself stays testable.
    pub fn choose(
        document_type: DocumentType,
        count: usize,
        mut pick: impl FnMut(usize) -> usize,
    ) -> Vec<SecurityFeature> {
        let count = count.max(MIN_SECURITY_FEATURES);
        let mut variable: Vec<_> =
            Self::catalogue(document_type).iter().copied().filter(|f| f.optically_variable()).collect();
        let mut chosen = Vec::with_capacity(count);
        for _ in 0..MIN_OPTICALLY_VARIABLE {
            chosen.push(variable.swap_remove(pick(variable.len())));
        }
        let mut rest: Vec<_> = Self::catalogue(document_type).iter().copied().filter(|f| !chosen.contains(f)).collect();
        while chosen.len() < count && !rest.is_empty() {
            chosen.push(rest.swap_remove(pick(rest.len())));
        }
        // The order is random too, so the optically variable ones are not always first.
        for i in (1..chosen.len()).rev() {
            chosen.swap(i, pick(i + 1));
        }
        chosen
    }
}

pub const MIN_SECURITY_FEATURES: usize = 3;
pub const MIN_OPTICALLY_VARIABLE: usize = 2;

/// What a screenshot shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScreenshotTag {
    Face,
    IdFront,
    IdBack,
    /// The n-th (from 1) security feature chosen for the session.
    SecurityFeature(u8),
}

impl ScreenshotTag {
    pub fn as_string(self) -> String {
        match self {
            ScreenshotTag::Face => "face".into(),
            ScreenshotTag::IdFront => "id_front".into(),
            ScreenshotTag::IdBack => "id_back".into(),
            ScreenshotTag::SecurityFeature(n) => format!("security_feature_{n}"),
        }
    }
}

impl std::fmt::Display for ScreenshotTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_string())
    }
}

impl std::str::FromStr for ScreenshotTag {
    type Err = crate::DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "face" => Ok(ScreenshotTag::Face),
            "id_front" => Ok(ScreenshotTag::IdFront),
            "id_back" => Ok(ScreenshotTag::IdBack),
            _ => s
                .strip_prefix("security_feature_")
                .and_then(|n| n.parse::<u8>().ok())
                .filter(|n| *n >= 1)
                .map(ScreenshotTag::SecurityFeature)
                .ok_or_else(|| crate::DomainError::UnknownValue { what: "screenshot tag", value: s.to_owned() }),
        }
    }
}

/// Why an operator ends a call early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AbortReason {
    BadLight,
    BadImage,
    BadSound,
    ApplicantNotAlone,
    ConnectionLost,
    SuspectedFraud,
    ApplicantLeft,
}
wire_enum!(AbortReason, "abort reason", {
    BadLight => "bad_light",
    BadImage => "bad_image",
    BadSound => "bad_sound",
    ApplicantNotAlone => "applicant_not_alone",
    ConnectionLost => "connection_lost",
    SuspectedFraud => "suspected_fraud",
    ApplicantLeft => "applicant_left",
});

impl AbortReason {
    /// The rejection label the aborted case is decided with.
    pub fn label(self) -> RejectLabel {
        match self {
            AbortReason::BadLight | AbortReason::BadSound => RejectLabel::UNSUITABLE_ENV,
            AbortReason::BadImage => RejectLabel::UNSATISFACTORY_PHOTOS,
            AbortReason::ApplicantNotAlone => RejectLabel::THIRD_PARTY_INVOLVED,
            AbortReason::ConnectionLost => RejectLabel::CONNECTION_INTERRUPTED,
            AbortReason::SuspectedFraud => RejectLabel::FRAUDULENT_PATTERNS,
            AbortReason::ApplicantLeft => RejectLabel::APPLICANT_INTERRUPTED_INTERVIEW,
        }
    }

    /// Suspected fraud is final; every other reason lets the applicant try again.
    pub fn retry_allowed(self) -> bool {
        self != AbortReason::SuspectedFraud
    }
}

/// One step of the guided interview, in the order the software enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum InterviewStep {
    Consent,
    IdFront,
    IdBack,
    /// Confirm the n-th (from 1) chosen security feature with a screenshot while it is tilted.
    SecurityFeature {
        n: u8,
    },
    Face,
    /// The applicant reads out the shown characters; the operator confirms they match.
    ReadOut,
    /// The applicant enters the one-time TAN on their page.
    Tan,
}

impl InterviewStep {
    /// The screenshot this step takes, if it is a capture step.
    pub fn screenshot(self) -> Option<ScreenshotTag> {
        match self {
            InterviewStep::IdFront => Some(ScreenshotTag::IdFront),
            InterviewStep::IdBack => Some(ScreenshotTag::IdBack),
            InterviewStep::SecurityFeature { n } => Some(ScreenshotTag::SecurityFeature(n)),
            InterviewStep::Face => Some(ScreenshotTag::Face),
            _ => None,
        }
    }
}

/// Why a request does not fit the interview's state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterviewRefusal {
    #[error("the applicant has not consented to the recording: nothing may be captured yet")]
    NoConsent,
    #[error("the interview is at step {expected}; {attempted} comes later or was done")]
    OutOfOrder { expected: String, attempted: String },
    #[error("the interview is not finished: {0} is still open")]
    Unfinished(String),
    #[error("the interview is over")]
    Over,
}

/// The interview's progress: the session's chosen features and the steps done. Kept as JSON
/// with the session; every change goes through `complete`, which enforces the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Interview {
    pub document_type: DocumentType,
    pub features: Vec<SecurityFeature>,
    /// What the applicant reads out: digits of the document number or a random string.
    pub read_out: String,
    /// How many steps are done, in `steps()` order.
    pub done: usize,
}

impl Interview {
    pub fn new(document_type: DocumentType, features: Vec<SecurityFeature>, read_out: String) -> Interview {
        Interview { document_type, features, read_out, done: 0 }
    }

    /// Every step in order.
    pub fn steps(&self) -> Vec<InterviewStep> {
        let mut steps = vec![InterviewStep::Consent, InterviewStep::IdFront, InterviewStep::IdBack];
        steps.extend((1..=self.features.len() as u8).map(|n| InterviewStep::SecurityFeature { n }));
        steps.extend([InterviewStep::Face, InterviewStep::ReadOut, InterviewStep::Tan]);
        steps
    }

    /// The step that must happen next; `None` when the interview is complete.
    pub fn next(&self) -> Option<InterviewStep> {
        self.steps().get(self.done).copied()
    }

    pub fn consented(&self) -> bool {
        self.done > 0
    }

    pub fn complete_all(&self) -> bool {
        self.next().is_none()
    }

    /// Marks `step` done if it is the next one.
    pub fn complete(&mut self, step: InterviewStep) -> Result<(), InterviewRefusal> {
        match self.next() {
            None => Err(InterviewRefusal::Over),
            Some(next) if next == step => {
                self.done += 1;
                Ok(())
            }
            Some(_) if !self.consented() => Err(InterviewRefusal::NoConsent),
            Some(next) => Err(InterviewRefusal::OutOfOrder { expected: describe(next), attempted: describe(step) }),
        }
    }

    /// The step a screenshot with `tag` completes, if it is the next one.
    pub fn capture(&mut self, tag: ScreenshotTag) -> Result<InterviewStep, InterviewRefusal> {
        if !self.consented() {
            return Err(InterviewRefusal::NoConsent);
        }
        let step = match tag {
            ScreenshotTag::IdFront => InterviewStep::IdFront,
            ScreenshotTag::IdBack => InterviewStep::IdBack,
            ScreenshotTag::Face => InterviewStep::Face,
            ScreenshotTag::SecurityFeature(n) => InterviewStep::SecurityFeature { n },
        };
        self.complete(step)?;
        Ok(step)
    }

    /// A positive decision needs every step; aborting needs none.
    pub fn ready_for_decision(&self) -> Result<(), InterviewRefusal> {
        match self.next() {
            None => Ok(()),
            Some(step) => Err(InterviewRefusal::Unfinished(describe(step))),
        }
    }
}

impl std::fmt::Display for InterviewStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&describe(*self))
    }
}

fn describe(step: InterviewStep) -> String {
    match step {
        InterviewStep::Consent => "consent".into(),
        InterviewStep::IdFront => "the ID front screenshot".into(),
        InterviewStep::IdBack => "the ID back screenshot".into(),
        InterviewStep::SecurityFeature { n } => format!("security feature {n}"),
        InterviewStep::Face => "the face screenshot".into(),
        InterviewStep::ReadOut => "the read-out check".into(),
        InterviewStep::Tan => "the TAN".into(),
    }
}

/// Where a video identification session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// The link is sent; the applicant has not consented yet.
    Invited,
    /// Consented and in the waiting room.
    Waiting,
    /// An operator took the case.
    InCall,
    Completed,
    Aborted,
}
wire_enum!(SessionState, "video session state", {
    Invited => "invited",
    Waiting => "waiting",
    InCall => "in_call",
    Completed => "completed",
    Aborted => "aborted",
});

impl SessionState {
    pub fn ended(self) -> bool {
        matches!(self, SessionState::Completed | SessionState::Aborted)
    }
}

/// The text version of the recording consent the applicant page shows; stored with each consent.
pub const CONSENT_TEXT_VERSION: &str = "2026-11-video-consent-v1";

#[cfg(test)]
mod tests {
    use super::*;

    fn counter() -> impl FnMut(usize) -> usize {
        let mut state = 7usize;
        move |n| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % n
        }
    }

    #[test]
    fn at_least_three_features_two_optically_variable() {
        for ty in [DocumentType::Passport, DocumentType::IdCard, DocumentType::Drivers] {
            let mut pick = counter();
            for _ in 0..200 {
                let f = SecurityFeature::choose(ty, 3, &mut pick);
                assert_eq!(f.len(), 3);
                assert!(f.iter().filter(|f| f.optically_variable()).count() >= 2, "{f:?}");
                let mut d = f.clone();
                d.dedup();
                assert_eq!(d.len(), 3);
                assert!(f.iter().all(|x| SecurityFeature::catalogue(ty).contains(x)));
            }
        }
    }

    #[test]
    fn steps_are_enforced_in_order() {
        let mut i = Interview::new(
            DocumentType::IdCard,
            vec![SecurityFeature::Hologram, SecurityFeature::Kinegram, SecurityFeature::Microprint],
            "4711".into(),
        );
        assert_eq!(i.capture(ScreenshotTag::IdFront), Err(InterviewRefusal::NoConsent));
        i.complete(InterviewStep::Consent).unwrap();
        assert!(matches!(i.capture(ScreenshotTag::Face), Err(InterviewRefusal::OutOfOrder { .. })));
        i.capture(ScreenshotTag::IdFront).unwrap();
        i.capture(ScreenshotTag::IdBack).unwrap();
        assert!(i.ready_for_decision().is_err());
        for n in 1..=3 {
            i.capture(ScreenshotTag::SecurityFeature(n)).unwrap();
        }
        i.capture(ScreenshotTag::Face).unwrap();
        assert_eq!(i.next(), Some(InterviewStep::ReadOut));
        i.complete(InterviewStep::ReadOut).unwrap();
        assert_eq!(i.ready_for_decision(), Err(InterviewRefusal::Unfinished("the TAN".into())));
        i.complete(InterviewStep::Tan).unwrap();
        i.ready_for_decision().unwrap();
        assert_eq!(i.complete(InterviewStep::Tan), Err(InterviewRefusal::Over));
    }

    #[test]
    fn tags_round_trip() {
        for t in [ScreenshotTag::Face, ScreenshotTag::IdBack, ScreenshotTag::SecurityFeature(3)] {
            assert_eq!(t.as_string().parse::<ScreenshotTag>().unwrap(), t);
        }
        assert!("security_feature_0".parse::<ScreenshotTag>().is_err());
    }
}
