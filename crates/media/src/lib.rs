//! IdentDesk's media core: the operator side of a video identification, with no window. The
//! WebRTC peer (`call`), VP8 decoding (`vp8`), pictures (`frame`), exact screenshots
//! (`screenshot`), the operator's audio (`audio`; the microphone and loudspeaker in `os_audio`), call quality (`quality`) and the recording
//! (`recording`, and `webm` for playback), the operator's client for the server (`session`), the call as the desktop's
//! call screen drives it (`call_desk`), and a synthetic camera for tests (`fake_camera`). The
//! desktop app shows what this produces; tests drive it directly.

pub mod audio;
pub mod call;
pub mod call_desk;
pub mod fake_camera;
pub mod frame;
mod local_track;
pub mod os_audio;
pub mod quality;
pub mod recording;
pub mod screenshot;
pub mod session;
pub mod synthetic_applicant;
pub mod vp8;
pub mod vp8_frames;
pub mod webm;

pub use call::{CallConfig, CallEvent, IceServer, OperatorCall};
pub use frame::{Frame, Rgb, I420};
pub use screenshot::Screenshot;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{0}")]
    InvalidSdp(String),
    #[error("WebRTC: {0}")]
    WebRtc(String),
    #[error("{0}")]
    Codec(String),
    #[error("media file: {0}")]
    Io(#[from] std::io::Error),
    #[error("server answered {status} {code}: {message}")]
    Server { status: u16, code: String, message: String },
    #[error("{0}")]
    Timeout(String),
    /// The microphone or loudspeaker could not be used: the call goes on without it.
    #[error("{0}")]
    AudioDevice(String),
    #[error("sign in first: the call runs under the signed-in operator")]
    SignedOut,
    #[error("a video call is already running: finish or abort it first")]
    CallRunning,
    #[error("no video call is running")]
    NoCall,
    #[error("no picture has arrived from the applicant yet")]
    NoPicture,
    #[error("no screenshot is due: the interview's next step is {next}")]
    NothingToCapture { next: String },
    #[error("{0}")]
    Interview(#[from] identdesk_domain::InterviewRefusal),
}

impl MediaError {
    /// The error's code and HTTP-like status, as the UI's transport reads them.
    pub fn code(&self) -> (u16, &str) {
        match self {
            MediaError::InvalidSdp(_) => (400, "INVALID_SDP"),
            MediaError::WebRtc(_) => (502, "WEBRTC"),
            MediaError::Codec(_) => (500, "CODEC"),
            MediaError::Io(_) => (500, "MEDIA_FILE"),
            MediaError::Server { status, code, .. } => (*status, code),
            MediaError::Timeout(_) => (504, "TIMEOUT"),
            MediaError::AudioDevice(_) => (503, "AUDIO_DEVICE"),
            MediaError::SignedOut => (401, "SIGNED_OUT"),
            MediaError::CallRunning => (409, "CALL_RUNNING"),
            MediaError::NoCall => (409, "NO_CALL"),
            MediaError::NoPicture => (409, "NO_PICTURE"),
            MediaError::NothingToCapture { .. } => (409, "INTERVIEW_OUT_OF_ORDER"),
            MediaError::Interview(identdesk_domain::InterviewRefusal::NoConsent) => (409, "NO_CONSENT"),
            MediaError::Interview(identdesk_domain::InterviewRefusal::Over) => (409, "INTERVIEW_OVER"),
            MediaError::Interview(identdesk_domain::InterviewRefusal::Unfinished(_)) => (409, "INTERVIEW_UNFINISHED"),
            MediaError::Interview(_) => (409, "INTERVIEW_OUT_OF_ORDER"),
        }
    }
}

/// `{status, code, message}`: what the desktop's commands answer on failure.
impl serde::Serialize for MediaError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let (status, code) = self.code();
        let mut s = serializer.serialize_struct("MediaError", 3)?;
        s.serialize_field("status", &status)?;
        s.serialize_field("code", code)?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}
