//! The call recording: the applicant's video (VP8 in IVF, timed by the sender's RTP clock), the
//! applicant's audio and the operator's audio (Opus in Ogg). Each file is written as the call
//! runs, so a crash loses at most the last frames; `finish` closes them and reports durations.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rtc::media::io::ogg_writer::OggWriter;
use rtc::media::io::Writer;

use crate::MediaError;

/// The recording's file names in the call's folder.
pub const APPLICANT_VIDEO: &str = "applicant-video.ivf";
pub const APPLICANT_AUDIO: &str = "applicant-audio.ogg";
pub const OPERATOR_AUDIO: &str = "operator-audio.ogg";

/// The files of one recorded call.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingFiles {
    pub applicant_video: PathBuf,
    pub applicant_audio: PathBuf,
    pub operator_audio: PathBuf,
    pub video_frames: u64,
    /// From the first to the last video frame, by the sender's clock.
    pub video_duration_ms: u64,
    /// When the first video frame was recorded (ms since the epoch): the recording's origin.
    pub started_at_ms: Option<i64>,
}

/// VP8 frames into an IVF file with a 90 kHz timebase (the RTP clock), so frame times are
/// the sender's, not a guessed frame rate.
pub struct IvfRecorder {
    out: BufWriter<File>,
    frames: u32,
    first_rtp: Option<u32>,
    started_at_ms: Option<i64>,
    last_pts: u64,
    width: u16,
    height: u16,
}

impl IvfRecorder {
    pub fn create(path: &Path) -> Result<IvfRecorder, MediaError> {
        let mut out = BufWriter::new(File::create(path)?);
        out.write_all(&ivf_header(0, 0, 0))?;
        Ok(IvfRecorder { out, frames: 0, first_rtp: None, started_at_ms: None, last_pts: 0, width: 0, height: 0 })
    }

    pub fn write_frame(&mut self, rtp_timestamp: u32, data: &[u8], width: u32, height: u32) -> Result<(), MediaError> {
        let first = *self.first_rtp.get_or_insert(rtp_timestamp);
        self.started_at_ms.get_or_insert_with(crate::screenshot::now_ms);
        let pts = rtp_timestamp.wrapping_sub(first) as u64;
        self.last_pts = pts;
        self.width = width as u16;
        self.height = height as u16;
        self.out.write_all(&(data.len() as u32).to_le_bytes())?;
        self.out.write_all(&pts.to_le_bytes())?;
        self.out.write_all(data)?;
        self.frames += 1;
        Ok(())
    }

    /// Writes the final header (size and frame count) and returns (frames, duration in ms,
    /// when the first frame was recorded).
    pub fn finish(mut self) -> Result<(u64, u64, Option<i64>), MediaError> {
        self.out.flush()?;
        let mut file = self.out.into_inner().map_err(|e| MediaError::Io(e.into_error()))?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&ivf_header(self.width, self.height, self.frames))?;
        file.sync_all()?;
        Ok((self.frames as u64, self.last_pts / 90, self.started_at_ms))
    }
}

fn ivf_header(width: u16, height: u16, frames: u32) -> [u8; 32] {
    let mut h = [0u8; 32];
    h[0..4].copy_from_slice(b"DKIF");
    h[6..8].copy_from_slice(&32u16.to_le_bytes());
    h[8..12].copy_from_slice(b"VP80");
    h[12..14].copy_from_slice(&width.to_le_bytes());
    h[14..16].copy_from_slice(&height.to_le_bytes());
    // Timebase 1/90000: the RTP video clock.
    h[16..20].copy_from_slice(&90_000u32.to_le_bytes());
    h[20..24].copy_from_slice(&1u32.to_le_bytes());
    h[24..28].copy_from_slice(&frames.to_le_bytes());
    h
}

/// One frame of an IVF file: its time stamp (in the file's timebase) and compressed data.
pub type IvfFrame<'a> = (u64, &'a [u8]);

