//! Pictures: decoded video as I420 (what the codec gives), RGB for screens and screenshots, the
//! conversion between them (BT.601, limited range: what browsers send from a camera), and PSNR
//! to say how close two pictures are.

use std::time::Instant;

/// A planar YUV 4:2:0 picture: the Y plane, then U, then V, each tightly packed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct I420 {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

/// An 8-bit RGB picture, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

/// A decoded frame of the call, with when it arrived and was decoded.
#[derive(Debug, Clone)]
pub struct Frame {
    pub picture: I420,
    /// The RTP timestamp (90 kHz) the sender gave the frame.
    pub rtp_timestamp: u32,
    /// When the frame's first packet arrived.
    pub received_at: Instant,
    pub decoded_at: Instant,
    /// Counts frames since the call started.
    pub number: u64,
}

fn clamp(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

impl I420 {
    fn chroma_size(&self) -> (usize, usize) {
        ((self.width as usize).div_ceil(2), (self.height as usize).div_ceil(2))
    }

    pub fn planes(&self) -> (&[u8], &[u8], &[u8]) {
        let ysize = self.width as usize * self.height as usize;
        let (cw, ch) = self.chroma_size();
        let csize = cw * ch;
        (&self.data[..ysize], &self.data[ysize..ysize + csize], &self.data[ysize + csize..ysize + 2 * csize])
    }

    pub fn to_rgb(&self) -> Rgb {
        let (w, h) = (self.width as usize, self.height as usize);
        let (cw, _) = self.chroma_size();
        let (yp, up, vp) = self.planes();
        let mut data = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let c = (y / 2) * cw + x / 2;
                let luma = 1.164 * (yp[y * w + x] as f32 - 16.0);
                let u = up[c] as f32 - 128.0;
                let v = vp[c] as f32 - 128.0;
                data.push(clamp(luma + 1.596 * v));
                data.push(clamp(luma - 0.392 * u - 0.813 * v));
                data.push(clamp(luma + 2.017 * u));
            }
        }
        Rgb { width: self.width, height: self.height, data }
    }
}

impl Rgb {
    pub fn from_fn(width: u32, height: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Rgb {
        let mut data = Vec::with_capacity((width * height * 3) as usize);
        for y in 0..height {
            for x in 0..width {
                data.extend_from_slice(&f(x, y));
            }
        }
        Rgb { width, height, data }
    }

    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = ((y * self.width + x) * 3) as usize;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    pub fn to_i420(&self) -> I420 {
        let (w, h) = (self.width as usize, self.height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let mut data = vec![0u8; w * h + 2 * cw * ch];
        for y in 0..h {
            for x in 0..w {
                let [r, g, b] = self.pixel(x as u32, y as u32).map(f32::from);
                data[y * w + x] = clamp(16.0 + 0.257 * r + 0.504 * g + 0.098 * b);
            }
        }
        for cy in 0..ch {
            for cx in 0..cw {
                // The average of the 2x2 block the chroma sample covers.
                let (mut r, mut g, mut b, mut n) = (0.0, 0.0, 0.0, 0.0);
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let (x, y) = (cx * 2 + dx, cy * 2 + dy);
                    if x < w && y < h {
                        let [pr, pg, pb] = self.pixel(x as u32, y as u32).map(f32::from);
                        (r, g, b, n) = (r + pr, g + pg, b + pb, n + 1.0);
                    }
                }
                let (r, g, b) = (r / n, g / n, b / n);
                data[w * h + cy * cw + cx] = clamp(128.0 - 0.148 * r - 0.291 * g + 0.439 * b);
                data[w * h + cw * ch + cy * cw + cx] = clamp(128.0 + 0.439 * r - 0.368 * g - 0.071 * b);
            }
        }
        I420 { width: self.width, height: self.height, data }
    }

    pub fn into_image(self) -> image::RgbImage {
        image::RgbImage::from_raw(self.width, self.height, self.data).expect("buffer matches its size")
    }

    pub fn from_image(img: &image::RgbImage) -> Rgb {
        Rgb { width: img.width(), height: img.height(), data: img.as_raw().clone() }
    }
}

/// Peak signal-to-noise ratio of `a` against `b` over the RGB channels, in dB; pictures of
/// different sizes compare over their common top-left area. Identical pictures give infinity.
pub fn psnr(a: &Rgb, b: &Rgb) -> f64 {
    let (w, h) = (a.width.min(b.width), a.height.min(b.height));
    let mut sum = 0f64;
    for y in 0..h {
        for x in 0..w {
            let (p, q) = (a.pixel(x, y), b.pixel(x, y));
            for c in 0..3 {
                let d = p[c] as f64 - q[c] as f64;
                sum += d * d;
            }
        }
    }
    let mse = sum / (w as f64 * h as f64 * 3.0);
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

/// The best PSNR of `a` against `b` with `a` shifted by up to `max_shift` pixels each way,
/// compared over the area both cover; returns (dB, dx, dy).
pub fn aligned_psnr(a: &Rgb, b: &Rgb, max_shift: i32) -> (f64, i32, i32) {
    let mut best = (f64::MIN, 0, 0);
    let m = max_shift;
    for dy in -m..=m {
        for dx in -m..=m {
            let (w, h) = (a.width.min(b.width) as i32 - 2 * m, a.height.min(b.height) as i32 - 2 * m);
            let mut sum = 0f64;
            for y in (m..m + h).step_by(2) {
                for x in (m..m + w).step_by(2) {
                    let p = a.pixel((x + dx) as u32, (y + dy) as u32);
                    let q = b.pixel(x as u32, y as u32);
                    for c in 0..3 {
                        let d = p[c] as f64 - q[c] as f64;
                        sum += d * d;
                    }
                }
            }
            let n = ((w as f64) / 2.0).ceil() * ((h as f64) / 2.0).ceil() * 3.0;
            let mse = sum / n;
            let db = if mse == 0.0 { f64::INFINITY } else { 10.0 * (255.0f64 * 255.0 / mse).log10() };
            if db > best.0 {
                best = (db, dx, dy);
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgb_to_i420_and_back_is_close() {
        let rgb = Rgb::from_fn(64, 48, |x, y| [(x * 4) as u8, (y * 5) as u8, 200]);
        let back = rgb.to_i420().to_rgb();
        assert!(psnr(&back, &rgb) > 38.0, "{}", psnr(&back, &rgb));
    }
}
