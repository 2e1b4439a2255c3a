//! Image quality of a document photo or selfie: resolution, blur (variance of the Laplacian on
//! a normalised size), glare (share of near-white pixels), darkness, black-and-white copies,
//! and files that are not images or would decode to more pixels than allowed.

use std::io::Cursor;

use identdesk_domain::RejectLabel;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::result::{finding, CheckKind, CheckResult};

mod quarter_jpeg;

/// The thresholds, from the level's configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case", deny_unknown_fields)]
pub struct ImageThresholds {
    /// The shorter side must have at least this many pixels.
    pub min_short_side: u32,
    /// Below this variance of the Laplacian (on the normalised image) the photo is blurred.
    pub min_sharpness: f64,
    /// Above this share of near-white pixels (luma ≥ 250) there is glare.
    pub max_glare_share: f64,
    /// Below this mean luma (0-255) the photo is too dark.
    pub min_mean_luma: f64,
    /// Below this mean colour spread (max − min of R, G, B; 0-255) it is a black-and-white copy.
    pub min_colourfulness: f64,
    /// Files that would decode to more pixels than this are refused unread.
    pub max_pixels: u64,
}

impl Default for ImageThresholds {
    fn default() -> Self {
        ImageThresholds {
            min_short_side: 600,
            min_sharpness: 60.0,
            max_glare_share: 0.08,
            min_mean_luma: 50.0,
            min_colourfulness: 6.0,
            max_pixels: 50_000_000,
        }
    }
}

/// The longer side of the image the measures are taken on, so that they do not depend on the
/// camera's resolution.
pub const NORMALISED_SIDE: u32 = 1024;

/// What was measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageMeasures {
    pub width: u32,
    pub height: u32,
    pub sharpness: f64,
    pub glare_share: f64,
    pub mean_luma: f64,
    pub colourfulness: f64,
}

/// Decodes `bytes` within the pixel limit and measures them.
pub fn check(bytes: &[u8], thresholds: &ImageThresholds) -> CheckResult {
    match decode(bytes, thresholds.max_pixels) {
        Ok(photo) => judge(&measure(&photo), thresholds),
        Err(why) => CheckResult::from_findings(
            CheckKind::ImageQuality,
            vec![finding(RejectLabel::UNSATISFACTORY_PHOTOS, why)],
            String::new(),
            json!({}),
        ),
    }
}

/// A photo as decoded for measuring: its pixels, perhaps reduced, and its size as taken.
pub struct Photo {
    pub pixels: DynamicImage,
    pub width: u32,
    pub height: u32,
}

/// Decodes an image, refusing files that are not images and files whose header announces more
/// pixels than `max_pixels` (a decompression bomb) before allocating them. Large JPEGs are
/// decoded reduced, on up to four cores: see [`decode_on`].
pub fn decode(bytes: &[u8], max_pixels: u64) -> Result<Photo, String> {
    decode_on(bytes, max_pixels, std::thread::available_parallelism().map_or(1, |n| n.get()).min(4))
}

/// [`decode`] with at most `threads` threads. A large baseline JPEG is read at a quarter of its
/// size on those threads ([`quarter_jpeg`]); other large JPEGs at the smallest DCT scale (1/2,
/// 1/4, 1/8) whose longer side is at least `NORMALISED_SIDE`: the measures are taken at that
/// size anyway, and it is several times faster.
pub fn decode_on(bytes: &[u8], max_pixels: u64, threads: usize) -> Result<Photo, String> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("The file could not be read: {e}."))?;
    let Some(format) = reader.format() else {
        return Err("The file is not an image (neither PNG nor JPEG).".into());
    };
    let (width, height) = reader.into_dimensions().map_err(|e| format!("The file is not a readable image: {e}."))?;
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(format!(
            "The image announces {width}×{height} pixels, more than the {max_pixels} allowed; it was not decoded."
        ));
    }
    if format == ImageFormat::Jpeg && width.max(height) > 3 * NORMALISED_SIDE {
        // A quarter is still more than three quarters of NORMALISED_SIDE across.
        if let Some(pixels) = quarter_jpeg::decode(bytes, threads) {
            return Ok(Photo { pixels, width, height });
        }
    }
    if format == ImageFormat::Jpeg && width.max(height) > 2 * NORMALISED_SIDE {
        if let Some(pixels) = reduced_jpeg(bytes, width, height) {
            return Ok(Photo { pixels, width, height });
        }
    }
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| e.to_string())?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(max_pixels * 4 + (1 << 20));
    reader.limits(limits);
    let pixels = reader.decode().map_err(|e| format!("The image could not be decoded: {e}."))?;
    Ok(Photo { pixels, width, height })
}

