//! The local media folder: document images and, later, screenshots and recordings. Files are
//! written whole or not at all (temporary file, then rename), so a failed upload leaves nothing.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{ImageFormat, ImageReader, Limits};

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct MediaStore {
    root: PathBuf,
}

/// What decoding an uploaded image found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts {
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// The largest image side we accept, in pixels; larger is treated as a decompression bomb.
const MAX_SIDE: u32 = 12_000;

/// Decodes `bytes` fully; anything that is not a whole PNG or JPEG is refused.
pub fn inspect_image(bytes: &[u8]) -> Result<ImageFacts> {
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
    Ok(ImageFacts { content_type, width: image.width(), height: image.height() })
}

impl MediaStore {
    pub fn new(root: impl Into<PathBuf>) -> MediaStore {
        MediaStore { root: root.into() }
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
        let tmp = dir.join(format!(".{id}.part"));
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(key)
    }

    pub async fn get(&self, key: &str) -> Result<Vec<u8>> {
        Ok(tokio::fs::read(self.root.join(key)).await?)
    }

    /// Removes a stored object; an object that is already gone is fine.
    pub async fn remove(&self, key: &str) -> Result<()> {
        match tokio::fs::remove_file(self.root.join(key)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}
