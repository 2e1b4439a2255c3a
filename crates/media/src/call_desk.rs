//! The operator's call as the desktop window shows it, with no window here: one call at a time,
//! taken from the server's video queue; the pictures for the live view (JPEG, each with its
//! frame number); the screenshot the interview asks for next, taken from the very frame the
//! operator has on screen; the steps done, the TAN, call quality; and the end of the call, after
//! which the recording is uploaded and the local copy removed (it holds personal data).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use identdesk_domain::{AbortReason, Interview, InterviewStep};
use image::codecs::jpeg::JpegEncoder;
use image::ExtendedColorType;
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use crate::audio::{AudioSource, Tone};
use crate::call::{CallConfig, CallEvent};
use crate::frame::Frame;
use crate::os_audio::{Loudspeaker, Microphone, MicrophoneControl};
use crate::quality::CallQuality;
use crate::session::{CallPlan, OperatorClient, PlannedFeature, ServerNews};
use crate::{MediaError, OperatorCall, Screenshot};

/// How long the applicant's page has to send its offer once the operator took the case.
const OFFER_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a live-view request waits for a newer picture before it answers "none yet".
const FRAME_WAIT: Duration = Duration::from_secs(1);
/// JPEG quality of the live view: screenshots are lossless PNG from the decoded frame, so the
/// view only has to look right.
const VIEW_QUALITY: u8 = 88;

/// Where the connection stands, in the operator's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    Connecting,
    Connected,
    /// The connection dropped; ICE may still bring it back.
    Interrupted,
    Lost,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepView {
    #[serde(flatten)]
    pub step: InterviewStep,
    pub done: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShotView {
    /// Index in the call's screenshots, for `shot_png`.
    pub n: usize,
    pub tag: String,
    pub sha256: String,
    pub captured_at_ms: i64,
    pub width: u32,
    pub height: u32,
    pub evidence_id: String,
}

/// The operator's audio devices in this call.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioDevices {
    /// The microphone the applicant hears; `None`: a quiet tone tells them the line is open.
    pub microphone: Option<String>,
    /// Where the applicant is heard; `None`: only recorded.
    pub loudspeaker: Option<String>,
    /// What is wrong with a missing device, in the operator's words.
    pub problems: Vec<String>,
    /// The applicant hears silence from the microphone.
    pub muted: bool,
    /// The microphone's loudness now (RMS, 0 to 1), muted or not.
    pub level: f32,
}

/// The devices a call opened: what the call takes from and plays to, and what the screen
/// shows and controls.
struct OpenedAudio {
    source: Box<dyn AudioSource>,
    loudspeaker: Option<Loudspeaker>,
    microphone: Option<MicrophoneControl>,
    devices: AudioDevices,
}

/// Opens the system's default microphone and loudspeaker; whatever fails, the call goes on
/// without it and the screen says why.
fn open_audio() -> OpenedAudio {
    let mut devices = AudioDevices::default();
    let mut control = None;
    let loudspeaker = match Loudspeaker::open_default() {
        Ok(speaker) => {
            devices.loudspeaker = Some(speaker.name().to_owned());
            Some(speaker)
        }
        Err(e) => {
            devices.problems.push(format!("{e}: the applicant cannot be heard, only recorded"));
            None
        }
    };
    let source: Box<dyn AudioSource> = match Microphone::open_default() {
        Ok(microphone) => {
            devices.microphone = Some(microphone.name().to_owned());
            control = Some(microphone.control());
            Box::new(microphone)
        }
        Err(e) => {
            devices.problems.push(format!("{e}: the applicant hears a quiet tone instead of you"));
            Box::new(Tone::new(440.0))
        }
    };
    OpenedAudio { source, loudspeaker, microphone: control, devices }
}

/// Everything the call screen shows, as one reading.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallScreen {
    pub session_id: String,
    pub case_id: Option<String>,
    pub applicant_id: String,
    pub steps: Vec<StepView>,
    pub next_step: Option<InterviewStep>,
    pub features: Vec<PlannedFeature>,
    pub read_out: String,
    pub tan_sent: bool,
    pub connection: Connection,
    /// The server ended the session (e.g. the applicant left): its outcome.
    pub ended: Option<String>,
    pub first_frame_ms: Option<f64>,
    pub quality: CallQuality,
    pub audio: AudioDevices,
    pub shots: Vec<ShotView>,
    /// The call is over on this side too: hung up, the recording uploaded.
    pub hung_up: bool,
}

