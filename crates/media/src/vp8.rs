//! VP8 through libvpx: the decoder for the applicant's video, and an encoder for tests,
//! benchmarks and the fake camera. Only the few libvpx calls we need, wrapped safely.

use std::ptr;

use vpx_sys as vpx;

use crate::frame::I420;
use crate::MediaError;

/// A VP8 decoder. One per incoming video track; not shared between threads.
pub struct Vp8Decoder {
    ctx: vpx::vpx_codec_ctx_t,
}

// The context is only ever used through `&mut self`.
unsafe impl Send for Vp8Decoder {}

impl Vp8Decoder {
    pub fn new() -> Result<Vp8Decoder, MediaError> {
        // SAFETY: a zeroed context is what vpx_codec_dec_init_ver expects to fill in.
        let mut ctx: vpx::vpx_codec_ctx_t = unsafe { std::mem::zeroed() };
        let threads = vpx::vpx_codec_dec_cfg_t { threads: 1, w: 0, h: 0 };
        let err = unsafe {
            vpx::vpx_codec_dec_init_ver(
                &mut ctx,
                vpx::vpx_codec_vp8_dx(),
                &threads,
                0,
                vpx::VPX_DECODER_ABI_VERSION as i32,
            )
        };
        if err != vpx::VPX_CODEC_OK {
            return Err(MediaError::Codec(format!("VP8 decoder did not start ({err:?})")));
        }
        Ok(Vp8Decoder { ctx })
    }

    /// Decodes one whole VP8 frame; `None` when the data held no picture to show.
    pub fn decode(&mut self, data: &[u8]) -> Result<Option<I420>, MediaError> {
        let err = unsafe { vpx::vpx_codec_decode(&mut self.ctx, data.as_ptr(), data.len() as u32, ptr::null_mut(), 0) };
        if err != vpx::VPX_CODEC_OK {
            return Err(MediaError::Codec(format!("VP8 frame could not be decoded ({err:?})")));
        }
        let mut iter: vpx::vpx_codec_iter_t = ptr::null();
        let mut last = None;
        loop {
            let img = unsafe { vpx::vpx_codec_get_frame(&mut self.ctx, &mut iter) };
            if img.is_null() {
                break;
            }
            // SAFETY: libvpx keeps the image valid until the next decode call; we copy it out now.
            last = Some(unsafe { copy_image(&*img) }?);
        }
        Ok(last)
    }
}

impl Drop for Vp8Decoder {
    fn drop(&mut self) {
        unsafe { vpx::vpx_codec_destroy(&mut self.ctx) };
    }
}

