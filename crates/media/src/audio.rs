//! The operator's audio: a source of 20 ms PCM frames (the microphone, or a tone where no
//! microphone is present), encoded to Opus, sent to the applicant and recorded.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use tokio::sync::{oneshot, watch};
use webrtc::peer_connection::PeerConnection;

use crate::call::opus_codec;
use crate::local_track::{LocalTrack, TrackNames};
use crate::recording::OpusRecorder;
use crate::MediaError;

pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one 20 ms frame at 48 kHz, mono.
pub const FRAME_SAMPLES: usize = 960;
/// The most samples one Opus packet decodes to (120 ms).
pub const MOST_PACKET_SAMPLES: usize = SAMPLE_RATE as usize * 120 / 1000;

/// An Opus encoder for a voice in the call: 48 kHz mono, tuned for speech.
pub fn voice_encoder() -> Result<opus::Encoder, MediaError> {
    opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)
        .map_err(|e| MediaError::Codec(format!("Opus encoder did not start: {e}")))
}

/// An Opus decoder to 48 kHz mono (a stereo sender is mixed down).
pub fn voice_decoder() -> Result<opus::Decoder, MediaError> {
    opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono)
        .map_err(|e| MediaError::Codec(format!("Opus decoder did not start: {e}")))
}

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
        let names =
            TrackNames { stream: "identdesk-operator", id: "identdesk-operator-audio", label: "operator microphone" };
        let track = LocalTrack::add(peer, names, RtpCodecKind::Audio, rand::random::<u32>(), opus_codec()).await?;
        let mut encoder = voice_encoder()?;
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
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {}
                }
                // Nothing goes out (nor into the recording) before the answer is negotiated.
                if track.payload_type().await.is_none() {
                    continue;
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
                if let Err(e) = track.send(data, Duration::from_millis(20)).await {
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