struct ActiveCall {
    client: OperatorClient,
    plan: CallPlan,
    call: OperatorCall,
    news: mpsc::UnboundedReceiver<ServerNews>,
    events: mpsc::UnboundedReceiver<CallEvent>,
    interview: Interview,
    shots: Vec<(Screenshot, String)>,
    tan_sent: bool,
    connection: Connection,
    ended: Option<String>,
    first_frame_ms: Option<f64>,
    audio: AudioDevices,
    microphone: Option<MicrophoneControl>,
    recording_dir: PathBuf,
}

impl ActiveCall {
    /// Takes in what the server and the peer reported since the last reading.
    fn catch_up(&mut self) {
        while let Ok(news) = self.news.try_recv() {
            match news {
                ServerNews::TanConfirmed => {
                    let _ = self.interview.complete(InterviewStep::Tan);
                }
                ServerNews::ApplicantLeft => self.connection = Connection::Lost,
                ServerNews::Ended { outcome } => self.ended = Some(outcome),
            }
        }
        while let Ok(event) = self.events.try_recv() {
            match event {
                CallEvent::Connected => self.connection = Connection::Connected,
                CallEvent::FirstFrame { after_answer } => {
                    self.first_frame_ms = Some(after_answer.as_secs_f64() * 1000.0)
                }
                CallEvent::Disconnected => self.connection = Connection::Interrupted,
                CallEvent::Failed => self.connection = Connection::Lost,
            }
        }
    }

    async fn screen(&mut self) -> CallScreen {
        self.catch_up();
        let done = self.interview.done;
        let steps = self.interview.steps().into_iter().enumerate().map(|(i, step)| StepView { step, done: i < done });
        CallScreen {
            session_id: self.plan.session.id.clone(),
            case_id: self.plan.session.case_id.clone(),
            applicant_id: self.plan.session.applicant_id.clone(),
            steps: steps.collect(),
            next_step: self.interview.next(),
            features: self.plan.features.clone(),
            read_out: self.plan.read_out.clone(),
            tan_sent: self.tan_sent,
            connection: self.connection,
            ended: self.ended.clone(),
            first_frame_ms: self.first_frame_ms,
            quality: self.call.quality().await,
            audio: AudioDevices {
                muted: self.microphone.as_ref().is_some_and(MicrophoneControl::muted),
                level: self.microphone.as_ref().map_or(0.0, MicrophoneControl::level),
                ..self.audio.clone()
            },
            shots: self
                .shots
                .iter()
                .enumerate()
                .map(|(n, (s, evidence_id))| ShotView {
                    n,
                    tag: s.tag.as_string(),
                    sha256: s.sha256.clone(),
                    captured_at_ms: s.captured_at_ms,
                    width: s.width,
                    height: s.height,
                    evidence_id: evidence_id.clone(),
                })
                .collect(),
            hung_up: false,
        }
    }
}

/// The desktop's one call. Every method answers at once except `take_next` (while the call
/// connects) and `frame` (until a newer picture is decoded).
pub struct CallDesk {
    recordings: PathBuf,
    current: tokio::sync::Mutex<Option<ActiveCall>>,
    /// The pictures, apart from the call's lock so the live view never waits on a step.
    frames: Mutex<Option<watch::Receiver<Option<Arc<Frame>>>>>,
    /// The last pictures the live view was given: a screenshot is taken from the one the
    /// operator saw, not from whatever arrived since.
    shown: Mutex<Vec<Arc<Frame>>>,
}

/// How many shown pictures are kept for screenshots (a few frames of the UI's lag).
const SHOWN_KEPT: usize = 8;

impl CallDesk {
    /// `recordings`: where calls are recorded until they are uploaded.
    pub fn new(recordings: impl Into<PathBuf>) -> CallDesk {
        CallDesk {
            recordings: recordings.into(),
            current: tokio::sync::Mutex::new(None),
            frames: Mutex::new(None),
            shown: Mutex::new(Vec::new()),
        }
    }

