//! The operator's microphone and loudspeaker through the operating system's audio stack (cpal:
//! on Linux the sound server, PulseAudio or PipeWire, else ALSA; Core Audio on macOS; WASAPI on
//! Windows). The call works in 48 kHz mono; each device runs at its own rate
//! and channel count, converted here. A device's stream lives on a thread of its own (not every
//! platform lets one move between threads) and stops when its handle is dropped.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, Sample, SampleFormat, SizedSample, StreamConfig, SupportedStreamConfig};

use crate::audio::{AudioSource, FRAME_SAMPLES, SAMPLE_RATE};
use crate::MediaError;

/// The most audio a buffer holds (200 ms): a device whose clock runs ahead of the call's, or a
/// burst of late packets, must not build up delay in the conversation; the oldest goes.
const MOST_BUFFERED: usize = SAMPLE_RATE as usize / 5;

/// 48 kHz mono samples between a device's thread and the call.
type Buffer = Arc<Mutex<VecDeque<i16>>>;

fn keep_newest(buffer: &mut VecDeque<i16>) {
    let excess = buffer.len().saturating_sub(MOST_BUFFERED);
    buffer.drain(..excess);
}

fn device_error(what: &str, e: impl std::fmt::Display) -> MediaError {
    MediaError::AudioDevice(format!("{what}: {e}"))
}

/// Linear interpolation from one sample rate to another, across the calls that feed it.
#[derive(Debug, Clone)]
struct Resampler {
    /// Input samples per output sample.
    step: f64,
    /// Where the next output sample falls, in input samples from the start of the next chunk;
    /// -1 is the previous chunk's last sample.
    position: f64,
    last: f32,
}

impl Resampler {
    fn new(from_rate: u32, to_rate: u32) -> Resampler {
        Resampler { step: f64::from(from_rate) / f64::from(to_rate), position: 0.0, last: 0.0 }
    }

    fn push(&mut self, input: &[f32], mut emit: impl FnMut(f32)) {
        if self.step == 1.0 {
            input.iter().for_each(|&s| emit(s));
            return;
        }
        let Some(&newest) = input.last() else { return };
        let previous = self.last;
        let at = |i: isize| if i < 0 { previous } else { input[i as usize] };
        let end = input.len() as f64 - 1.0;
        while self.position < end {
            let index = self.position.floor();
            let (a, b) = (at(index as isize), at(index as isize + 1));
            emit(a + (b - a) * (self.position - index) as f32);
            self.position += self.step;
        }
        self.position -= input.len() as f64;
        self.last = newest;
    }
}

