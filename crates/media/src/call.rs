//! The operator's side of a video call: one WebRTC peer (webrtc crate) that answers the
//! applicant's offer, receives their video and audio, sends the operator's audio, decodes the
//! video for display and screenshots, asks for keyframes when it needs them, and records
//! everything.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rtc::interceptor::Registry;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::{MediaEngine, MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::transport::RTCIceServer;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState, RTCPeerConnectionState,
};

use crate::audio::{voice_decoder, AudioSource, OperatorAudio, MOST_PACKET_SAMPLES};
use crate::frame::Frame;
use crate::os_audio::Loudspeaker;
use crate::quality::{CallQuality, QualityCounters};
use crate::recording::{IvfRecorder, OpusRecorder, RecordingFiles, APPLICANT_AUDIO, APPLICANT_VIDEO, OPERATOR_AUDIO};
use crate::vp8::Vp8Decoder;
use crate::vp8_frames::Vp8Assembler;
use crate::MediaError;

/// A STUN or TURN server, as the server's configuration hands it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CallConfig {
    pub ice_servers: Vec<IceServer>,
    /// Local addresses to receive media on; empty means this machine's outward address and
    /// loopback, on ports the system picks.
    pub udp_addrs: Vec<SocketAddr>,
    /// Where the recording's files go (the caller uploads them when the call ends).
    pub recording_dir: PathBuf,
    /// How long ICE gathering may take before the answer goes out with what it has.
    pub gathering_timeout: Duration,
    /// Where the applicant's voice is played; `None`: only recorded.
    pub loudspeaker: Option<Loudspeaker>,
}

impl CallConfig {
    pub fn new(recording_dir: impl Into<PathBuf>) -> CallConfig {
        CallConfig {
            ice_servers: Vec::new(),
            udp_addrs: Vec::new(),
            recording_dir: recording_dir.into(),
            gathering_timeout: Duration::from_secs(3),
            loudspeaker: None,
        }
    }
}

/// What happens to the call, for the operator's screen and the interview.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    Connected,
    /// The first picture is decoded, this long after the answer went out.
    FirstFrame {
        after_answer: Duration,
    },
    /// The connection dropped (it may come back within ICE's grace time).
    Disconnected,
    /// The connection is gone for good.
    Failed,
}

/// Waits up to `timeout` for the first event `wanted` accepts; `None` when the call ended or
/// the time ran out first.
pub async fn wait_for_event(
    events: &mut mpsc::UnboundedReceiver<CallEvent>,
    wanted: impl Fn(&CallEvent) -> bool,
    timeout: Duration,
) -> Option<CallEvent> {
    let wait = async {
        while let Some(e) = events.recv().await {
            if wanted(&e) {
                return Some(e);
            }
        }
        None
    };
    tokio::time::timeout(timeout, wait).await.ok().flatten()
}

const VIDEO_PAYLOAD_TYPE: u8 = 96;
const AUDIO_PAYLOAD_TYPE: u8 = 111;

pub(crate) fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

pub(crate) fn vp8_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_VP8.to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: vec![],
    }
}

pub(crate) fn media_engine() -> Result<MediaEngine, MediaError> {
    let mut engine = MediaEngine::default();
    // VP8 only: it is what every browser sends and what libvpx here decodes.
    engine
        .register_codec(
            RTCRtpCodecParameters { rtp_codec: vp8_codec(), payload_type: VIDEO_PAYLOAD_TYPE },
            RtpCodecKind::Video,
        )
        .map_err(webrtc_error)?;
    engine
        .register_codec(
            RTCRtpCodecParameters { rtp_codec: opus_codec(), payload_type: AUDIO_PAYLOAD_TYPE },
            RtpCodecKind::Audio,
        )
        .map_err(webrtc_error)?;
    Ok(engine)
}

pub(crate) fn webrtc_error(e: impl std::fmt::Display) -> MediaError {
    MediaError::WebRtc(e.to_string())
}

/// This machine's outward IPv4 address (the one the default route uses), found without
/// sending anything.
fn outward_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    socket.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).ok()?;
    socket.local_addr().ok().map(|a| a.ip()).filter(|ip| !ip.is_unspecified())
}