unsafe fn copy_image(img: &vpx::vpx_image_t) -> Result<I420, MediaError> {
    if img.fmt != vpx::vpx_img_fmt::VPX_IMG_FMT_I420 {
        return Err(MediaError::Codec(format!("unexpected decoded picture format {:?}", img.fmt)));
    }
    let (w, h) = (img.d_w as usize, img.d_h as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let mut data = Vec::with_capacity(w * h + 2 * cw * ch);
    for (plane, (pw, ph)) in [(0, (w, h)), (1, (cw, ch)), (2, (cw, ch))] {
        let stride = img.stride[plane] as usize;
        let base = img.planes[plane];
        for row in 0..ph {
            let line = std::slice::from_raw_parts(base.add(row * stride), pw);
            data.extend_from_slice(line);
        }
    }
    Ok(I420 { width: w as u32, height: h as u32, data })
}

/// A VP8 encoder for realtime use (the settings a call would use).
pub struct Vp8Encoder {
    ctx: vpx::vpx_codec_ctx_t,
    width: u32,
    height: u32,
    pts: i64,
}

unsafe impl Send for Vp8Encoder {}

impl Vp8Encoder {
    pub fn new(width: u32, height: u32, fps: u32, bitrate_kbps: u32) -> Result<Vp8Encoder, MediaError> {
        let iface = unsafe { vpx::vpx_codec_vp8_cx() };
        // The settings hold C enums, for which all-zero is not a valid value: libvpx fills them.
        let mut cfg = std::mem::MaybeUninit::<vpx::vpx_codec_enc_cfg_t>::uninit();
        let err = unsafe { vpx::vpx_codec_enc_config_default(iface, cfg.as_mut_ptr(), 0) };
        if err != vpx::VPX_CODEC_OK {
            return Err(MediaError::Codec(format!("VP8 encoder has no default settings ({err:?})")));
        }
        // SAFETY: vpx_codec_enc_config_default succeeded, so every field is set.
        let mut cfg = unsafe { cfg.assume_init() };
        cfg.g_w = width;
        cfg.g_h = height;
        cfg.g_timebase = vpx::vpx_rational { num: 1, den: fps as i32 };
        cfg.rc_target_bitrate = bitrate_kbps;
        cfg.g_lag_in_frames = 0;
        cfg.g_error_resilient = 1;
        cfg.kf_max_dist = fps * 3;
        let mut ctx: vpx::vpx_codec_ctx_t = unsafe { std::mem::zeroed() };
        let err = unsafe { vpx::vpx_codec_enc_init_ver(&mut ctx, iface, &cfg, 0, vpx::VPX_ENCODER_ABI_VERSION as i32) };
        if err != vpx::VPX_CODEC_OK {
            return Err(MediaError::Codec(format!("VP8 encoder did not start ({err:?})")));
        }
        Ok(Vp8Encoder { ctx, width, height, pts: 0 })
    }

    /// Encodes one picture (of the encoder's size); returns the compressed frames.
    pub fn encode(&mut self, picture: &I420, keyframe: bool) -> Result<Vec<Vec<u8>>, MediaError> {
        if picture.width != self.width || picture.height != self.height {
            return Err(MediaError::Codec("picture size differs from the encoder's".into()));
        }
        let mut img = std::mem::MaybeUninit::<vpx::vpx_image_t>::uninit();
        // libvpx only reads the picture; the pointer is mutable in its signature alone.
        let data = picture.data.as_ptr() as *mut u8;
        let wrapped = unsafe {
            vpx::vpx_img_wrap(img.as_mut_ptr(), vpx::vpx_img_fmt::VPX_IMG_FMT_I420, self.width, self.height, 1, data)
        };
        if wrapped.is_null() {
            return Err(MediaError::Codec("picture could not be wrapped for the encoder".into()));
        }
        // SAFETY: vpx_img_wrap filled the descriptor.
        let img = unsafe { img.assume_init() };
        let flags = if keyframe { vpx::VPX_EFLAG_FORCE_KF as i64 } else { 0 };
        let err =
            unsafe { vpx::vpx_codec_encode(&mut self.ctx, &img, self.pts, 1, flags, vpx::VPX_DL_REALTIME as u64) };
        self.pts += 1;
        if err != vpx::VPX_CODEC_OK {
            return Err(MediaError::Codec(format!("VP8 picture could not be encoded ({err:?})")));
        }
        let mut out = Vec::new();
        let mut iter: vpx::vpx_codec_iter_t = ptr::null();
        loop {
            let pkt = unsafe { vpx::vpx_codec_get_cx_data(&mut self.ctx, &mut iter) };
            if pkt.is_null() {
                break;
            }
            let pkt = unsafe { &*pkt };
            if pkt.kind == vpx::vpx_codec_cx_pkt_kind::VPX_CODEC_CX_FRAME_PKT {
                let frame = unsafe { pkt.data.frame };
                let bytes = unsafe { std::slice::from_raw_parts(frame.buf as *const u8, frame.sz as usize) };
                out.push(bytes.to_vec());
            }
        }
        Ok(out)
    }
}

impl Drop for Vp8Encoder {
    fn drop(&mut self) {
        unsafe { vpx::vpx_codec_destroy(&mut self.ctx) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Rgb;

    #[test]
    fn a_picture_survives_encode_and_decode() {
        let rgb = Rgb::from_fn(320, 240, |x, y| [(x % 256) as u8, (y % 256) as u8, 128]);
        let source = rgb.to_i420();
        let mut enc = Vp8Encoder::new(320, 240, 30, 2000).unwrap();
        let mut dec = Vp8Decoder::new().unwrap();
        let mut decoded = None;
        for i in 0..5 {
            for packet in enc.encode(&source, i == 0).unwrap() {
                decoded = dec.decode(&packet).unwrap().or(decoded);
            }
        }
        let decoded = decoded.expect("a picture");
        assert_eq!((decoded.width, decoded.height), (320, 240));
        let psnr = crate::frame::psnr(&decoded.to_rgb(), &rgb);
        assert!(psnr > 30.0, "PSNR {psnr:.1} dB");
    }

    #[test]
    fn garbage_is_an_error_not_a_crash() {
        let mut dec = Vp8Decoder::new().unwrap();
        assert!(dec.decode(&[0xff; 64]).is_err());
    }
}