/// A JPEG decoded at the smallest DCT scale whose longer side is at least `NORMALISED_SIDE`;
/// `None` when that decoder cannot (the caller then decodes it whole).
fn reduced_jpeg(bytes: &[u8], width: u32, height: u32) -> Option<DynamicImage> {
    let longer = width.max(height);
    let wanted = |side: u32| (u64::from(side) * u64::from(NORMALISED_SIDE)).div_ceil(u64::from(longer)) as u16;
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().ok()?;
    let (w, h) = decoder.scale(wanted(width), wanted(height)).ok()?;
    let data = decoder.decode().ok()?;
    let (w, h) = (u32::from(w), u32::from(h));
    match decoder.info()?.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => image::RgbImage::from_raw(w, h, data).map(DynamicImage::ImageRgb8),
        jpeg_decoder::PixelFormat::L8 => image::GrayImage::from_raw(w, h, data).map(DynamicImage::ImageLuma8),
        _ => None,
    }
}

/// Measures in one pass over the pixels. The sharpness is taken on the image averaged down in
/// `k × k` blocks to at most `NORMALISED_SIDE` pixels on the longer side; large images are
/// sampled every `k / 2` pixels, which changes the averages little and the time much.
pub fn measure(photo: &Photo) -> ImageMeasures {
    let (width, height) = (photo.width, photo.height);
    let image = &photo.pixels;
    let converted;
    let rgb = match image.as_rgb8() {
        Some(rgb) => rgb,
        None => {
            converted = image.to_rgb8();
            &converted
        }
    };
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let k = w.max(h).div_ceil(NORMALISED_SIDE as usize).max(1);
    let step = (k / 2).max(1);
    let (bw, bh) = (w.div_ceil(k), h.div_ceil(k));
    let mut sums = vec![0u32; bw * bh];
    let mut counts = vec![0u32; bw * bh];
    let raw = rgb.as_raw();
    // Each sampled column's offset in a row and its block, worked out once rather than per pixel.
    let columns: Vec<(usize, usize)> = (0..w).step_by(step).map(|x| (x * 3, x / k)).collect();
    let (mut luma_sum, mut spread_sum, mut white, mut n) = (0u64, 0u64, 0u64, 0u64);
    for y in (0..h).step_by(step) {
        let row = &raw[y * w * 3..(y + 1) * w * 3];
        let blocks = (y / k) * bw;
        let (sums, counts) = (&mut sums[blocks..blocks + bw], &mut counts[blocks..blocks + bw]);
        for &(at, block) in &columns {
            let (r, g, b) = (row[at], row[at + 1], row[at + 2]);
            // ITU-R BT.601 luma, in integers.
            let y8 = (77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b)) >> 8;
            sums[block] += y8;
            counts[block] += 1;
            luma_sum += u64::from(y8);
            spread_sum += u64::from(r.max(g).max(b) - r.min(g).min(b));
            white += u64::from(y8 >= 250);
            n += 1;
        }
    }
    let small: Vec<u8> = sums.iter().zip(&counts).map(|(&s, &c)| (s / c.max(1)) as u8).collect();
    let n = n.max(1) as f64;
    ImageMeasures {
        width,
        height,
        sharpness: laplacian_variance(&small, bw, bh),
        glare_share: white as f64 / n,
        mean_luma: luma_sum as f64 / n,
        colourfulness: spread_sum as f64 / n,
    }
}

/// The variance of the 4-neighbour Laplacian: sharp edges give large values, blur small ones.
fn laplacian_variance(luma: &[u8], w: usize, h: usize) -> f64 {
    if w < 3 || h < 3 {
        return 0.0;
    }
    let (mut sum, mut sum_sq, mut n) = (0f64, 0f64, 0f64);
    for y in 1..h - 1 {
        let row = y * w;
        for x in 1..w - 1 {
            let i = row + x;
            let v = i32::from(luma[i - 1]) + i32::from(luma[i + 1]) + i32::from(luma[i - w]) + i32::from(luma[i + w])
                - 4 * i32::from(luma[i]);
            let v = f64::from(v);
            sum += v;
            sum_sq += v * v;
            n += 1.0;
        }
    }
    let mean = sum / n;
    sum_sq / n - mean * mean
}

