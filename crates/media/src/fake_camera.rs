//! A synthetic identity card as a camera: a picture with what a real card has (a guilloche
//! background, a portrait, a hologram patch, text lines, a machine-readable zone), written as
//! a Y4M video that Chromium plays as its fake camera. Tests compare screenshots against it.

use std::io::Write;
use std::path::Path;

use crate::frame::Rgb;
use crate::MediaError;

/// The card, filling a `width`×`height` frame on a desk-coloured background.
pub fn card(width: u32, height: u32) -> Rgb {
    let (cx0, cy0) = (width / 8, height / 8);
    let (cw, ch) = (width * 3 / 4, height * 3 / 4);
    Rgb::from_fn(width, height, |x, y| {
        if x < cx0 || y < cy0 || x >= cx0 + cw || y >= cy0 + ch {
            // The desk.
            return [70, 60 + (y * 40 / height) as u8, 50];
        }
        let (u, v) = ((x - cx0) as f32 / cw as f32, (y - cy0) as f32 / ch as f32);
        // Portrait on the left.
        if (0.05..0.32).contains(&u) && (0.18..0.78).contains(&v) {
            let (dx, dy) = ((u - 0.185) / 0.1, (v - 0.42) / 0.14);
            return if dx * dx + dy * dy < 1.0 { [214, 170, 140] } else { [120, 140, 170] };
        }
        // The hologram patch: a rainbow disc.
        let (hx, hy) = ((u - 0.85) / 0.08, (v - 0.3) / 0.12);
        if hx * hx + hy * hy < 1.0 {
            let t = (u * 20.0 + v * 12.0).sin();
            return [(180.0 + 60.0 * t) as u8, (200.0 - 50.0 * t) as u8, (150.0 + 90.0 * t.abs()) as u8];
        }
        // Text lines and the MRZ as dark bars.
        let bar = |top: f32, left: f32, len: f32| (top..top + 0.035).contains(&v) && (left..left + len).contains(&u);
        if bar(0.22, 0.38, 0.35) || bar(0.32, 0.38, 0.42) || bar(0.42, 0.38, 0.25) || bar(0.52, 0.38, 0.3) {
            return [30, 40, 70];
        }
        if (0.82..0.86).contains(&v) || (0.9..0.94).contains(&v) {
            // MRZ characters: dark cells with gaps.
            let cell = ((u * 44.0) as u32 + (v * 100.0) as u32) % 3;
            return if cell == 0 || !(0.04..=0.96).contains(&u) { [225, 228, 220] } else { [25, 25, 30] };
        }
        // Guilloche: two interfering sine waves on a pale ground.
        let g = ((u * 60.0 + (v * 9.0).sin() * 3.0).sin() * (v * 50.0 + (u * 7.0).cos() * 3.0).sin()) * 18.0;
        [(214.0 + g) as u8, (226.0 + g * 0.5) as u8, (236.0 - g * 0.3) as u8]
    })
}

/// Writes `frames` frames of `picture` as a Y4M (4:2:0) file at `fps`.
pub fn write_y4m(path: &Path, picture: &Rgb, frames: u32, fps: u32) -> Result<(), MediaError> {
    let yuv = picture.to_i420();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "YUV4MPEG2 W{} H{} F{fps}:1 Ip A1:1 C420jpeg", picture.width, picture.height)?;
    for _ in 0..frames {
        out.write_all(b"FRAME\n")?;
        out.write_all(&yuv.data)?;
    }
    out.flush()?;
    Ok(())
}
