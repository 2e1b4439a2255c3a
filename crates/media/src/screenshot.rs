//! Screenshots as evidence: the decoded frame at full resolution, lossless (PNG), with its
//! SHA-256 and the time it was taken. What the operator saw is exactly what is kept.

use std::time::{SystemTime, UNIX_EPOCH};

use identdesk_domain::ScreenshotTag;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};
use sha2::{Digest, Sha256};

use crate::frame::Frame;
use crate::MediaError;

#[derive(Debug, Clone)]
pub struct Screenshot {
    pub tag: ScreenshotTag,
    pub png: Vec<u8>,
    /// Lower-case hex SHA-256 of `png`.
    pub sha256: String,
    /// Milliseconds since the Unix epoch when the frame was captured.
    pub captured_at_ms: i64,
    pub width: u32,
    pub height: u32,
    /// The call's frame number, to place the screenshot on the recording's timeline.
    pub frame_number: u64,
}

/// Milliseconds since the Unix epoch: the time evidence carries.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl Screenshot {
    pub fn capture(frame: &Frame, tag: ScreenshotTag) -> Result<Screenshot, MediaError> {
        let captured_at_ms = now_ms();
        let rgb = frame.picture.to_rgb();
        let mut png = Vec::with_capacity(rgb.data.len() / 2);
        // Fast compression: a screenshot must be stored within a blink, and PNG stays lossless.
        PngEncoder::new_with_quality(&mut png, CompressionType::Fast, FilterType::Sub)
            .write_image(&rgb.data, rgb.width, rgb.height, ExtendedColorType::Rgb8)
            .map_err(|e| MediaError::Codec(format!("screenshot could not be encoded: {e}")))?;
        let sha256 = hex::encode(Sha256::digest(&png));
        Ok(Screenshot {
            tag,
            png,
            sha256,
            captured_at_ms,
            width: rgb.width,
            height: rgb.height,
            frame_number: frame.number,
        })
    }
}
