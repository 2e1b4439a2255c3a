//! A track this side sends: the operator's voice, or the synthetic applicant's camera and
//! voice. Samples go out under the track's SSRC with the payload type the answer negotiated,
//! looked up once.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::peer_connection::PeerConnection;
use webrtc::rtp_transceiver::RtpSender;

use crate::call::webrtc_error;
use crate::MediaError;

pub(crate) struct LocalTrack {
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
    ssrc: u32,
    payload_type: OnceLock<u8>,
}

/// How a track names itself in the session description.
pub(crate) struct TrackNames {
    pub stream: &'static str,
    pub id: &'static str,
    pub label: &'static str,
}

impl LocalTrack {
    /// Adds a track of `kind` sending `codec` under `ssrc` to `peer`.
    pub async fn add(
        peer: &Arc<dyn PeerConnection>,
        names: TrackNames,
        kind: RtpCodecKind,
        ssrc: u32,
        codec: RTCRtpCodec,
    ) -> Result<LocalTrack, MediaError> {
        let track = Arc::new(
            TrackLocalStaticSample::new(
                Instant::now(),
                MediaStreamTrack::new(
                    names.stream.into(),
                    names.id.into(),
                    names.label.into(),
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
        Ok(LocalTrack { track, sender, ssrc, payload_type: OnceLock::new() })
    }

    /// The negotiated payload type; `None` until the answer is in.
    pub async fn payload_type(&self) -> Option<u8> {
        if let Some(pt) = self.payload_type.get() {
            return Some(*pt);
        }
        let parameters = self.sender.get_parameters().await.ok()?;
        let pt = parameters.rtp_parameters.codecs.first()?.payload_type;
        Some(*self.payload_type.get_or_init(|| pt))
    }

    /// Sends one sample lasting `duration`; returns when it was handed to the network.
    pub async fn send(&self, data: Bytes, duration: Duration) -> Result<Instant, MediaError> {
        let payload_type =
            self.payload_type().await.ok_or_else(|| MediaError::WebRtc("no codec negotiated yet".into()))?;
        let sent = Instant::now();
        let sample = Sample { data, duration, ..Sample::new(sent) };
        self.track.sample_writer(self.ssrc, payload_type).write_sample(&sample).await.map_err(webrtc_error)?;
        Ok(sent)
    }
}
