//! The operator's microphone and loudspeaker through the operating system's audio stack.
//!
//! These need an audio server whose default output loops back into its default input: the test
//! command starts a PulseAudio with one null sink whose monitor is the default source (a clocked
//! device, unlike ALSA's null plugin). What the loudspeaker plays, the microphone hears. Without
//! such a server the tests say why and return, unless `IDENTDESK_REQUIRE_AUDIO` is set (as the
//! test command sets it), when they fail.

use std::time::{Duration, Instant};

use identdesk_media::audio::{AudioSource, FRAME_SAMPLES, SAMPLE_RATE};
use identdesk_media::os_audio::{Loudspeaker, Microphone};
use identdesk_media::synthetic_applicant::SyntheticApplicant;
use identdesk_media::{CallConfig, OperatorCall};

/// The two tests share the one loop-back device.
static DEVICE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn devices() -> Option<(Loudspeaker, Microphone)> {
    let opened = Loudspeaker::open_default().and_then(|speaker| Ok((speaker, Microphone::open_default()?)));
    match opened {
        Ok(devices) => Some(devices),
        Err(e) if std::env::var_os("IDENTDESK_REQUIRE_AUDIO").is_none() => {
            eprintln!("skipped: no audio device to loop back through ({e}); scripts/test starts one");
            None
        }
        Err(e) => panic!("IDENTDESK_REQUIRE_AUDIO is set but the audio devices could not be opened: {e}"),
    }
}

/// 20 ms of a sine at `hz`, continuing from sample `start`.
fn tone(hz: f32, start: usize) -> [i16; FRAME_SAMPLES] {
    std::array::from_fn(|i| {
        let t = (start + i) as f32 / SAMPLE_RATE as f32;
        ((std::f32::consts::TAU * hz * t).sin() * 8000.0) as i16
    })
}

/// The signal's power at `hz` (Goertzel), per sample.
fn power_at(samples: &[i16], hz: f32) -> f64 {
    let w = std::f64::consts::TAU * f64::from(hz) / f64::from(SAMPLE_RATE);
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s = f64::from(x) + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    (s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2) / samples.len().max(1) as f64
}

#[tokio::test]
async fn what_the_loudspeaker_plays_the_microphone_hears_in_real_time() {
    let _device = DEVICE.lock().await;
    let Some((speaker, mut microphone)) = devices() else { return };
    assert!(!speaker.name().is_empty() && !microphone.name().is_empty());
    let started = Instant::now();
    let mut heard = Vec::new();
    let mut first_heard = None;
    let mut counted_from = None;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for n in 0..150 {
        tick.tick().await;
        speaker.play(&tone(440.0, n * FRAME_SAMPLES));
        let mut frame = [0i16; FRAME_SAMPLES];
        microphone.next_frame(&mut frame);
        heard.extend_from_slice(&frame);
        if first_heard.is_none() && power_at(&frame, 440.0) > 1e5 {
            first_heard = Some(started.elapsed());
        }
        if n == 50 {
            counted_from = Some((Instant::now(), microphone.captured_samples()));
        }
    }
    // On the device's clock once running: about 48,000 samples a second, not as fast as the
    // CPU can write (ALSA's null device) nor stalled.
    let (since, before) = counted_from.unwrap();
    let rate = (microphone.captured_samples() - before) as f64 / since.elapsed().as_secs_f64();
    assert!((40_000.0..56_000.0).contains(&rate), "the microphone delivered {rate:.0} samples/s");
    let first_heard = first_heard.expect("the tone reached the microphone");
    // The second half (after the devices' start-up latency) carries the tone, and little else.
    let late = &heard[heard.len() / 2..];
    let (tone_power, other_power) = (power_at(late, 440.0), power_at(late, 1000.0));
    assert!(tone_power > 1e5, "the microphone heard no tone: power {tone_power:.0}");
    assert!(tone_power > 100.0 * other_power, "440 Hz {tone_power:.0} against 1 kHz {other_power:.0}");
    // The level the call screen shows: a tone of amplitude 8000 is about 0.17 of full scale.
    let control = microphone.control();
    assert!((0.1..0.25).contains(&control.level()), "level {}", control.level());
    // Muted, the call gets silence while the level still shows the operator speaking.
    control.set_muted(true);
    for n in 150..160 {
        tick.tick().await;
        speaker.play(&tone(440.0, n * FRAME_SAMPLES));
    }
    let mut frame = [0i16; FRAME_SAMPLES];
    microphone.next_frame(&mut frame);
    assert!(frame.iter().all(|&s| s == 0), "muted, nothing goes out");
    assert!(control.level() > 0.1, "muted, the level still shows the voice: {}", control.level());
    println!(
        "loop-back: {rate:.0} samples/s, first heard after {first_heard:?}, 440 Hz power {tone_power:.0} (1 kHz {other_power:.0})"
    );
}

#[tokio::test]
async fn in_a_call_the_operator_hears_the_applicant_and_the_applicant_hears_the_operator() {
    let _device = DEVICE.lock().await;
    let Some((speaker, microphone)) = devices() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut config = CallConfig::new(dir.path());
    config.loudspeaker = Some(speaker);
    let (applicant, offer) = SyntheticApplicant::offer().await.unwrap();
    let (call, answer) = OperatorCall::answer(&config, &offer, Box::new(microphone)).await.unwrap();
    applicant.accept(&answer).await.unwrap();
    // The applicant speaks (660 Hz) for three seconds. The operator's loudspeaker plays it, and
    // the loop-back device carries it into the operator's microphone, which the call sends
    // back: the applicant hears their own voice only if both devices work within the call.
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let started = Instant::now();
    let mut first_heard = None;
    for n in 0..150 {
        tick.tick().await;
        let _ = applicant.say(&tone(660.0, n * FRAME_SAMPLES)).await;
        if first_heard.is_none() {
            let heard = applicant.heard();
            if heard.len() >= 2 * FRAME_SAMPLES && power_at(&heard[heard.len() - 2 * FRAME_SAMPLES..], 660.0) > 1e5 {
                first_heard = Some(started.elapsed());
            }
        }
    }
    let heard = applicant.heard();
    assert!(heard.len() > SAMPLE_RATE as usize, "the applicant received {} samples of the operator", heard.len());
    let late = &heard[heard.len() / 2..];
    let (voice, tone_440) = (power_at(late, 660.0), power_at(late, 440.0));
    assert!(voice > 1e5, "the applicant did not hear their voice come back: power {voice:.0}");
    assert!(voice > 100.0 * tone_440, "660 Hz {voice:.0} against 440 Hz {tone_440:.0}");
    let files = call.hang_up().await.unwrap();
    assert!(std::fs::metadata(&files.operator_audio).unwrap().len() > 10_000, "the operator's voice is recorded");
    println!("round trip through the operator's loudspeaker and microphone: first heard after {first_heard:?}");
    applicant.close().await.unwrap();
}
