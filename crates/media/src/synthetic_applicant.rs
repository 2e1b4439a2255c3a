//! A WebRTC peer that plays the applicant without a browser: it offers VP8 video and an Opus
//! voice, sends the frames and the sound it is given, notes when each frame left, and keeps
//! what it hears from the operator. For benchmarks and tests that need both ends of a call in
//! one process (one clock), such as packet-to-frame latency or the operator's audio devices.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::interceptor::Registry;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use tokio::sync::watch;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
};

use crate::audio::{voice_decoder, voice_encoder, FRAME_SAMPLES, MOST_PACKET_SAMPLES};
use crate::call::{media_engine, opus_codec, vp8_codec, webrtc_error};
use crate::local_track::{LocalTrack, TrackNames};
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
    let Ok(mut decoder) = voice_decoder() else { return };
    let mut pcm = [0i16; MOST_PACKET_SAMPLES];
    while let Some(event) = track.poll().await {
        let TrackRemoteEvent::OnRtpPacket(packet) = event else { continue };
        if let Ok(samples) = decoder.decode(&packet.payload, &mut pcm, false) {
            heard.lock().expect("not poisoned").extend_from_slice(&pcm[..samples]);
        }
    }
}

pub struct SyntheticApplicant {
    peer: Arc<dyn PeerConnection>,
    camera: LocalTrack,
    voice: LocalTrack,
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
        let camera_names = TrackNames { stream: "applicant", id: "applicant-camera", label: "camera" };
        let camera = LocalTrack::add(&peer, camera_names, RtpCodecKind::Video, 0x1d_3e5c, vp8_codec()).await?;
        let voice_names = TrackNames { stream: "applicant", id: "applicant-microphone", label: "microphone" };
        let voice = LocalTrack::add(&peer, voice_names, RtpCodecKind::Audio, 0x1d_3e5d, opus_codec()).await?;
        let encoder = voice_encoder()?;
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
