//! Masking: blurring regions of a stored image that the tenant may not keep (a national
//! number, a bystander's face). The regions are pixelated to coarse blocks and then blurred, so
//! what was there cannot be read back; the masked image replaces the original everywhere.

use std::io::Cursor;

use image::{imageops, DynamicImage, GenericImageView, ImageFormat};

use crate::error::{Error, Result};
use crate::media::decode_image;

/// The most regions one request masks.
pub const MAX_REGIONS: usize = 20;

/// A rectangle in the image's pixels, from its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaskRegion {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// `bytes` (PNG or JPEG) with every region masked, as PNG (lossless: the rest of the evidence
/// keeps every pixel), and its width and height.
pub fn mask_regions(bytes: &[u8], regions: &[MaskRegion]) -> Result<(Vec<u8>, u32, u32)> {
    if regions.is_empty() || regions.len() > MAX_REGIONS {
        return Err(Error::InvalidBody(format!("give 1 to {MAX_REGIONS} regions to mask")));
    }
    let (image, _) = decode_image(bytes)?;
    let (w, h) = image.dimensions();
    let mut image = image.into_rgba8();
    for r in regions {
        let fits = r.width > 0
            && r.height > 0
            && r.x.checked_add(r.width).is_some_and(|right| right <= w)
            && r.y.checked_add(r.height).is_some_and(|bottom| bottom <= h);
        if !fits {
            return Err(Error::InvalidBody(format!(
                "region {}×{} at ({}, {}) does not lie within the {w}×{h} image",
                r.width, r.height, r.x, r.y
            )));
        }
        // Blocks of about a twelfth of the region's shorter side, at least 4 pixels: a
        // character becomes one or two flat blocks.
        let block = (r.width.min(r.height) / 12).max(4);
        let area = imageops::crop_imm(&image, r.x, r.y, r.width, r.height).to_image();
        let coarse =
            imageops::resize(&area, r.width.div_ceil(block), r.height.div_ceil(block), imageops::FilterType::Triangle);
        let blocks = imageops::resize(&coarse, r.width, r.height, imageops::FilterType::Nearest);
        let masked = imageops::fast_blur(&blocks, block as f32);
        imageops::replace(&mut image, &masked, i64::from(r.x), i64::from(r.y));
    }
    let mut png = Vec::new();
    DynamicImage::ImageRgba8(image)
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|e| Error::Internal(format!("encoding the masked image: {e}")))?;
    Ok((png, w, h))
}

#[cfg(test)]
mod tests {
    use image::{Rgba, RgbaImage};

    use super::*;

    /// A striped test card: every column alternates black and white, like printed digits.
    fn stripes(w: u32, h: u32) -> Vec<u8> {
        let image = RgbaImage::from_fn(w, h, |x, _| if x % 4 < 2 { Rgba([0, 0, 0, 255]) } else { Rgba([255; 4]) });
        let mut png = Vec::new();
        DynamicImage::ImageRgba8(image).write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        png
    }

    #[test]
    fn the_region_loses_its_detail_and_the_rest_keeps_every_pixel() {
        let original = stripes(200, 100);
        let region = MaskRegion { x: 40, y: 20, width: 96, height: 48 };
        let (masked, w, h) = mask_regions(&original, &[region]).unwrap();
        assert_eq!((w, h), (200, 100));
        let before = image::load_from_memory(&original).unwrap().into_rgba8();
        let after = image::load_from_memory(&masked).unwrap().into_rgba8();
        let inside = |x: u32, y: u32| (40..136).contains(&x) && (20..68).contains(&y);
        let mut changed_outside = 0;
        let mut spread = (255u8, 0u8);
        for (x, y, p) in after.enumerate_pixels() {
            if inside(x, y) {
                spread = (spread.0.min(p[0]), spread.1.max(p[0]));
            } else if p != before.get_pixel(x, y) {
                changed_outside += 1;
            }
        }
        assert_eq!(changed_outside, 0);
        // Stripes of black and white became grey: no pixel in the region is near either.
        assert!(spread.0 > 60 && spread.1 < 195, "values in the region span {spread:?}");
    }

    #[test]
    fn regions_outside_the_image_and_non_images_are_refused() {
        let png = stripes(50, 50);
        let outside = MaskRegion { x: 40, y: 0, width: 20, height: 10 };
        assert!(matches!(mask_regions(&png, &[outside]), Err(Error::InvalidBody(_))));
        let empty = MaskRegion { x: 0, y: 0, width: 0, height: 10 };
        assert!(matches!(mask_regions(&png, &[empty]), Err(Error::InvalidBody(_))));
        assert!(matches!(mask_regions(&png, &[]), Err(Error::InvalidBody(_))));
        assert!(matches!(mask_regions(b"not an image", &[outside]), Err(Error::NotAnImage(_))));
    }
}