    /// Takes the next waiting applicant and connects the call; `None` when nobody waits.
    /// `signed_in`: the console's server and token.
    pub async fn take_next(&self, signed_in: Option<(String, String)>) -> Result<Option<CallScreen>, MediaError> {
        let (server, token) = signed_in.ok_or(MediaError::SignedOut)?;
        let mut current = self.current.lock().await;
        if current.is_some() {
            return Err(MediaError::CallRunning);
        }
        let client = OperatorClient::new(&server, &token);
        let Some(plan) = client.next().await? else { return Ok(None) };
        let recording_dir = self.recordings.join(&plan.session.id);
        let mut config = CallConfig::new(&recording_dir);
        let audio = tokio::task::spawn_blocking(open_audio)
            .await
            .map_err(|e| MediaError::AudioDevice(format!("the audio devices could not be opened: {e}")))?;
        config.loudspeaker = audio.loudspeaker;
        let connected = client.connect(&plan, &config, audio.source, OFFER_TIMEOUT).await;
        let (mut call, news) = match connected {
            Ok(c) => c,
            Err(e) => {
                // The applicant's page never offered: the session ends, and they may be called again.
                let _ = client.abort(&plan.session.id, AbortReason::ConnectionLost).await;
                let _ = std::fs::remove_dir_all(&recording_dir);
                return Err(e);
            }
        };
        let events = call.take_events().expect("a new call has its events");
        *self.frames.lock().expect("not poisoned") = Some(call.frames());
        let active = current.insert(ActiveCall {
            client,
            interview: plan.session.interview.clone(),
            plan,
            call,
            news,
            events,
            shots: Vec::new(),
            tan_sent: false,
            connection: Connection::Connecting,
            ended: None,
            first_frame_ms: None,
            audio: audio.devices,
            microphone: audio.microphone,
            recording_dir,
        });
        Ok(Some(active.screen().await))
    }

    pub async fn screen(&self) -> Result<CallScreen, MediaError> {
        let mut current = self.current.lock().await;
        Ok(current.as_mut().ok_or(MediaError::NoCall)?.screen().await)
    }

    /// The next picture after frame `after` (any when `None`), as 4 bytes of frame number (big-endian) and a
    /// JPEG; empty when none came within a second.
    pub async fn frame(&self, after: Option<u64>) -> Result<Vec<u8>, MediaError> {
        let mut frames = self.frames.lock().expect("not poisoned").clone().ok_or(MediaError::NoCall)?;
        let newer = |f: &Option<Arc<Frame>>| f.as_ref().is_some_and(|f| after.is_none_or(|a| f.number > a));
        let frame = match tokio::time::timeout(FRAME_WAIT, frames.wait_for(newer)).await {
            Ok(Ok(f)) => f.clone().expect("waited for a frame"),
            _ => return Ok(Vec::new()),
        };
        {
            let mut shown = self.shown.lock().expect("not poisoned");
            shown.push(frame.clone());
            let excess = shown.len().saturating_sub(SHOWN_KEPT);
            shown.drain(..excess);
        }
        tokio::task::spawn_blocking(move || view_jpeg(&frame))
            .await
            .map_err(|e| MediaError::Codec(format!("the picture could not be prepared: {e}")))?
    }

    /// Takes the screenshot the interview asks for next from frame `frame_number` (the one on
    /// the operator's screen; the newest when it is gone), stores it on the server and keeps
    /// it for the thumbnails.
    pub async fn capture(&self, frame_number: u64) -> Result<CallScreen, MediaError> {
        let mut current = self.current.lock().await;
        let active = current.as_mut().ok_or(MediaError::NoCall)?;
        active.catch_up();
        let step = active.interview.next();
        let tag = step.and_then(InterviewStep::screenshot).ok_or_else(|| MediaError::NothingToCapture {
            next: step.map(|s| s.to_string()).unwrap_or_else(|| "nothing".into()),
        })?;
        let shown = self.shown.lock().expect("not poisoned").iter().find(|f| f.number == frame_number).cloned();
        let frame = shown.or_else(|| active.call.latest_frame()).ok_or(MediaError::NoPicture)?;
        let shot = tokio::task::spawn_blocking(move || Screenshot::capture(&frame, tag))
            .await
            .map_err(|e| MediaError::Codec(format!("the screenshot could not be taken: {e}")))??;
        let stored = active.client.upload_screenshot(&active.plan.session.id, &shot).await?;
        active.interview.capture(tag)?;
        active.shots.push((shot, stored.id));
        Ok(active.screen().await)
    }

