//! The operator's audio: a source of 20 ms PCM frames (the microphone, or a tone where no
//! microphone is present), encoded to Opus, sent to the applicant and recorded.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use tokio::sync::{oneshot, watch};
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::peer_connection::PeerConnection;

use crate::call::{opus_codec, webrtc_error};
use crate::recording::OpusRecorder;
use crate::MediaError;

pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one 20 ms frame at 48 kHz, mono.
pub const FRAME_SAMPLES: usize = 960;

/// Gives the next 20 ms of mono 48 kHz audio.
pub trait AudioSource: Send + 'static {
    fn next_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]);
}

/// A quiet sine tone: what the applicant hears where the operator's machine has no microphone
/// (demos, tests), so they know the line is open.
pub struct Tone {
    hz: f32,
    amplitude: f32,
    phase: f32,
}

impl Tone {
    pub fn new(hz: f32) -> Tone {
        Tone { hz, amplitude: 3000.0, phase: 0.0 }
    }
}

impl AudioSource for Tone {
    fn next_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) {
        let step = std::f32::consts::TAU * self.hz / SAMPLE_RATE as f32;
        for s in out.iter_mut() {
            *s = (self.phase.sin() * self.amplitude) as i16;
            self.phase = (self.phase + step) % std::f32::consts::TAU;
        }
    }
}

/// The running sender of the operator's audio.
pub struct OperatorAudio {
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), MediaError>>>,
}

impl OperatorAudio {
    pub(crate) async fn start(
        peer: &Arc<dyn PeerConnection>,
        mut source: Box<dyn AudioSource>,
        mut connected: watch::Receiver<bool>,
        recording: &Path,
    ) -> Result<OperatorAudio, MediaError> {
        let ssrc = rand::random::<u32>();
        let track = Arc::new(
            TrackLocalStaticSample::new(
                Instant::now(),
                MediaStreamTrack::new(
                    "identdesk-operator".into(),
                    "identdesk-operator-audio".into(),
                    "operator microphone".into(),
                    RtpCodecKind::Audio,
                    vec![RTCRtpEncodingParameters {
                        rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                        codec: opus_codec(),
                        ..Default::default()
                    }],
                ),
            )
            .map_err(webrtc_error)?,
        );
        let sender = peer.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>).await.map_err(webrtc_error)?;
        let mut encoder = opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)
            .map_err(|e| MediaError::Codec(format!("Opus encoder did not start: {e}")))?;
        let mut recorder = OpusRecorder::create(recording)?;
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            // Nothing can be sent before the encrypted transport is up.
            tokio::select! {
                _ = &mut stopped => return recorder.finish(),
                _ = connected.wait_for(|up| *up) => {}
            }
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut pcm = [0i16; FRAME_SAMPLES];
            let mut out = vec![0u8; 1500];
            let mut rtp_ts: u32 = 0;
            let mut payload_type = None;
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {}
                }
                // The payload type is known once the answer is negotiated.
                if payload_type.is_none() {
                    payload_type = sender
                        .get_parameters()
                        .await
                        .ok()
                        .and_then(|p| p.rtp_parameters.codecs.first().map(|c| c.payload_type));
                    if payload_type.is_none() {
                        continue;
                    }
                }
                source.next_frame(&mut pcm);
                let len = encoder
                    .encode(&pcm, &mut out)
                    .map_err(|e| MediaError::Codec(format!("operator audio could not be encoded: {e}")))?;
                let data = Bytes::copy_from_slice(&out[..len]);
                let mut packet = rtc::rtp::Packet::default();
                packet.header.timestamp = rtp_ts;
                packet.payload = data.clone();
                recorder.write_packet(&packet)?;
                rtp_ts = rtp_ts.wrapping_add(FRAME_SAMPLES as u32);
                let sample = Sample { data, duration: Duration::from_millis(20), ..Sample::new(Instant::now()) };
                if let Err(e) = track.sample_writer(ssrc, payload_type.expect("set above")).write_sample(&sample).await
                {
                    tracing::debug!("operator audio not sent: {e}");
                }
            }
            recorder.finish()
        });
        Ok(OperatorAudio { stop: Some(stop), task: Some(task) })
    }

    pub(crate) async fn stop(mut self) -> Result<(), MediaError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(|e| MediaError::WebRtc(format!("audio task failed: {e}")))?,
            None => Ok(()),
        }
    }
}
