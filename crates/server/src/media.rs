//! The local media folder: document images, screenshots and recordings, each encrypted under
//! its tenant's data key (`media_keys`). Files are written whole or not at all (temporary
//! file, then rename), so a failed upload leaves nothing.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{ImageFormat, ImageReader, Limits};

use crate::error::{Error, Result};
use crate::media_keys::KeyRing;

#[derive(Clone)]
pub struct MediaStore {
    root: PathBuf,
    keys: KeyRing,
}

/// What decoding an uploaded image found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts {
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Where in the media folder the tenants' wrapped data keys are.
const KEYS_DIR: &str = ".keys";

/// The largest image side we accept, in pixels; larger is treated as a decompression bomb.
const MAX_SIDE: u32 = 12_000;

/// Decodes `bytes` fully; anything that is not a whole PNG or JPEG is refused.
pub fn inspect_image(bytes: &[u8]) -> Result<ImageFacts> {
    let (image, content_type) = decode_image(bytes)?;
    Ok(ImageFacts { content_type, width: image.width(), height: image.height() })
}

/// The image in `bytes` (PNG or JPEG) and its content type, decoded within the size limits.
pub fn decode_image(bytes: &[u8]) -> Result<(image::DynamicImage, &'static str)> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::NotAnImage(format!("the upload could not be read: {e}")))?;
    let content_type = match reader.format() {
        Some(ImageFormat::Png) => "image/png",
        Some(ImageFormat::Jpeg) => "image/jpeg",
        Some(other) => {
            return Err(Error::UnsupportedMediaType(format!("{other:?} images are not accepted; upload a PNG or JPEG")))
        }
        None => return Err(Error::NotAnImage("the upload is not an image (PNG or JPEG expected)".into())),
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    let mut reader = reader;
    reader.limits(limits);
    let image = reader.decode().map_err(|e| Error::NotAnImage(format!("the upload is not a decodable image: {e}")))?;
    Ok((image, content_type))
}

impl MediaStore {
    /// The media folder `root`, its objects encrypted with keys wrapped by the master keys in
    /// `master_key_file` (created with a fresh key when absent). The wrapped data keys live
    /// in `root/.keys`.
    pub fn open(root: impl Into<PathBuf>, master_key_file: &Path) -> Result<MediaStore> {
        let root = root.into();
        let keys = KeyRing::open(master_key_file, &root.join(KEYS_DIR))?;
        Ok(MediaStore { root, keys })
    }

    /// Rotates the master key of the media folder `root` (see `KeyRing::rotate_master`).
    pub fn rotate_master_key(root: &Path, master_key_file: &Path) -> Result<(String, usize)> {
        KeyRing::rotate_master(master_key_file, &root.join(KEYS_DIR))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Stores `bytes` under `tenant/applicant/id` and returns that key.
    pub async fn put(&self, tenant_id: &str, applicant_id: &str, id: &str, bytes: &[u8]) -> Result<String> {
        let key = format!("{tenant_id}/{applicant_id}/{id}");
        let path = self.root.join(&key);
        let dir = path.parent().expect("key has a parent");
        tokio::fs::create_dir_all(dir).await?;
        let sealed = self.keys.seal(tenant_id, &key, bytes)?;
        let tmp = dir.join(format!(".{id}.part"));
        tokio::fs::write(&tmp, sealed).await?;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(key)
    }

    pub async fn get(&self, key: &str) -> Result<Vec<u8>> {
        let sealed = tokio::fs::read(self.root.join(key)).await?;
        let tenant_id = key.split('/').next().unwrap_or_default();
        self.keys.open_sealed(tenant_id, key, &sealed)
    }

    /// The size of an object once decrypted, from the stored file's size alone.
    pub async fn plain_size(&self, key: &str) -> Result<u64> {
        let stored = tokio::fs::metadata(self.root.join(key)).await?.len();
        stored
            .checked_sub(crate::media_keys::SEAL_OVERHEAD)
            .ok_or_else(|| Error::MediaUnreadable(format!("{key} is not an encrypted object")))
    }

    /// Removes a stored object; an object that is already gone is fine.
    pub async fn remove(&self, key: &str) -> Result<()> {
        match tokio::fs::remove_file(self.root.join(key)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}