/// State shared between the peer's event handler, the track tasks and the call handle.
struct Shared {
    frames: watch::Sender<Option<Arc<Frame>>>,
    events: mpsc::UnboundedSender<CallEvent>,
    gathered: watch::Sender<bool>,
    connected: watch::Sender<bool>,
    answered_at: Mutex<Option<Instant>>,
    quality: QualityCounters,
    recording_dir: PathBuf,
    video: Mutex<Option<IvfRecorder>>,
    applicant_audio: Mutex<Option<OpusRecorder>>,
    loudspeaker: Option<Loudspeaker>,
    frame_numbers: AtomicU64,
}

struct Handler(Arc<Shared>);

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.0.gathered.send(true);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let event = match state {
            RTCPeerConnectionState::Connected => {
                let _ = self.0.connected.send(true);
                CallEvent::Connected
            }
            RTCPeerConnectionState::Disconnected => CallEvent::Disconnected,
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => CallEvent::Failed,
            _ => return,
        };
        let _ = self.0.events.send(event);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let kind = track.kind().await;
        let shared = self.0.clone();
        match kind {
            RtpCodecKind::Video => {
                tokio::spawn(receive_video(shared, track));
            }
            RtpCodecKind::Audio => {
                tokio::spawn(receive_audio(shared, track));
            }
            _ => {}
        }
    }
}

async fn request_keyframe(track: &Arc<dyn TrackRemote>) {
    let Some(media_ssrc) = track.ssrcs().await.first().copied() else { return };
    let pli = PictureLossIndication { sender_ssrc: 0, media_ssrc };
    if let Err(e) = track.write_rtcp(vec![Box::new(pli)]).await {
        tracing::debug!("keyframe request not sent: {e}");
    }
}

/// Reassembles VP8 frames from RTP, records them, decodes them and publishes the newest.
async fn receive_video(shared: Arc<Shared>, track: Arc<dyn TrackRemote>) {
    let mut assembler = Vp8Assembler::default();
    let mut decoder = match Vp8Decoder::new() {
        Ok(d) => d,
        Err(e) => {
            tracing::error!("video cannot be shown: {e}");
            return;
        }
    };
    let mut recorder = IvfRecorder::create(&shared.recording_dir.join(APPLICANT_VIDEO)).ok();
    let mut first_packet: Option<(u32, Instant)> = None;
    let mut have_keyframe = false;
    let mut last_pli = Instant::now() - Duration::from_secs(10);
    request_keyframe(&track).await;
    while let Some(event) = track.poll().await {
        let TrackRemoteEvent::OnRtpPacket(packet) = event else { continue };
        let now = Instant::now();
        shared.quality.video_packet(packet.payload.len() + 12, packet.header.sequence_number);
        if first_packet.map(|(ts, _)| ts) != Some(packet.header.timestamp) {
            first_packet = Some((packet.header.timestamp, now));
        }
        let Some(frame) = assembler.push(packet) else { continue };
        let received_at = first_packet.map(|(_, at)| at).unwrap_or(now);
        let keyframe = frame.data.first().is_some_and(|b| b & 0x01 == 0);
        if frame.after_loss && !keyframe {
            have_keyframe = false;
        }
        if !have_keyframe && !keyframe {
            if last_pli.elapsed() > Duration::from_millis(500) {
                last_pli = Instant::now();
                request_keyframe(&track).await;
            }
            continue;
        }
        have_keyframe = true;
        match decoder.decode(&frame.data) {
            Ok(Some(picture)) => {
                if let Some(r) = recorder.as_mut() {
                    if let Err(e) = r.write_frame(frame.rtp_timestamp, &frame.data, picture.width, picture.height) {
                        tracing::error!("recording stopped: {e}");
                        recorder = None;
                    }
                }
                let number = shared.frame_numbers.fetch_add(1, Ordering::Relaxed);
                let decoded_at = Instant::now();
                shared.quality.frame_decoded(decoded_at.duration_since(received_at), picture.width, picture.height);
                if number == 0 {
                    if let Some(answered) = *shared.answered_at.lock().expect("not poisoned") {
                        let _ = shared.events.send(CallEvent::FirstFrame { after_answer: decoded_at - answered });
                    }
                }
                let frame = Frame { picture, rtp_timestamp: frame.rtp_timestamp, received_at, decoded_at, number };
                let _ = shared.frames.send(Some(Arc::new(frame)));
            }
            Ok(None) => {}
            Err(e) => {
                tracing::debug!("{e}; asking for a keyframe");
                have_keyframe = false;
                if last_pli.elapsed() > Duration::from_millis(500) {
                    last_pli = Instant::now();
                    request_keyframe(&track).await;
                }
            }
        }
    }
    *shared.video.lock().expect("not poisoned") = recorder;
}

