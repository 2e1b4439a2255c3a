//! Portability: one applicant's data as one tar archive, `applicant.json` first and then every
//! media object decrypted, streamed one object at a time. Its length is known before the first
//! byte (tar pads each entry to 512 bytes and the media's plain sizes follow from the stored
//! ones), so the answer carries `Content-Length` and any client shows the progress of a large
//! export; a download cut short is visible as such.

use axum::body::{Body, Bytes};
use futures_util::stream;

use crate::error::{Error, Result};
use crate::media::MediaStore;
use crate::store::export::ExportFile;
use crate::store::Store;

const BLOCK: u64 = 512;

/// An archive ready to stream.
pub struct Archive {
    /// Bytes in all.
    pub len: u64,
    pub files: usize,
    pub body: Body,
}

enum Entry {
    Json(Vec<u8>),
    Media { file: ExportFile, size: u64 },
}

impl Entry {
    fn name(&self) -> &str {
        match self {
            Entry::Json(_) => "applicant.json",
            Entry::Media { file, .. } => &file.name,
        }
    }

    fn size(&self) -> u64 {
        match self {
            Entry::Json(bytes) => bytes.len() as u64,
            Entry::Media { size, .. } => *size,
        }
    }
}

/// The applicant's archive; `NotFound` if the applicant is not the tenant's.
pub async fn applicant_archive(
    store: &Store,
    media: &MediaStore,
    tenant_id: &str,
    applicant_id: &str,
) -> Result<Archive> {
    let export = store.applicant_export(tenant_id, applicant_id).await?;
    let json = serde_json::to_vec_pretty(&export.data).map_err(|e| Error::Internal(format!("export JSON: {e}")))?;
    let mut entries = vec![Entry::Json(json)];
    for file in export.files {
        let size = media.plain_size(&file.storage_key).await?;
        entries.push(Entry::Media { file, size });
    }
    let len = entries.iter().map(|e| BLOCK + padded(e.size())).sum::<u64>() + 2 * BLOCK;
    let files = entries.len();
    let media = media.clone();
    let body = stream::unfold((entries.into_iter(), false), move |(mut rest, ended)| {
        let media = media.clone();
        async move {
            let Some(entry) = rest.next() else {
                // Two empty blocks end a tar archive.
                return (!ended)
                    .then(|| (Ok::<Bytes, Error>(Bytes::from(vec![0u8; 2 * BLOCK as usize])), (rest, true)));
            };
            let chunk = entry_bytes(&media, entry).await;
            Some((chunk, (rest, false)))
        }
    });
    Ok(Archive { len, files, body: Body::from_stream(body) })
}

/// One entry: its header, its content, its padding.
async fn entry_bytes(media: &MediaStore, entry: Entry) -> Result<Bytes> {
    let header = header(entry.name(), entry.size())?;
    let content = match entry {
        Entry::Json(bytes) => bytes,
        Entry::Media { file, size } => {
            let bytes = media.get(&file.storage_key).await?;
            if bytes.len() as u64 != size {
                return Err(Error::MediaUnreadable(format!("{} changed during the export", file.name)));
            }
            bytes
        }
    };
    let mut out = Vec::with_capacity(BLOCK as usize + padded(content.len() as u64) as usize);
    out.extend_from_slice(&header);
    out.extend_from_slice(&content);
    out.resize(out.len() + (padded(content.len() as u64) - content.len() as u64) as usize, 0);
    Ok(Bytes::from(out))
}

fn padded(size: u64) -> u64 {
    size.div_ceil(BLOCK) * BLOCK
}

/// A POSIX ustar header for a regular file.
fn header(name: &str, size: u64) -> Result<[u8; 512]> {
    if name.len() > 100 {
        return Err(Error::Internal(format!("archive name too long: {name}")));
    }
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    let mut octal = |at: usize, width: usize, value: u64| {
        let text = format!("{value:0w$o}\0", w = width - 1);
        h[at..at + width].copy_from_slice(text.as_bytes());
    };
    octal(100, 8, 0o644);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, size);
    octal(136, 12, 0);
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    // The checksum is computed with its own field as spaces.
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_what_tar_reads() {
        let h = header("documents/a.png", 1234).unwrap();
        assert_eq!(&h[..15], b"documents/a.png");
        assert_eq!(&h[124..136], b"00000002322\0");
        assert_eq!(&h[257..263], b"ustar\0");
        let stored = u32::from_str_radix(std::str::from_utf8(&h[148..154]).unwrap(), 8).unwrap();
        let mut blank = h;
        blank[148..156].copy_from_slice(b"        ");
        assert_eq!(stored, blank.iter().map(|&b| u32::from(b)).sum::<u32>());
        assert!(header(&"x".repeat(101), 1).is_err());
        assert_eq!((padded(0), padded(1), padded(512), padded(513)), (0, 512, 512, 1024));
    }
}