/// A device's stream, kept on its own thread until dropped.
struct Running {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    /// Runs `open` on a new thread and keeps the stream it returns playing there; answers once
    /// the stream started (or could not), with the device's name.
    fn start(
        open: impl FnOnce() -> Result<(cpal::Stream, String), MediaError> + Send + 'static,
    ) -> Result<(Running, String), MediaError> {
        let (ready_tx, ready) = mpsc::channel();
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("identdesk-audio".into())
            .spawn(move || match open() {
                Ok((stream, name)) => {
                    let _ = ready_tx.send(Ok(name));
                    // Until the handle is dropped (the sender goes with it).
                    let _ = stopped.recv();
                    drop(stream);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| device_error("the audio thread did not start", e))?;
        let name = ready.recv().map_err(|e| device_error("the audio thread ended", e))??;
        Ok((Running { stop: Some(stop), thread: Some(thread) }, name))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The sound server where one runs (low latency on request), else the platform's default.
fn host() -> cpal::Host {
    #[cfg(target_os = "linux")]
    if let Ok(host) = cpal::host_from_id(cpal::HostId::PulseAudio) {
        return host;
    }
    cpal::default_host()
}

/// Periods of 20 ms, the call's frame, where the device allows: the default can be seconds
/// long (PulseAudio's ALSA plugin), which a conversation cannot bear.
fn with_short_periods(config: &SupportedStreamConfig) -> StreamConfig {
    let mut stream = config.config();
    let period = stream.sample_rate / 50;
    if let cpal::SupportedBufferSize::Range { min, max } = *config.buffer_size() {
        if (min..=max).contains(&period) {
            stream.buffer_size = cpal::BufferSize::Fixed(period);
        }
    }
    stream
}

/// The configuration to open: 48 kHz in a format we convert, with as few channels as the
/// device has; else the device's own default (converted from its rate).
fn choose_config(
    ranges: impl Iterator<Item = cpal::SupportedStreamConfigRange>,
    default: SupportedStreamConfig,
) -> SupportedStreamConfig {
    let convertible = |f: SampleFormat| matches!(f, SampleFormat::F32 | SampleFormat::I16 | SampleFormat::I32);
    ranges
        .filter(|r| convertible(r.sample_format()))
        .filter_map(|r| r.try_with_sample_rate(SAMPLE_RATE))
        .min_by_key(|c| (c.channels(), c.sample_format() != SampleFormat::F32))
        .unwrap_or(default)
}

#[derive(Debug, Clone, Copy)]
enum Direction {
    Capture,
    Playback,
}

/// The system's default device for `direction`, its name, and the configuration to open.
fn default_device(direction: Direction) -> Result<(cpal::Device, String, SupportedStreamConfig), MediaError> {
    let what = match direction {
        Direction::Capture => "microphone",
        Direction::Playback => "loudspeaker",
    };
    let host = host();
    let device = match direction {
        Direction::Capture => host.default_input_device(),
        Direction::Playback => host.default_output_device(),
    }
    .ok_or_else(|| MediaError::AudioDevice(format!("this computer has no {what}")))?;
    let name = device.description().map(|d| d.name().to_owned()).unwrap_or_else(|_| what.to_owned());
    let unusable = |e| device_error(&format!("the {what}"), e);
    let (ranges, default) = match direction {
        Direction::Capture => (
            device.supported_input_configs().map_err(unusable)?.collect::<Vec<_>>(),
            device.default_input_config().map_err(unusable)?,
        ),
        Direction::Playback => (
            device.supported_output_configs().map_err(unusable)?.collect(),
            device.default_output_config().map_err(unusable)?,
        ),
    };
    let config = choose_config(ranges.into_iter(), default);
    Ok((device, name, config))
}

/// The operator's microphone: captured, mixed to mono and converted to 48 kHz, handed to the
/// call 20 ms at a time.
pub struct Microphone {
    buffer: Buffer,
    captured: Arc<AtomicU64>,
    control: MicrophoneControl,
    name: String,
    _running: Running,
}

/// Mute and level of a microphone whose frames the call is taking: kept by the call screen.
#[derive(Debug, Clone, Default)]
pub struct MicrophoneControl {
    muted: Arc<AtomicBool>,
    /// The loudness of the last 20 ms captured (RMS, 0 to 1, as `f32` bits), muted or not:
    /// the operator sees the microphone works, and that they speak while muted.
    level: Arc<AtomicU32>,
}

impl MicrophoneControl {
    pub fn set_muted(&self, muted: bool) {
        self.muted.store(muted, Ordering::Relaxed);
    }

    pub fn muted(&self) -> bool {
        self.muted.load(Ordering::Relaxed)
    }

    pub fn level(&self) -> f32 {
        f32::from_bits(self.level.load(Ordering::Relaxed))
    }
}

impl Microphone {
    /// The system's default input device.
    pub fn open_default() -> Result<Microphone, MediaError> {
        let buffer: Buffer = Arc::default();
        let captured = Arc::new(AtomicU64::new(0));
        let (into, count) = (buffer.clone(), captured.clone());
        let (running, name) = Running::start(move || {
            let (device, name, config) = default_device(Direction::Capture)?;
            let stream_config = with_short_periods(&config);
            let stream = match config.sample_format() {
                SampleFormat::F32 => capture::<f32>(&device, stream_config, into, count),
                SampleFormat::I16 => capture::<i16>(&device, stream_config, into, count),
                SampleFormat::I32 => capture::<i32>(&device, stream_config, into, count),
                other => Err(MediaError::AudioDevice(format!(
                    "the microphone gives {other} samples, which IdentDesk does not read"
                ))),
            }?;
            stream.play().map_err(|e| device_error("the microphone did not start", e))?;
            Ok((stream, name))
        })?;
        Ok(Microphone { buffer, captured, control: MicrophoneControl::default(), name, _running: running })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn control(&self) -> MicrophoneControl {
        self.control.clone()
    }

    /// 48 kHz samples captured since the microphone opened: it runs on the device's clock.
    pub fn captured_samples(&self) -> u64 {
        self.captured.load(Ordering::Relaxed)
    }
}

fn capture<T>(
    device: &cpal::Device,
    config: StreamConfig,
    into: Buffer,
    count: Arc<AtomicU64>,
) -> Result<cpal::Stream, MediaError>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels.max(1));
    let mut resampler = Resampler::new(config.sample_rate, SAMPLE_RATE);
    let mut mono = Vec::new();
    let mut converted = Vec::new();
    device
        .build_input_stream(
            config,
            move |data: &[T], _: &cpal::InputCallbackInfo| {
                mono.clear();
                mono.extend(
                    data.chunks(channels)
                        .map(|frame| frame.iter().map(|&s| f32::from_sample(s)).sum::<f32>() / channels as f32),
                );
                converted.clear();
                resampler.push(&mono, |s| converted.push((s.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16));
                count.fetch_add(converted.len() as u64, Ordering::Relaxed);
                let mut buffer = into.lock().expect("not poisoned");
                buffer.extend(&converted);
                keep_newest(&mut buffer);
            },
            |e| tracing::warn!("microphone: {e}"),
            None,
        )
        .map_err(|e| device_error("the microphone could not be opened", e))
}

impl AudioSource for Microphone {
    /// The oldest 20 ms captured; silence where the device has not delivered them yet, and
    /// while muted.
    fn next_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) {
        {
            let mut buffer = self.buffer.lock().expect("not poisoned");
            let available = buffer.len().min(FRAME_SAMPLES);
            for (o, s) in out.iter_mut().zip(buffer.drain(..available)) {
                *o = s;
            }
            out[available..].fill(0);
        }
        let power = out.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / FRAME_SAMPLES as f64;
        let level = (power.sqrt() / f64::from(i16::MAX)) as f32;
        self.control.level.store(level.to_bits(), Ordering::Relaxed);
        if self.control.muted() {
            out.fill(0);
        }
    }
}

/// The operator's loudspeaker: plays the applicant's voice, given as 48 kHz mono.
#[derive(Clone)]
pub struct Loudspeaker {
    buffer: Buffer,
    name: Arc<str>,
    _running: Arc<Running>,
}

impl std::fmt::Debug for Loudspeaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loudspeaker").field("name", &self.name).finish()
    }
}

impl Loudspeaker {
    /// The system's default output device.
    pub fn open_default() -> Result<Loudspeaker, MediaError> {
        let buffer: Buffer = Arc::default();
        let from = buffer.clone();
        let (running, name) = Running::start(move || {
            let (device, name, config) = default_device(Direction::Playback)?;
            let stream_config = with_short_periods(&config);
            let stream = match config.sample_format() {
                SampleFormat::F32 => play::<f32>(&device, stream_config, from),
                SampleFormat::I16 => play::<i16>(&device, stream_config, from),
                SampleFormat::I32 => play::<i32>(&device, stream_config, from),
                other => Err(MediaError::AudioDevice(format!(
                    "the loudspeaker takes {other} samples, which IdentDesk does not write"
                ))),
            }?;
            stream.play().map_err(|e| device_error("the loudspeaker did not start", e))?;
            Ok((stream, name))
        })?;
        Ok(Loudspeaker { buffer, name: name.into(), _running: Arc::new(running) })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Queues 48 kHz mono samples to be heard.
    pub fn play(&self, pcm: &[i16]) {
        let mut buffer = self.buffer.lock().expect("not poisoned");
        buffer.extend(pcm);
        keep_newest(&mut buffer);
    }
}

fn play<T>(device: &cpal::Device, config: StreamConfig, from: Buffer) -> Result<cpal::Stream, MediaError>
where
    T: SizedSample + FromSample<f32>,
{
    let channels = usize::from(config.channels.max(1));
    let mut resampler = Resampler::new(SAMPLE_RATE, config.sample_rate);
    let ratio = f64::from(SAMPLE_RATE) / f64::from(config.sample_rate);
    let mut taken = Vec::new();
    let mut ready: VecDeque<f32> = VecDeque::new();
    device
        .build_output_stream(
            config,
            move |data: &mut [T], _: &cpal::OutputCallbackInfo| {
                let frames = data.len() / channels;
                // Enough 48 kHz samples for this callback at the device's rate; silence where
                // none have arrived (the applicant is quiet, or packets are late).
                let wanted = ((frames.saturating_sub(ready.len())) as f64 * ratio).ceil() as usize + 1;
                taken.clear();
                {
                    let mut buffer = from.lock().expect("not poisoned");
                    let available = buffer.len().min(wanted);
                    taken.extend(buffer.drain(..available).map(|s| f32::from(s) / f32::from(i16::MAX)));
                }
                taken.resize(wanted, 0.0);
                resampler.push(&taken, |s| ready.push_back(s));
                for frame in data.chunks_mut(channels) {
                    let sample = T::from_sample(ready.pop_front().unwrap_or(0.0));
                    frame.fill(sample);
                }
            },
            |e| tracing::warn!("loudspeaker: {e}"),
            None,
        )
        .map_err(|e| device_error("the loudspeaker could not be opened", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, hz: f32, n: usize) -> Vec<f32> {
        (0..n).map(|i| (std::f32::consts::TAU * hz * i as f32 / rate as f32).sin()).collect()
    }

    #[test]
    fn resampling_keeps_the_pitch_and_the_length_across_chunks() {
        for (from, to) in [(44_100, 48_000), (48_000, 44_100), (16_000, 48_000), (48_000, 48_000)] {
            let input = tone(from, 440.0, from as usize);
            let mut resampler = Resampler::new(from, to);
            let mut out = Vec::new();
            for chunk in input.chunks(441) {
                resampler.push(chunk, |s| out.push(s));
            }
            assert!((out.len() as i64 - i64::from(to)).abs() <= 2, "{from}→{to}: {} samples", out.len());
            // Every sample is where a 440 Hz sine at the new rate would be (linear interpolation
            // errs by at most the curve's bend between two input samples).
            let expected = tone(to, 440.0, out.len());
            let worst = out.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(worst < 0.02, "{from}→{to}: off by {worst}");
        }
    }

    #[test]
    fn a_buffer_keeps_only_the_newest_200_ms() {
        let mut buffer: VecDeque<i16> = (0..SAMPLE_RATE as i32).map(|i| i as i16).collect();
        keep_newest(&mut buffer);
        assert_eq!(buffer.len(), MOST_BUFFERED);
        assert_eq!(buffer.back(), Some(&((SAMPLE_RATE - 1) as i16)));
    }
}