/// Records the applicant's voice as it came, and plays it on the loudspeaker when there is one.
async fn receive_audio(shared: Arc<Shared>, track: Arc<dyn TrackRemote>) {
    let mut recorder = OpusRecorder::create(&shared.recording_dir.join(APPLICANT_AUDIO)).ok();
    let mut playback = shared.loudspeaker.as_ref().and_then(|speaker| match voice_decoder() {
        Ok(decoder) => Some((speaker, decoder)),
        Err(e) => {
            tracing::error!("the applicant cannot be heard: {e}");
            None
        }
    });
    let mut pcm = [0i16; MOST_PACKET_SAMPLES];
    while let Some(event) = track.poll().await {
        let TrackRemoteEvent::OnRtpPacket(packet) = event else { continue };
        shared.quality.audio_packet(packet.payload.len() + 12);
        if let Some((speaker, decoder)) = playback.as_mut() {
            match decoder.decode(&packet.payload, &mut pcm, false) {
                Ok(samples) => speaker.play(&pcm[..samples]),
                Err(e) => tracing::debug!("applicant audio packet not decoded: {e}"),
            }
        }
        if let Some(r) = recorder.as_mut() {
            if let Err(e) = r.write_packet(&packet) {
                tracing::error!("audio recording stopped: {e}");
                recorder = None;
            }
        }
    }
    *shared.applicant_audio.lock().expect("not poisoned") = recorder;
}

/// A running call. Dropping it without `hang_up` closes the connection but leaves the
/// recording files unfinished.
pub struct OperatorCall {
    peer: Arc<dyn PeerConnection>,
    shared: Arc<Shared>,
    frames: watch::Receiver<Option<Arc<Frame>>>,
    events: Option<mpsc::UnboundedReceiver<CallEvent>>,
    audio: OperatorAudio,
    started: Instant,
}