    /// A screenshot of this call, as PNG, for its thumbnail.
    pub async fn shot_png(&self, n: usize) -> Result<Vec<u8>, MediaError> {
        let current = self.current.lock().await;
        let active = current.as_ref().ok_or(MediaError::NoCall)?;
        active.shots.get(n).map(|(s, _)| s.png.clone()).ok_or(MediaError::NoPicture)
    }

    /// The applicant read out the right characters.
    pub async fn confirm_read_out(&self) -> Result<CallScreen, MediaError> {
        let mut current = self.current.lock().await;
        let active = current.as_mut().ok_or(MediaError::NoCall)?;
        active.catch_up();
        active.interview.clone().complete(InterviewStep::ReadOut)?;
        active.client.confirm_read_out(&active.plan.session.id).await?;
        active.interview.complete(InterviewStep::ReadOut)?;
        Ok(active.screen().await)
    }

    /// Mutes or unmutes the operator's microphone.
    pub async fn set_muted(&self, muted: bool) -> Result<CallScreen, MediaError> {
        let mut current = self.current.lock().await;
        let active = current.as_mut().ok_or(MediaError::NoCall)?;
        let microphone = active.microphone.as_ref().ok_or_else(|| {
            MediaError::AudioDevice("there is no microphone to mute: the applicant hears a quiet tone".into())
        })?;
        microphone.set_muted(muted);
        Ok(active.screen().await)
    }

    /// Sends the applicant a TAN; the step is done when they enter it on their page.
    pub async fn send_tan(&self) -> Result<CallScreen, MediaError> {
        let mut current = self.current.lock().await;
        let active = current.as_mut().ok_or(MediaError::NoCall)?;
        active.client.send_tan(&active.plan.session.id).await?;
        active.tan_sent = true;
        Ok(active.screen().await)
    }

    /// Ends the call: tells the server how (finishing needs every step done; the server checks),
    /// and once it agreed, hangs up, uploads the recording and removes the local copy. The
    /// last reading of the screen is the answer.
    pub async fn end(&self, how: Ending) -> Result<CallScreen, MediaError> {
        let mut current = self.current.lock().await;
        let active = current.as_mut().ok_or(MediaError::NoCall)?;
        let session = active.plan.session.id.clone();
        let outcome = match how {
            Ending::Finish => active.client.finish(&session).await.map(|_| "completed"),
            Ending::Abort { reason } => active.client.abort(&session, reason).await.map(|_| "aborted"),
            Ending::Close => Ok("ended"),
        }?;
        let mut last = active.screen().await;
        let active = current.take().expect("checked above");
        *self.frames.lock().expect("not poisoned") = None;
        self.shown.lock().expect("not poisoned").clear();
        let files = active.call.hang_up().await?;
        active.client.upload_recording(&session, &files).await?;
        let _ = std::fs::remove_dir_all(&active.recording_dir);
        last.hung_up = true;
        last.ended.get_or_insert_with(|| outcome.into());
        Ok(last)
    }
}

/// How the operator ends a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum Ending {
    /// Every step is done: the identification is complete.
    Finish,
    /// Early, for a reason the applicant's case is decided with.
    Abort { reason: AbortReason },
    /// The server already ended the session (e.g. the applicant left): hang up and keep the recording.
    Close,
}

fn view_jpeg(frame: &Frame) -> Result<Vec<u8>, MediaError> {
    let rgb = frame.picture.to_rgb();
    let mut out = Vec::with_capacity(rgb.data.len() / 8);
    out.extend_from_slice(&(frame.number as u32).to_be_bytes());
    JpegEncoder::new_with_quality(&mut out, VIEW_QUALITY)
        .encode(&rgb.data, rgb.width, rgb.height, ExtendedColorType::Rgb8)
        .map_err(|e| MediaError::Codec(format!("the picture could not be encoded: {e}")))?;
    Ok(out)
}
