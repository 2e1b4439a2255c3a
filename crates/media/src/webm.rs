//! The call as one file a browser plays: the applicant's VP8 video (as recorded, not
//! re-encoded) and both directions of audio mixed into one Opus track, in WebM with cues so the
//! supervisor's player can jump to any screenshot's moment.
//!
//! The two Ogg files are decoded, placed on the timeline by their granule positions (so gaps
//! stay gaps), summed, and encoded again; the video's times come from the IVF (the sender's
//! RTP clock). Both start when the call's media started.

use crate::audio::{voice_decoder, voice_encoder, MOST_PACKET_SAMPLES};
use crate::recording::{ogg_packets, read_ivf};
use crate::MediaError;

const TRACK_VIDEO: u64 = 1;
const TRACK_AUDIO: u64 = 2;
const SAMPLE_RATE: usize = 48_000;
const FRAME: usize = 960;
/// A new cluster at a keyframe once the current one is this old, and always after the
/// longest span a block's 16-bit relative time allows comfortably.
const CLUSTER_MIN_MS: u64 = 1_000;
const CLUSTER_MAX_MS: u64 = 10_000;

fn codec(what: &str, e: impl std::fmt::Display) -> MediaError {
    MediaError::Codec(format!("{what}: {e}"))
}

/// Mixes the Ogg Opus `audio` files into one mono track of 48 kHz samples.
fn mix(audio: &[&[u8]]) -> Result<Vec<i16>, MediaError> {
    let mut mixed: Vec<i32> = Vec::new();
    for ogg in audio {
        let mut decoder = voice_decoder()?;
        let mut start: Option<u64> = None;
        let mut pcm = [0i16; MOST_PACKET_SAMPLES];
        for (granule_end, packet) in ogg_packets(ogg) {
            let n = decoder.decode(packet, &mut pcm, false).map_err(|e| codec("recorded audio", e))?;
            let end = granule_end as usize;
            let begin = end.saturating_sub(n);
            let origin = *start.get_or_insert(begin as u64) as usize;
            let at = begin.saturating_sub(origin);
            if mixed.len() < at + n {
                mixed.resize(at + n, 0);
            }
            for (slot, s) in mixed[at..at + n].iter_mut().zip(&pcm[..n]) {
                *slot += *s as i32;
            }
        }
    }
    Ok(mixed.into_iter().map(|s| s.clamp(i16::MIN as i32, i16::MAX as i32) as i16).collect())
}

/// One block of the file: its track, time (ms from the start), keyframe flag and data.
struct Block {
    track: u64,
    at_ms: u64,
    keyframe: bool,
    data: Vec<u8>,
}

/// Builds the WebM from the IVF video and the Ogg audio parts.
pub fn mux_call(ivf: &[u8], audio: &[&[u8]]) -> Result<Vec<u8>, MediaError> {
    let (timebase, frames) = read_ivf(ivf)?;
    let timebase = u64::from(timebase.max(1));
    let (width, height) = (u16::from_le_bytes([ivf[12], ivf[13]]), u16::from_le_bytes([ivf[14], ivf[15]]));
    let first_pts = frames.first().map(|(pts, _)| *pts).unwrap_or(0);
    let mut blocks: Vec<Block> = frames
        .iter()
        .map(|(pts, data)| Block {
            track: TRACK_VIDEO,
            at_ms: (pts - first_pts) * 1000 / timebase,
            keyframe: data.first().is_some_and(|b| b & 0x01 == 0),
            data: data.to_vec(),
        })
        .collect();

    let pcm = mix(audio)?;
    let mut encoder = voice_encoder()?;
    let pre_skip = encoder.get_lookahead().map_err(|e| codec("Opus", e))? as u16;
    let mut packet = vec![0u8; 4_000];
    for (i, chunk) in pcm.chunks(FRAME).enumerate() {
        let mut frame = [0i16; FRAME];
        frame[..chunk.len()].copy_from_slice(chunk);
        let n = encoder.encode(&frame, &mut packet).map_err(|e| codec("Opus", e))?;
        blocks.push(Block {
            track: TRACK_AUDIO,
            at_ms: (i * FRAME * 1000 / SAMPLE_RATE) as u64,
            keyframe: true,
            data: packet[..n].to_vec(),
        });
    }
    // Stable: video before audio at the same millisecond.
    blocks.sort_by_key(|b| (b.at_ms, b.track));
    let duration_ms = blocks.last().map(|b| b.at_ms + 20).unwrap_or(0);

    let info = element(
        0x1549A966,
        &[
            uint(0x2AD7B1, 1_000_000), // timecodes in ms
            string(0x4D80, "identdesk"),
            string(0x5741, "identdesk"),
            float(0x4489, duration_ms as f64),
        ]
        .concat(),
    );
    let tracks = element(0x1654AE6B, &[video_track(width, height), audio_track(pre_skip)].concat());

    // Clusters, and a cue for each that starts with a video keyframe.
    let mut clusters = Vec::new();
    let mut cue_times: Vec<(u64, usize)> = Vec::new(); // (time, offset in `clusters`)
    let mut current: Option<(u64, Vec<u8>)> = None;
    for block in &blocks {
        let video_key = block.track == TRACK_VIDEO && block.keyframe;
        let start_new = match &current {
            None => true,
            Some((start, _)) => {
                let age = block.at_ms - start;
                (video_key && age >= CLUSTER_MIN_MS) || age >= CLUSTER_MAX_MS
            }
        };
        if start_new {
            if let Some((start, body)) = current.take() {
                clusters.extend(element(0x1F43B675, &[uint(0xE7, start), body].concat()));
            }
            if video_key {
                cue_times.push((block.at_ms, clusters.len()));
            }
            current = Some((block.at_ms, Vec::new()));
        }
        let (start, body) = current.as_mut().expect("a cluster is open");
        let relative = (block.at_ms - *start) as i16;
        let mut payload = vec![0x80 | block.track as u8];
        payload.extend_from_slice(&relative.to_be_bytes());
        payload.push(if block.keyframe { 0x80 } else { 0x00 });
        payload.extend_from_slice(&block.data);
        body.extend(element(0xA3, &payload));
    }
    if let Some((start, body)) = current.take() {
        clusters.extend(element(0x1F43B675, &[uint(0xE7, start), body].concat()));
    }

    // Layout inside the segment: SeekHead, Info, Tracks, Clusters, Cues. The SeekHead's
    // positions are fixed-width, so its size is known before the positions are.
    let seek_head_len = seek_head(&[(0, 0), (0, 0), (0, 0)]).len();
    let info_at = seek_head_len;
    let tracks_at = info_at + info.len();
    let clusters_at = tracks_at + tracks.len();
    let cues_at = clusters_at + clusters.len();
    let cues = element(
        0x1C53BB6B,
        &cue_times
            .iter()
            .map(|(time, offset)| {
                let position =
                    element(0xB7, &[uint(0xF7, TRACK_VIDEO), uint(0xF1, (clusters_at + offset) as u64)].concat());
                element(0xBB, &[uint(0xB3, *time), position].concat())
            })
            .collect::<Vec<_>>()
            .concat(),
    );
    let seek = seek_head(&[(0x1549A966, info_at), (0x1654AE6B, tracks_at), (0x1C53BB6B, cues_at)]);
    let segment = [seek, info, tracks, clusters, cues].concat();

    let ebml = element(
        0x1A45DFA3,
        &[
            uint(0x4286, 1),
            uint(0x42F7, 1),
            uint(0x42F2, 4),
            uint(0x42F3, 8),
            string(0x4282, "webm"),
            uint(0x4287, 4),
            uint(0x4285, 2),
        ]
        .concat(),
    );
    Ok([ebml, element(0x18538067, &segment)].concat())
}