impl OperatorCall {
    /// Answers the applicant's offer (an SDP) and returns the call with the answer to send back.
    /// The answer carries this side's ICE candidates (no trickle needed).
    pub async fn answer(
        config: &CallConfig,
        offer_sdp: &str,
        audio: Box<dyn AudioSource>,
    ) -> Result<(OperatorCall, String), MediaError> {
        std::fs::create_dir_all(&config.recording_dir)?;
        let offer = RTCSessionDescription::offer(offer_sdp.to_owned())
            .map_err(|e| MediaError::InvalidSdp(format!("the offer is not a valid session description: {e}")))?;
        let mut engine = media_engine()?;
        let registry = register_default_interceptors(Registry::new(), &mut engine).map_err(webrtc_error)?;
        let ice_servers = config
            .ice_servers
            .iter()
            .map(|s| RTCIceServer {
                urls: s.urls.clone(),
                username: s.username.clone().unwrap_or_default(),
                credential: s.credential.clone().unwrap_or_default(),
            })
            .collect();
        let rtc_config = RTCConfigurationBuilder::new().with_ice_servers(ice_servers).build();
        let (frames_tx, frames) = watch::channel(None);
        let (events_tx, events) = mpsc::unbounded_channel();
        let (gathered_tx, mut gathered) = watch::channel(false);
        let (connected_tx, connected) = watch::channel(false);
        let shared = Arc::new(Shared {
            frames: frames_tx,
            events: events_tx,
            gathered: gathered_tx,
            connected: connected_tx,
            answered_at: Mutex::new(None),
            quality: QualityCounters::default(),
            recording_dir: config.recording_dir.clone(),
            video: Mutex::new(None),
            applicant_audio: Mutex::new(None),
            loudspeaker: config.loudspeaker.clone(),
            frame_numbers: AtomicU64::new(0),
        });
        let udp_addrs: Vec<SocketAddr> = if config.udp_addrs.is_empty() {
            let mut v = vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)];
            v.extend(outward_address().map(|ip| SocketAddr::new(ip, 0)));
            v
        } else {
            config.udp_addrs.clone()
        };
        let peer = PeerConnectionBuilder::new()
            .with_configuration(rtc_config)
            .with_media_engine(engine)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(Handler(shared.clone())) as Arc<dyn PeerConnectionEventHandler>)
            .with_udp_addrs(udp_addrs)
            .build()
            .await
            .map_err(webrtc_error)?;
        let peer: Arc<dyn PeerConnection> = Arc::new(peer);
        peer.set_remote_description(offer)
            .await
            .map_err(|e| MediaError::InvalidSdp(format!("the offer was refused: {e}")))?;
        let audio = OperatorAudio::start(&peer, audio, connected, &config.recording_dir.join(OPERATOR_AUDIO)).await?;
        let answer = peer
            .create_answer(None)
            .await
            .map_err(|e| MediaError::InvalidSdp(format!("no answer fits the offer: {e}")))?;
        peer.set_local_description(answer).await.map_err(webrtc_error)?;
        // Wait for our candidates, but never longer than the timeout: a late answer is worse
        // than one without a relay candidate.
        let _ = tokio::time::timeout(config.gathering_timeout, gathered.wait_for(|done| *done)).await;
        let local = peer.local_description().await.ok_or_else(|| MediaError::WebRtc("no local description".into()))?;
        *shared.answered_at.lock().expect("not poisoned") = Some(Instant::now());
        let call = OperatorCall { peer, shared, frames, events: Some(events), audio, started: Instant::now() };
        Ok((call, local.sdp))
    }

    /// The newest decoded frame.
    pub fn latest_frame(&self) -> Option<Arc<Frame>> {
        self.frames.borrow().clone()
    }

    /// A receiver that wakes on every new frame.
    pub fn frames(&self) -> watch::Receiver<Option<Arc<Frame>>> {
        self.frames.clone()
    }

    /// The call's events; only one taker.
    pub fn take_events(&mut self) -> Option<mpsc::UnboundedReceiver<CallEvent>> {
        self.events.take()
    }

    /// Waits for a frame decoded after `after` (or any frame when `None`).
    pub async fn next_frame(&self, timeout: Duration) -> Option<Arc<Frame>> {
        let mut rx = self.frames.clone();
        let current = rx.borrow_and_update().as_ref().map(|f| f.number);
        let wait = rx.wait_for(|f| f.as_ref().map(|f| Some(f.number) != current).unwrap_or(false));
        tokio::time::timeout(timeout, wait).await.ok().and_then(|r| r.ok().map(|f| f.clone())).flatten()
    }

    pub async fn quality(&self) -> CallQuality {
        let report = self.peer.get_stats(Instant::now(), webrtc::peer_connection::StatsSelector::None).await;
        self.shared.quality.snapshot(&report)
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Ends the call, closes the recording and returns its files.
    pub async fn hang_up(self) -> Result<RecordingFiles, MediaError> {
        let dir = self.shared.recording_dir.clone();
        self.audio.stop().await?;
        self.peer.close().await.map_err(webrtc_error)?;
        // The track tasks hand their recorders back when their tracks end.
        let deadline = Instant::now() + Duration::from_secs(3);
        let (mut video, mut audio) = (None, None);
        while Instant::now() < deadline {
            video = video.or_else(|| self.shared.video.lock().expect("not poisoned").take());
            audio = audio.or_else(|| self.shared.applicant_audio.lock().expect("not poisoned").take());
            if video.is_some() && audio.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (video_frames, video_duration_ms, started_at_ms) = match video {
            Some(v) => v.finish()?,
            None => (0, 0, None),
        };
        if let Some(a) = audio {
            a.finish()?;
        }
        Ok(RecordingFiles {
            applicant_video: dir.join(APPLICANT_VIDEO),
            applicant_audio: dir.join(APPLICANT_AUDIO),
            operator_audio: dir.join(OPERATOR_AUDIO),
            video_frames,
            video_duration_ms,
            started_at_ms,
        })
    }
}