/// Reads an IVF file's frames, with the timebase's denominator: for playback, checks and
/// benchmarks.
pub fn read_ivf(bytes: &[u8]) -> Result<(u32, Vec<IvfFrame<'_>>), MediaError> {
    if bytes.len() < 32 || &bytes[0..4] != b"DKIF" {
        return Err(MediaError::Codec("not an IVF file".into()));
    }
    let timebase_den = u32::from_le_bytes(bytes[16..20].try_into().expect("4 bytes"));
    let mut frames = Vec::new();
    let mut at = 32;
    while at + 12 <= bytes.len() {
        let size = u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        let pts = u64::from_le_bytes(bytes[at + 4..at + 12].try_into().expect("8 bytes"));
        let end = at + 12 + size;
        if end > bytes.len() {
            return Err(MediaError::Codec("IVF file ends inside a frame".into()));
        }
        frames.push((pts, &bytes[at + 12..end]));
        at = end;
    }
    Ok((timebase_den, frames))
}

/// Decodes every frame of an IVF recording; returns (pictures decoded, duration in ms from the
/// first to the last frame). What a supervisor's player would show, checked without one.
pub fn decode_ivf(bytes: &[u8]) -> Result<(u64, u64), MediaError> {
    let (timebase, frames) = read_ivf(bytes)?;
    let mut decoder = crate::vp8::Vp8Decoder::new()?;
    let mut pictures = 0;
    for (_, data) in &frames {
        if decoder.decode(data)?.is_some() {
            pictures += 1;
        }
    }
    let span = match (frames.first(), frames.last()) {
        (Some((first, _)), Some((last, _))) => last - first,
        _ => 0,
    };
    Ok((pictures, span * 1000 / u64::from(timebase.max(1))))
}

/// Opus packets into an Ogg file.
pub struct OpusRecorder {
    writer: OggWriter<BufWriter<File>>,
}

impl OpusRecorder {
    pub fn create(path: &Path) -> Result<OpusRecorder, MediaError> {
        let writer = OggWriter::new(BufWriter::new(File::create(path)?), 48_000, 2)
            .map_err(|e| MediaError::Codec(format!("Ogg file could not be started: {e}")))?;
        Ok(OpusRecorder { writer })
    }

    pub fn write_packet(&mut self, packet: &rtc::rtp::Packet) -> Result<(), MediaError> {
        self.writer.write_rtp(packet).map_err(|e| MediaError::Codec(format!("audio could not be recorded: {e}")))
    }

    pub fn finish(mut self) -> Result<(), MediaError> {
        self.writer.close().map_err(|e| MediaError::Codec(format!("audio recording could not be closed: {e}")))
    }
}

/// The pages of an Ogg file: (granule position, packets completed on the page). Stops at the
/// first thing that is not a page.
fn ogg_pages(bytes: &[u8]) -> Vec<(u64, Vec<&[u8]>)> {
    let mut pages = Vec::new();
    let mut at = 0;
    while at + 27 <= bytes.len() && &bytes[at..at + 4] == b"OggS" {
        let granule = u64::from_le_bytes(bytes[at + 6..at + 14].try_into().expect("8 bytes"));
        let segments = bytes[at + 26] as usize;
        let Some(table) = bytes.get(at + 27..at + 27 + segments) else { break };
        let mut packets = Vec::new();
        let mut start = at + 27 + segments;
        let mut len = 0;
        for &lace in table {
            len += lace as usize;
            // A lace under 255 ends a packet (RFC 3533).
            if lace < 255 {
                let Some(packet) = bytes.get(start..start + len) else { return pages };
                packets.push(packet);
                start += len;
                len = 0;
            }
        }
        at = start + len;
        pages.push((granule, packets));
    }
    pages
}

/// The audio packets of an Ogg Opus file, each with its page's granule position (the sample,
/// at 48 kHz, where it ends): our recorder writes one packet per page. Headers are left out.
pub fn ogg_packets(bytes: &[u8]) -> Vec<(u64, &[u8])> {
    ogg_pages(bytes)
        .into_iter()
        .flat_map(|(granule, packets)| packets.into_iter().map(move |p| (granule, p)))
        .filter(|(_, p)| !p.starts_with(b"OpusHead") && !p.starts_with(b"OpusTags"))
        .collect()
}

/// The duration of an Ogg Opus file in ms, from its last granule position (48 kHz).
pub fn ogg_duration_ms(bytes: &[u8]) -> Option<u64> {
    if !bytes.starts_with(b"OggS") {
        return None;
    }
    ogg_pages(bytes).iter().rev().map(|(g, _)| *g).find(|g| *g != 0 && *g != u64::MAX).map(|g| g / 48)
}