fn video_track(width: u16, height: u16) -> Vec<u8> {
    let video = element(0xE0, &[uint(0xB0, width as u64), uint(0xBA, height as u64)].concat());
    element(
        0xAE,
        &[uint(0xD7, TRACK_VIDEO), uint(0x73C5, TRACK_VIDEO), uint(0x83, 1), string(0x86, "V_VP8"), video].concat(),
    )
}

fn audio_track(pre_skip: u16) -> Vec<u8> {
    // OpusHead (RFC 7845): version 1, mono, pre-skip, 48 kHz, no gain, mapping family 0.
    let mut head = b"OpusHead".to_vec();
    head.push(1);
    head.push(1);
    head.extend_from_slice(&pre_skip.to_le_bytes());
    head.extend_from_slice(&(SAMPLE_RATE as u32).to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes());
    head.push(0);
    let audio = element(0xE1, &[float(0xB5, SAMPLE_RATE as f64), uint(0x9F, 1)].concat());
    element(
        0xAE,
        &[
            uint(0xD7, TRACK_AUDIO),
            uint(0x73C5, TRACK_AUDIO),
            uint(0x83, 2),
            string(0x86, "A_OPUS"),
            element(0x63A2, &head),
            uint(0x56AA, pre_skip as u64 * 1_000_000_000 / SAMPLE_RATE as u64), // codec delay, ns
            uint(0x56BB, 80_000_000),                                           // seek pre-roll, ns
            audio,
        ]
        .concat(),
    )
}

fn seek_head(entries: &[(u32, usize)]) -> Vec<u8> {
    let seeks: Vec<u8> = entries
        .iter()
        .flat_map(|(id, position)| {
            // 8-byte positions: the head's size does not depend on them.
            let pos = element(0x53AC, &(*position as u64).to_be_bytes());
            element(0x4DBB, &[element(0x53AB, &id_bytes(*id)), pos].concat())
        })
        .collect();
    element(0x114D9B74, &seeks)
}

/// An element ID as written (it carries its own length marker).
fn id_bytes(id: u32) -> Vec<u8> {
    let bytes = id.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    bytes[skip..].to_vec()
}

/// An element: ID, size as an 8-byte variable-length integer, payload.
fn element(id: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = id_bytes(id);
    out.push(0x01);
    out.extend_from_slice(&(payload.len() as u64).to_be_bytes()[1..]);
    out.extend_from_slice(payload);
    out
}

fn uint(id: u32, value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
    element(id, &bytes[skip..])
}

fn float(id: u32, value: f64) -> Vec<u8> {
    element(id, &value.to_be_bytes())
}

fn string(id: u32, value: &str) -> Vec<u8> {
    element(id, value.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_encoded_as_ebml() {
        assert_eq!(id_bytes(0x1A45DFA3), vec![0x1A, 0x45, 0xDF, 0xA3]);
        assert_eq!(id_bytes(0xA3), vec![0xA3]);
        assert_eq!(uint(0xD7, 1), vec![0xD7, 0x01, 0, 0, 0, 0, 0, 0, 1, 1]);
        assert_eq!(uint(0xE7, 0), vec![0xE7, 0x01, 0, 0, 0, 0, 0, 0, 1, 0]);
    }
}
