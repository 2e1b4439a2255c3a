//! A WebRTC peer that plays the applicant without a browser: it offers VP8 video, sends the
//! frames it is given, and notes when each left. For benchmarks that need both ends of a call
//! in one process (one clock), such as packet-to-frame latency.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
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
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
};
use webrtc::rtp_transceiver::RtpSender;

use crate::call::{media_engine, vp8_codec, webrtc_error};
use crate::MediaError;

struct Gathered(watch::Sender<bool>);

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Gathered {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.0.send(true);
        }
    }
}

pub struct SyntheticApplicant {
    peer: Arc<dyn PeerConnection>,
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
    ssrc: u32,
    /// Known once the answer is in; looked up on the first frame.
    payload_type: std::sync::OnceLock<u8>,
}

impl SyntheticApplicant {
    /// Builds the peer and its offer (with candidates).
    pub async fn offer() -> Result<(SyntheticApplicant, String), MediaError> {
        let mut engine = media_engine()?;
        let registry = register_default_interceptors(Registry::new(), &mut engine).map_err(webrtc_error)?;
        let (gathered_tx, mut gathered) = watch::channel(false);
        let peer = PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(engine)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(Gathered(gathered_tx)) as Arc<dyn PeerConnectionEventHandler>)
            .with_udp_addrs(vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)])
            .build()
            .await
            .map_err(webrtc_error)?;
        let peer: Arc<dyn PeerConnection> = Arc::new(peer);
        let ssrc = 0x1d_3e5c;
        let track = Arc::new(
            TrackLocalStaticSample::new(
                Instant::now(),
                MediaStreamTrack::new(
                    "applicant".into(),
                    "applicant-camera".into(),
                    "camera".into(),
                    RtpCodecKind::Video,
                    vec![RTCRtpEncodingParameters {
                        rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                        codec: vp8_codec(),
                        ..Default::default()
                    }],
                ),
            )
            .map_err(webrtc_error)?,
        );
        let sender = peer.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>).await.map_err(webrtc_error)?;
        let offer = peer.create_offer(None).await.map_err(webrtc_error)?;
        peer.set_local_description(offer).await.map_err(webrtc_error)?;
        let _ = tokio::time::timeout(Duration::from_secs(3), gathered.wait_for(|d| *d)).await;
        let sdp = peer.local_description().await.ok_or_else(|| MediaError::WebRtc("no offer".into()))?.sdp;
        Ok((SyntheticApplicant { peer, track, sender, ssrc, payload_type: Default::default() }, sdp))
    }

    pub async fn accept(&self, answer_sdp: &str) -> Result<(), MediaError> {
        let answer =
            RTCSessionDescription::answer(answer_sdp.to_owned()).map_err(|e| MediaError::InvalidSdp(e.to_string()))?;
        self.peer.set_remote_description(answer).await.map_err(webrtc_error)
    }

    /// Sends one encoded VP8 frame lasting `duration`; returns when it was handed to the network.
    pub async fn send_frame(&self, data: Vec<u8>, duration: Duration) -> Result<Instant, MediaError> {
        let payload_type = match self.payload_type.get() {
            Some(pt) => *pt,
            None => {
                let parameters = self.sender.get_parameters().await.map_err(webrtc_error)?;
                let pt = parameters
                    .rtp_parameters
                    .codecs
                    .first()
                    .map(|c| c.payload_type)
                    .ok_or_else(|| MediaError::WebRtc("no negotiated video codec".into()))?;
                *self.payload_type.get_or_init(|| pt)
            }
        };
        let sent = Instant::now();
        let sample = Sample { data: Bytes::from(data), duration, ..Sample::new(sent) };
        self.track.sample_writer(self.ssrc, payload_type).write_sample(&sample).await.map_err(webrtc_error)?;
        Ok(sent)
    }

    pub async fn close(&self) -> Result<(), MediaError> {
        self.peer.close().await.map_err(webrtc_error)
    }
}
