//! Call quality for the operator's screen: bitrate, frame rate, loss, round-trip time, and
//! how long a frame takes from its first packet to decoded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use webrtc::peer_connection::{RTCStatsReport, RTCStatsReportEntry};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallQuality {
    pub video_kbps: f64,
    pub audio_kbps: f64,
    pub frames_per_second: f64,
    /// Share of video packets lost since the last reading (0..1).
    pub loss: f64,
    pub round_trip_ms: Option<f64>,
    pub width: u32,
    pub height: u32,
    pub frames_decoded: u64,
    /// Median time from a frame's first packet to its decoded picture, over the last reading.
    pub packet_to_frame_ms: Option<f64>,
}

#[derive(Default)]
pub struct QualityCounters {
    video_bytes: AtomicU64,
    audio_bytes: AtomicU64,
    video_packets: AtomicU64,
    frames: AtomicU64,
    /// The last decoded picture's size, width in the high half.
    size: AtomicU64,
    highest_seq: Mutex<Option<(u16, u64)>>,
    last: Mutex<Option<Reading>>,
    delays: Mutex<Vec<Duration>>,
}

#[derive(Clone, Copy)]
struct Reading {
    at: Instant,
    video_bytes: u64,
    audio_bytes: u64,
    frames: u64,
    packets: u64,
    expected: u64,
}

impl QualityCounters {
    pub fn video_packet(&self, bytes: usize, seq: u16) {
        self.video_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.video_packets.fetch_add(1, Ordering::Relaxed);
        let mut highest = self.highest_seq.lock().expect("not poisoned");
        // Extended sequence numbers: count how many packets the sender sent.
        *highest = Some(match *highest {
            None => (seq, 1),
            Some((last, expected)) => {
                let delta = seq.wrapping_sub(last);
                if delta > 0 && delta < 0x8000 {
                    (seq, expected + delta as u64)
                } else {
                    (last, expected)
                }
            }
        });
    }

    pub fn audio_packet(&self, bytes: usize) {
        self.audio_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn frame_decoded(&self, packet_to_frame: Duration, width: u32, height: u32) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        self.size.store((width as u64) << 32 | height as u64, Ordering::Relaxed);
        let mut d = self.delays.lock().expect("not poisoned");
        if d.len() < 10_000 {
            d.push(packet_to_frame);
        }
    }

    /// Rates since the previous snapshot.
    pub fn snapshot(&self, report: &RTCStatsReport) -> CallQuality {
        let now = Reading {
            at: Instant::now(),
            video_bytes: self.video_bytes.load(Ordering::Relaxed),
            audio_bytes: self.audio_bytes.load(Ordering::Relaxed),
            frames: self.frames.load(Ordering::Relaxed),
            packets: self.video_packets.load(Ordering::Relaxed),
            expected: self.highest_seq.lock().expect("not poisoned").map(|(_, e)| e).unwrap_or(0),
        };
        let before = self.last.lock().expect("not poisoned").replace(now);
        let (video_kbps, audio_kbps, fps, loss) = match before {
            Some(b) => {
                let secs = now.at.duration_since(b.at).as_secs_f64().max(1e-3);
                let expected = now.expected.saturating_sub(b.expected);
                let got = now.packets.saturating_sub(b.packets);
                (
                    (now.video_bytes - b.video_bytes) as f64 * 8.0 / 1000.0 / secs,
                    (now.audio_bytes - b.audio_bytes) as f64 * 8.0 / 1000.0 / secs,
                    (now.frames - b.frames) as f64 / secs,
                    if expected == 0 { 0.0 } else { expected.saturating_sub(got) as f64 / expected as f64 },
                )
            }
            None => (0.0, 0.0, 0.0, 0.0),
        };
        let mut delays = std::mem::take(&mut *self.delays.lock().expect("not poisoned"));
        delays.sort();
        let packet_to_frame_ms = delays.get(delays.len() / 2).map(|d| d.as_secs_f64() * 1000.0);
        let mut round_trip_ms = None;
        for entry in report.iter() {
            if let RTCStatsReportEntry::IceCandidatePair(pair) = entry {
                if pair.nominated && pair.current_round_trip_time > 0.0 {
                    round_trip_ms = Some(pair.current_round_trip_time * 1000.0);
                }
            }
        }
        let size = self.size.load(Ordering::Relaxed);
        let (width, height) = ((size >> 32) as u32, size as u32);
        CallQuality {
            video_kbps,
            audio_kbps,
            frames_per_second: fps,
            loss,
            round_trip_ms,
            width,
            height,
            frames_decoded: now.frames,
            packet_to_frame_ms,
        }
    }
}
