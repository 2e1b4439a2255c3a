//! IdentDesk's media core: the operator side of a video identification, with no window. The
//! WebRTC peer (`call`), VP8 decoding (`vp8`), pictures (`frame`), exact screenshots
//! (`screenshot`), the operator's audio (`audio`), call quality (`quality`) and the recording
//! (`recording`), the operator's client for the server (`session`), and a synthetic camera
//! for tests (`fake_camera`). The desktop app shows what this produces; tests drive it directly.

pub mod audio;
pub mod call;
pub mod fake_camera;
pub mod frame;
pub mod quality;
pub mod recording;
pub mod screenshot;
pub mod session;
pub mod synthetic_applicant;
pub mod vp8;
pub mod vp8_frames;

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
}
