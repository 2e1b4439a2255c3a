//! A WebRTC peer that plays the applicant without a browser: it offers VP8 video and an Opus
//! voice, sends the frames and the sound it is given, notes when each frame left, and keeps
//! what it hears from the operator. For benchmarks and tests that need both ends of a call in
//! one process (one clock), such as packet-to-frame latency or the operator's audio devices.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::interceptor::Registry;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use tokio::sync::watch;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
};
use webrtc::rtp_transceiver::RtpSender;

use crate::audio::{FRAME_SAMPLES, SAMPLE_RATE};
use crate::call::{media_engine, opus_codec, vp8_codec, webrtc_error};
use crate::MediaError;

/// What the operator said, decoded to 48 kHz mono.
type Heard = Arc<Mutex<Vec<i16>>>;

struct ApplicantEvents {
    gathered: watch::Sender<bool>,
    heard: Heard,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for ApplicantEvents {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(true);
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        if track.kind().await == RtpCodecKind::Audio {
            tokio::spawn(listen(track, self.heard.clone()));
        }
    }
}

async fn listen(track: Arc<dyn TrackRemote>, heard: Heard) {
    let Ok(mut decoder) = opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono) else { return };
    let mut pcm = vec![0i16; SAMPLE_RATE as usize * 120 / 1000];
    while let Some(event) = track.poll().await {
        let TrackRemoteEvent::OnRtpPacket(packet) = event else { continue };
        if let Ok(samples) = decoder.decode(&packet.payload, &mut pcm, false) {
            heard.lock().expect("not poisoned").extend_from_slice(&pcm[..samples]);
        }
    }
}

/// A local track of the applicant's: what it sends and under which SSRC.
struct Outgoing {
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
    ssrc: u32,
    /// Known once the answer is in; looked up on the first sample.
    payload_type: std::sync::OnceLock<u8>,
}

impl Outgoing {
    async fn add(
        peer: &Arc<dyn PeerConnection>,
        kind: RtpCodecKind,
        ssrc: u32,
        codec: rtc::rtp_transceiver::rtp_sender::RTCRtpCodec,
    ) -> Result<Outgoing, MediaError> {
        let (id, label) = match kind {
            RtpCodecKind::Video => ("applicant-camera", "camera"),
            _ => ("applicant-microphone", "microphone"),
        };
        let track = Arc::new(
            TrackLocalStaticSample::new(
                Instant::now(),
                MediaStreamTrack::new(
                    "applicant".into(),
                    id.into(),
                    label.into(),
                    kind,
                    vec![RTCRtpEncodingParameters {
                        rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                        codec,
                        ..Default::default()
                    }],
                ),
            )
            .map_err(webrtc_error)?,
        );
        let sender = peer.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>).await.map_err(webrtc_error)?;
        Ok(Outgoing { track, sender, ssrc, payload_type: Default::default() })
    }

    /// Sends one sample; returns when it was handed to the network.
    async fn send(&self, data: Bytes, duration: Duration) -> Result<Instant, MediaError> {
        let payload_type = match self.payload_type.get() {
            Some(pt) => *pt,
            None => {
                let parameters = self.sender.get_parameters().await.map_err(webrtc_error)?;
                let pt = parameters
                    .rtp_parameters
                    .codecs
                    .first()
                    .map(|c| c.payload_type)
                    .ok_or_else(|| MediaError::WebRtc("no negotiated codec".into()))?;
                *self.payload_type.get_or_init(|| pt)
            }
        };
        let sent = Instant::now();
        let sample = Sample { data, duration, ..Sample::new(sent) };
        self.track.sample_writer(self.ssrc, payload_type).write_sample(&sample).await.map_err(webrtc_error)?;
        Ok(sent)
    }
}

pub struct SyntheticApplicant {
    peer: Arc<dyn PeerConnection>,
    camera: Outgoing,
    voice: Outgoing,
    encoder: Mutex<opus::Encoder>,
    heard: Heard,
}

impl SyntheticApplicant {
    /// Builds the peer and its offer (with candidates).
    pub async fn offer() -> Result<(SyntheticApplicant, String), MediaError> {
        let mut engine = media_engine()?;
        let registry = register_default_interceptors(Registry::new(), &mut engine).map_err(webrtc_error)?;
        let (gathered_tx, mut gathered) = watch::channel(false);
        let heard = Heard::default();
        let peer = PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(engine)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(ApplicantEvents { gathered: gathered_tx, heard: heard.clone() })
                as Arc<dyn PeerConnectionEventHandler>)
            .with_udp_addrs(vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)])
            .build()
            .await
            .map_err(webrtc_error)?;
        let peer: Arc<dyn PeerConnection> = Arc::new(peer);
        let camera = Outgoing::add(&peer, RtpCodecKind::Video, 0x1d_3e5c, vp8_codec()).await?;
        let voice = Outgoing::add(&peer, RtpCodecKind::Audio, 0x1d_3e5d, opus_codec()).await?;
        let encoder = opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)
            .map_err(|e| MediaError::Codec(format!("Opus encoder did not start: {e}")))?;
        let offer = peer.create_offer(None).await.map_err(webrtc_error)?;
        peer.set_local_description(offer).await.map_err(webrtc_error)?;
        let _ = tokio::time::timeout(Duration::from_secs(3), gathered.wait_for(|d| *d)).await;
        let sdp = peer.local_description().await.ok_or_else(|| MediaError::WebRtc("no offer".into()))?.sdp;
        Ok((SyntheticApplicant { peer, camera, voice, encoder: Mutex::new(encoder), heard }, sdp))
    }

    pub async fn accept(&self, answer_sdp: &str) -> Result<(), MediaError> {
        let answer =
            RTCSessionDescription::answer(answer_sdp.to_owned()).map_err(|e| MediaError::InvalidSdp(e.to_string()))?;
        self.peer.set_remote_description(answer).await.map_err(webrtc_error)
    }

    /// Sends one encoded VP8 frame lasting `duration`; returns when it was handed to the network.
    pub async fn send_frame(&self, data: Vec<u8>, duration: Duration) -> Result<Instant, MediaError> {
        self.camera.send(Bytes::from(data), duration).await
    }

    /// Says 20 ms of 48 kHz mono sound.
    pub async fn say(&self, pcm: &[i16; FRAME_SAMPLES]) -> Result<(), MediaError> {
        let mut out = [0u8; 1500];
        let len = self
            .encoder
            .lock()
            .expect("not poisoned")
            .encode(pcm, &mut out)
            .map_err(|e| MediaError::Codec(format!("applicant audio could not be encoded: {e}")))?;
        self.voice.send(Bytes::copy_from_slice(&out[..len]), Duration::from_millis(20)).await.map(|_| ())
    }

    /// Everything heard from the operator so far, 48 kHz mono.
    pub fn heard(&self) -> Vec<i16> {
        self.heard.lock().expect("not poisoned").clone()
    }

    pub async fn close(&self) -> Result<(), MediaError> {
        self.peer.close().await.map_err(webrtc_error)
    }
}