pub fn judge(m: &ImageMeasures, t: &ImageThresholds) -> CheckResult {
    let mut findings = Vec::new();
    let short = m.width.min(m.height);
    if short < t.min_short_side {
        findings.push(finding(
            RejectLabel::LOW_QUALITY,
            format!(
                "The image is {}×{} pixels; its shorter side needs at least {}.",
                m.width, m.height, t.min_short_side
            ),
        ));
    }
    if m.sharpness < t.min_sharpness {
        findings.push(finding(
            RejectLabel::LOW_QUALITY,
            format!("The image is blurred: sharpness {:.1}, at least {:.1} needed.", m.sharpness, t.min_sharpness),
        ));
    }
    if m.glare_share > t.max_glare_share {
        findings.push(finding(
            RejectLabel::UNSATISFACTORY_PHOTOS,
            format!(
                "Glare covers {:.1}% of the image; at most {:.1}% is allowed.",
                m.glare_share * 100.0,
                t.max_glare_share * 100.0
            ),
        ));
    }
    if m.mean_luma < t.min_mean_luma {
        findings.push(finding(
            RejectLabel::UNSATISFACTORY_PHOTOS,
            format!(
                "The image is too dark: mean brightness {:.0} of 255, at least {:.0} needed.",
                m.mean_luma, t.min_mean_luma
            ),
        ));
    }
    if m.colourfulness < t.min_colourfulness {
        findings.push(finding(
            RejectLabel::BLACK_AND_WHITE,
            format!(
                "The image is black and white (colour spread {:.1}, at least {:.1} expected): a copy, not the document.",
                m.colourfulness, t.min_colourfulness
            ),
        ));
    }
    let summary = format!(
        "Image {}×{}, sharpness {:.1}, glare {:.1}%, brightness {:.0}, colour spread {:.1}: within the thresholds.",
        m.width,
        m.height,
        m.sharpness,
        m.glare_share * 100.0,
        m.mean_luma,
        m.colourfulness
    );
    CheckResult::from_findings(CheckKind::ImageQuality, findings, summary, serde_json::to_value(m).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::Outcome;
    use image::{ImageFormat, Rgb, RgbImage};

    /// A colourful, sharp test card: stripes and checks.
    fn card(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let check = ((x / 16 + y / 16) % 2) as u8;
            Rgb([40 + 150 * check, (x % 200) as u8 + 30, (y % 180) as u8 + 40])
        })
    }

    fn png(image: &DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn jpeg(image: &DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    /// PNG's chunk checksum, so that the forged header is otherwise well-formed.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn labels(result: &CheckResult) -> Vec<RejectLabel> {
        result.labels().collect()
    }

    #[test]
    fn a_sharp_colour_photo_passes() {
        let result = check(&png(&DynamicImage::ImageRgb8(card(1200, 800))), &ImageThresholds::default());
        assert_eq!(result.outcome, Outcome::Pass, "{}", result.explanation());
    }

    #[test]
    fn blur_glare_darkness_grey_and_size_are_each_named() {
        let t = ImageThresholds::default();
        let sharp = DynamicImage::ImageRgb8(card(1200, 800));
        let blurred = sharp.blur(6.0);
        let r = check(&png(&blurred), &t);
        assert_eq!(labels(&r), vec![RejectLabel::LOW_QUALITY], "{}", r.explanation());
        assert!(r.explanation().contains("blurred"));

        let mut glare = card(1200, 800);
        for (x, _, p) in glare.enumerate_pixels_mut() {
            if x < 300 {
                *p = Rgb([255, 255, 255]);
            }
        }
        let r = check(&png(&DynamicImage::ImageRgb8(glare)), &t);
        assert_eq!(labels(&r), vec![RejectLabel::UNSATISFACTORY_PHOTOS]);
        assert!(r.explanation().contains("Glare covers 25.0%"), "{}", r.explanation());

        let dark = DynamicImage::ImageRgb8(card(1200, 800)).brighten(-110);
        assert!(labels(&check(&png(&dark), &t)).contains(&RejectLabel::UNSATISFACTORY_PHOTOS));

        let grey = DynamicImage::ImageLuma8(sharp.to_luma8());
        assert_eq!(labels(&check(&png(&grey), &t)), vec![RejectLabel::BLACK_AND_WHITE]);

        let small = DynamicImage::ImageRgb8(card(400, 300));
        let r = check(&png(&small), &t);
        assert!(r.explanation().contains("400×300"), "{}", r.explanation());
    }

    #[test]
    fn a_large_jpeg_is_measured_reduced_and_reported_at_its_size() {
        let t = ImageThresholds::default();
        let sharp = DynamicImage::ImageRgb8(card(3000, 2000));
        let photo = decode(&jpeg(&sharp), t.max_pixels).unwrap();
        assert_eq!((photo.width, photo.height), (3000, 2000));
        assert!(photo.pixels.width() < 3000 && photo.pixels.width() >= NORMALISED_SIDE, "decoded reduced");
        let r = check(&jpeg(&sharp), &t);
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.explanation());
        assert!(r.summary.contains("3000×2000"), "{}", r.summary);
        let r = check(&jpeg(&sharp.fast_blur(16.0)), &t);
        assert_eq!(labels(&r), vec![RejectLabel::LOW_QUALITY], "{}", r.explanation());
    }

    #[test]
    fn a_twelve_megapixel_jpeg_read_at_a_quarter_measures_as_the_whole_picture_does() {
        let t = ImageThresholds::default();
        let scene = DynamicImage::ImageRgb8(RgbImage::from_fn(4000, 3000, |x, y| {
            let check = ((x / 50 + y / 70) % 2) as u8;
            Rgb([30 + 170 * check, (x / 20) as u8, ((x + 2 * y) / 40) as u8])
        }));
        for picture in [scene.clone(), scene.fast_blur(12.0)] {
            let bytes = jpeg(&picture);
            let quarter = decode(&bytes, t.max_pixels).unwrap();
            assert_eq!((quarter.pixels.width(), quarter.pixels.height()), (1000, 750), "read at a quarter");
            let whole = image::load_from_memory(&bytes).unwrap();
            let (fast, full) = (measure(&quarter), measure(&Photo { pixels: whole, width: 4000, height: 3000 }));
            assert_eq!((fast.width, fast.height), (4000, 3000));
            // Within 10 %; on the blurred photo (sharpness near 8, the threshold 60) within 5 points,
            // where JPEG's own block noise is most of what is left to measure.
            let tolerance = (0.1 * full.sharpness).max(5.0);
            assert!((fast.sharpness - full.sharpness).abs() < tolerance, "{} vs {}", fast.sharpness, full.sharpness);
            assert!((fast.mean_luma - full.mean_luma).abs() < 1.0, "{} vs {}", fast.mean_luma, full.mean_luma);
            // Averaging narrows the colour spread a little (a mean of red and blue is less colourful).
            let colour = fast.colourfulness / full.colourfulness;
            assert!((0.95..=1.0).contains(&colour), "{} vs {}", fast.colourfulness, full.colourfulness);
            assert!((fast.glare_share - full.glare_share).abs() < 0.005);
        }
        assert_eq!(check(&jpeg(&scene), &t).outcome, Outcome::Pass);
        assert_eq!(labels(&check(&jpeg(&scene.fast_blur(12.0)), &t)), vec![RejectLabel::LOW_QUALITY]);
    }

    #[test]
    fn not_an_image_and_a_bomb_are_refused_with_a_reason() {
        let t = ImageThresholds::default();
        let r = check(b"%PDF-1.7 not an image", &t);
        assert_eq!(labels(&r), vec![RejectLabel::UNSATISFACTORY_PHOTOS]);
        assert!(r.explanation().contains("not an image"), "{}", r.explanation());

        // A PNG header announcing 100,000 × 100,000 pixels.
        let mut bomb = png(&DynamicImage::ImageRgb8(card(8, 8)));
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        let r = check(&bomb, &t);
        assert!(r.explanation().contains("100000×100000"), "{}", r.explanation());
    }
}
