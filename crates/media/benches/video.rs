//! The video path's figures, printed (medians over repeated runs; this machine is noisy):
//!   - answer to first decoded frame, over loopback (goal ≤ 1 s);
//!   - decode cost per 1280×720 VP8 frame and the CPU share at 30 fps (goal ≤ 25% of a core);
//!   - screenshot capture (PNG + SHA-256) at 1280×720, before upload (goal ≤ 150 ms to stored;
//!     the end-to-end test prints the full capture-to-stored time through the server);
//!   - packet to decoded frame, sender's hand-off to the decoded picture, p50/p95 (goal p95 ≤ 50 ms).
//!
//! `cargo bench -p identdesk-media --bench video`

use std::time::{Duration, Instant};

use identdesk_domain::ScreenshotTag;
use identdesk_media::audio::Tone;
use identdesk_media::call::wait_for_event;
use identdesk_media::fake_camera::card;
use identdesk_media::synthetic_applicant::SyntheticApplicant;
use identdesk_media::vp8::{Vp8Decoder, Vp8Encoder};
use identdesk_media::{CallConfig, CallEvent, Frame, OperatorCall, Rgb, Screenshot};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    assert!(!v.is_empty(), "no frames were decoded");
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// 1280×720 frames of the card with a moving band, so every frame carries new content.
fn encoded_frames(n: usize) -> Vec<Vec<u8>> {
    let base = card(1280, 720);
    let mut enc = Vp8Encoder::new(1280, 720, 30, 2500).unwrap();
    (0..n)
        .map(|i| {
            let mut rgb: Rgb = base.clone();
            let band = (i * 24) % 720;
            for y in band..(band + 16).min(720) {
                for x in 0..1280 {
                    let at = (y * 1280 + x) * 3;
                    rgb.data[at] = 255 - rgb.data[at];
                }
            }
            enc.encode(&rgb.to_i420(), i % 90 == 0).unwrap().concat()
        })
        .collect()
}

fn decode_cost(frames: &[Vec<u8>]) -> f64 {
    let mut runs = Vec::new();
    for _ in 0..5 {
        let mut dec = Vp8Decoder::new().unwrap();
        let started = Instant::now();
        for f in frames {
            dec.decode(f).unwrap();
        }
        runs.push(started.elapsed().as_secs_f64() * 1000.0 / frames.len() as f64);
    }
    median(&mut runs)
}

fn screenshot_cost(frames: &[Vec<u8>]) -> f64 {
    let mut dec = Vp8Decoder::new().unwrap();
    let picture = frames.iter().filter_map(|f| dec.decode(f).unwrap()).last().unwrap();
    let frame = Frame { picture, rtp_timestamp: 0, received_at: Instant::now(), decoded_at: Instant::now(), number: 1 };
    let mut runs: Vec<f64> = (0..15)
        .map(|_| {
            let started = Instant::now();
            let shot = Screenshot::capture(&frame, ScreenshotTag::IdFront).unwrap();
            std::hint::black_box(shot.sha256);
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    median(&mut runs)
}

async fn call_figures(frames: &[Vec<u8>]) -> (f64, Vec<f64>) {
    let dir = tempfile::tempdir().unwrap();
    let (applicant, offer) = SyntheticApplicant::offer().await.unwrap();
    let (mut call, answer) =
        OperatorCall::answer(&CallConfig::new(dir.path()), &offer, Box::new(Tone::new(440.0))).await.unwrap();
    let answered = Instant::now();
    applicant.accept(&answer).await.unwrap();
    let mut events = call.take_events().unwrap();
    let mut frames_rx = call.frames();
    // The synthetic sender does not answer keyframe requests: it starts once the call is up,
    // with a keyframe, as a browser's encoder would after connecting.
    let connected =
        wait_for_event(&mut events, |e| *e == CallEvent::Connected, Duration::from_secs(10)).await.is_some();
    assert!(connected, "the loopback call connected");
    let sender = tokio::spawn({
        let frames = frames.to_vec();
        async move {
            let mut sent = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_millis(33));
            for f in frames {
                tick.tick().await;
                sent.push(applicant.send_frame(f, Duration::from_millis(33)).await.unwrap());
            }
            applicant.close().await.unwrap();
            sent
        }
    });
    let mut first = None;
    let mut decoded = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && decoded.len() < frames.len() {
        tokio::select! {
            e = events.recv() => if let Some(CallEvent::FirstFrame { .. }) = e { first.get_or_insert(answered.elapsed()); },
            changed = frames_rx.changed() => {
                if changed.is_err() { break; }
                if let Some(f) = frames_rx.borrow_and_update().clone() { decoded.push((f.number, f.decoded_at)); }
            }
            _ = tokio::time::sleep(Duration::from_secs(2)) => break,
        }
    }
    let sent = sender.await.unwrap();
    let latencies = decoded
        .iter()
        .filter_map(|(n, at)| sent.get(*n as usize).map(|s| at.duration_since(*s).as_secs_f64() * 1000.0))
        .collect();
    call.hang_up().await.unwrap();
    (first.map(|d| d.as_secs_f64() * 1000.0).unwrap_or(f64::NAN), latencies)
}

fn main() {
    let frames = encoded_frames(150);
    let decode_ms = decode_cost(&frames);
    println!(
        "decode 1280x720 VP8: median {decode_ms:.2} ms per frame; at 30 fps {:.1}% of one core (goal <= 25%)",
        decode_ms * 30.0 / 10.0
    );
    let shot_ms = screenshot_cost(&frames);
    println!("screenshot 1280x720 (I420 to RGB, PNG, SHA-256): median {shot_ms:.1} ms (goal <= 150 ms to stored, upload not included)");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut firsts = Vec::new();
    let mut all_latencies = Vec::new();
    for _ in 0..3 {
        let (first, mut latencies) = runtime.block_on(call_figures(&frames));
        firsts.push(first);
        all_latencies.append(&mut latencies);
    }
    println!(
        "answer to first decoded frame (loopback): median {:.0} ms over {} calls (goal <= 1000 ms)",
        median(&mut firsts),
        firsts.len()
    );
    println!(
        "sender hand-off to decoded frame: p50 {:.1} ms, p95 {:.1} ms over {} frames (goal p95 <= 50 ms)",
        percentile(&mut all_latencies, 0.5),
        percentile(&mut all_latencies, 0.95),
        all_latencies.len()
    );
}
