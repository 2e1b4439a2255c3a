//! Envelope encryption of stored media. Each tenant has a data key (AES-256) that encrypts its
//! objects with AES-256-GCM; the data key is kept on disk only wrapped (encrypted) by a master
//! key. Master keys live in a key file of their own, never in the database: one per line,
//! `<id> <hex>`, the last line the current one. Rotating the master key re-wraps the data keys
//! and leaves the media as it is.
//!
//! An object on disk is `IDK1`, a 12-byte nonce, then ciphertext and tag; its storage key is
//! the associated data, so an object moved to another applicant or tenant does not decrypt.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Key, KeyInit, Nonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What every encrypted object starts with (no image or container format starts so).
const MAGIC: &[u8; 4] = b"IDK1";
const NONCE_LEN: usize = 12;
/// What sealing adds to an object: the magic, the nonce and the GCM tag.
pub const SEAL_OVERHEAD: u64 = (MAGIC.len() + NONCE_LEN + 16) as u64;

/// A data key as kept on disk: wrapped by the master key `master_key_id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WrappedDataKey {
    master_key_id: String,
    /// Hex of nonce, ciphertext and tag.
    wrapped: String,
    created_at_ms: i64,
}

/// The master keys (from the key file) and the tenants' data keys (wrapped in `keys_dir`,
/// unwrapped in memory once used).
#[derive(Clone)]
pub struct KeyRing {
    key_file: PathBuf,
    keys_dir: PathBuf,
    masters: Arc<Vec<(String, [u8; 32])>>,
    data_keys: Arc<Mutex<HashMap<String, Aes256Gcm>>>,
}

impl KeyRing {
    /// Reads the key file, creating it with a fresh master key (readable by its owner only)
    /// when it does not exist. `keys_dir` holds the wrapped data keys.
    pub fn open(key_file: &Path, keys_dir: &Path) -> Result<KeyRing> {
        let masters = match std::fs::read_to_string(key_file) {
            Ok(text) => parse_key_file(key_file, &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = key_file.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let master = new_master();
                write_private(key_file, key_file_text(std::slice::from_ref(&master)))?;
                vec![master]
            }
            Err(e) => return Err(e.into()),
        };
        std::fs::create_dir_all(keys_dir)?;
        Ok(KeyRing {
            key_file: key_file.to_owned(),
            keys_dir: keys_dir.to_owned(),
            masters: Arc::new(masters),
            data_keys: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// Encrypts `plain` for `tenant_id`, bound to `object_key`.
    pub fn seal(&self, tenant_id: &str, object_key: &str, plain: &[u8]) -> Result<Vec<u8>> {
        let cipher = self.data_key(tenant_id)?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad: object_key.as_bytes() })
            .map_err(|_| Error::MediaUnreadable("the object could not be encrypted".into()))?;
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts what `seal` made for the same tenant and object key.
    pub fn open_sealed(&self, tenant_id: &str, object_key: &str, stored: &[u8]) -> Result<Vec<u8>> {
        let body = stored
            .strip_prefix(MAGIC.as_slice())
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or_else(|| Error::MediaUnreadable(format!("{object_key} is not an encrypted object")))?;
        let (nonce, sealed) = body.split_at(NONCE_LEN);
        self.data_key(tenant_id)?
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: object_key.as_bytes() })
            .map_err(|_| {
                Error::MediaUnreadable(format!("{object_key} does not decrypt: altered, moved or another key"))
            })
    }

    fn current_master(&self) -> &(String, [u8; 32]) {
        self.masters.last().expect("a key file has a key")
    }

    fn master(&self, id: &str) -> Result<&[u8; 32]> {
        self.masters.iter().find(|(k, _)| k == id).map(|(_, key)| key).ok_or_else(|| {
            Error::Config(format!(
                "master key {id} is not in {}: a data key was wrapped by it",
                self.key_file.display()
            ))
        })
    }

    fn wrapped_path(&self, tenant_id: &str) -> Result<PathBuf> {
        // Tenant ids are ours, but a path is never built from an unchecked string.
        if tenant_id.is_empty() || !tenant_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(Error::Internal(format!("unexpected tenant id {tenant_id:?}")));
        }
        Ok(self.keys_dir.join(format!("{tenant_id}.json")))
    }

    /// The tenant's data key: unwrapped from disk, or made (and wrapped) on first use.
    fn data_key(&self, tenant_id: &str) -> Result<Aes256Gcm> {
        let mut keys = self.data_keys.lock().expect("not poisoned");
        if let Some(k) = keys.get(tenant_id) {
            return Ok(k.clone());
        }
        let path = self.wrapped_path(tenant_id)?;
        let key = match std::fs::read(&path) {
            Ok(bytes) => {
                let wrapped: WrappedDataKey = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::Config(format!("{} is not a wrapped data key: {e}", path.display())))?;
                unwrap_key(self.master(&wrapped.master_key_id)?, tenant_id, &wrapped.wrapped)?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut key);
                let (master_id, master) = self.current_master();
                let wrapped = WrappedDataKey {
                    master_key_id: master_id.clone(),
                    wrapped: wrap_key(master, tenant_id, &key)?,
                    created_at_ms: crate::store::now_ms(),
                };
                write_atomically(&path, &serde_json::to_vec(&wrapped).expect("JSON"))?;
                key
            }
            Err(e) => return Err(e.into()),
        };
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key));
        keys.insert(tenant_id.to_owned(), cipher.clone());
        Ok(cipher)
    }

    /// Adds a new master key, re-wraps every tenant's data key under it and then drops the old
    /// master keys from the key file. Media objects are not touched. Returns the new key's id
    /// and how many data keys were re-wrapped. Safe to run again after a crash: until the last
    /// step the key file holds the old keys as well.
    pub fn rotate_master(key_file: &Path, keys_dir: &Path) -> Result<(String, usize)> {
        let ring = KeyRing::open(key_file, keys_dir)?;
        let fresh = new_master();
        let mut all: Vec<(String, [u8; 32])> = ring.masters.to_vec();
        all.push(fresh.clone());
        write_atomically(key_file, key_file_text(&all).as_bytes())?;
        let mut rewrapped = 0;
        for entry in std::fs::read_dir(keys_dir)? {
            let path = entry?.path();
            let Some(tenant_id) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            let mut wrapped: WrappedDataKey = serde_json::from_slice(&std::fs::read(&path)?)
                .map_err(|e| Error::Config(format!("{} is not a wrapped data key: {e}", path.display())))?;
            let master = all.iter().find(|(id, _)| *id == wrapped.master_key_id).map(|(_, k)| k).ok_or_else(|| {
                Error::Config(format!("master key {} for {} is missing", wrapped.master_key_id, path.display()))
            })?;
            let key = unwrap_key(master, tenant_id, &wrapped.wrapped)?;
            wrapped.master_key_id = fresh.0.clone();
            wrapped.wrapped = wrap_key(&fresh.1, tenant_id, &key)?;
            write_atomically(&path, &serde_json::to_vec(&wrapped).expect("JSON"))?;
            rewrapped += 1;
        }
        write_atomically(key_file, key_file_text(std::slice::from_ref(&fresh)).as_bytes())?;
        Ok((fresh.0, rewrapped))
    }
}

fn new_master() -> (String, [u8; 32]) {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    let mut id = [0u8; 4];
    rand::thread_rng().fill_bytes(&mut id);
    (format!("mk-{}", hex::encode(id)), key)
}

fn key_file_text(keys: &[(String, [u8; 32])]) -> String {
    let mut text =
        String::from("# IdentDesk master keys: <id> <hex>; the last is current. Keep apart from the database.\n");
    for (id, key) in keys {
        text.push_str(&format!("{id} {}\n", hex::encode(key)));
    }
    text
}

fn parse_key_file(path: &Path, text: &str) -> Result<Vec<(String, [u8; 32])>> {
    let bad = |why: &str| Error::Config(format!("{}: {why}", path.display()));
    let mut keys = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (id, hex_key) = line.split_once(' ').ok_or_else(|| bad("each line is `<id> <hex key>`"))?;
        let bytes = hex::decode(hex_key.trim()).map_err(|_| bad("a key is not hex"))?;
        keys.push((id.to_owned(), bytes.try_into().map_err(|_| bad("a key must be 32 bytes"))?));
    }
    if keys.is_empty() {
        return Err(bad("no master key in it"));
    }
    Ok(keys)
}

/// The data key under the master key; the tenant id is bound in, so wrapped keys cannot be swapped.
fn wrap_key(master: &[u8; 32], tenant_id: &str, key: &[u8; 32]) -> Result<String> {
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(master));
    let mut nonce = [0u8; NONCE_LEN];
    rand::thread_rng().fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: key, aad: tenant_id.as_bytes() })
        .map_err(|_| Error::Internal("a data key could not be wrapped".into()))?;
    Ok(hex::encode([nonce.as_slice(), &sealed].concat()))
}

fn unwrap_key(master: &[u8; 32], tenant_id: &str, wrapped: &str) -> Result<[u8; 32]> {
    let bad = || Error::Config(format!("the data key of tenant {tenant_id} does not unwrap with its master key"));
    let bytes = hex::decode(wrapped).map_err(|_| bad())?;
    if bytes.len() <= NONCE_LEN {
        return Err(bad());
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(master));
    let key = cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: tenant_id.as_bytes() })
        .map_err(|_| bad())?;
    key.try_into().map_err(|_| bad())
}

/// Writes a file whole or not at all, readable by its owner only.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("part");
    let _ = std::fs::remove_file(&tmp);
    write_private(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Creates a file only its owner can read.
pub(crate) fn write_private(path: &Path, bytes: impl AsRef<[u8]>) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes.as_ref())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_objects_open_only_for_their_tenant_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let ring = KeyRing::open(&dir.path().join("master.keys"), &dir.path().join("keys")).unwrap();
        let plain = b"\x89PNG\r\n\x1a\n a passport scan".to_vec();
        let sealed = ring.seal("t-1", "t-1/a-1/d-1", &plain).unwrap();
        assert!(sealed.starts_with(MAGIC));
        assert!(!sealed.windows(8).any(|w| w == &plain[..8]), "no plaintext in the sealed object");
        assert_eq!(ring.open_sealed("t-1", "t-1/a-1/d-1", &sealed).unwrap(), plain);
        // Moved to another applicant, another tenant, or altered: refused.
        assert!(ring.open_sealed("t-1", "t-1/a-2/d-1", &sealed).is_err());
        assert!(ring.open_sealed("t-2", "t-1/a-1/d-1", &sealed).is_err());
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(ring.open_sealed("t-1", "t-1/a-1/d-1", &altered).is_err());
        assert!(ring.open_sealed("t-1", "t-1/a-1/d-1", &plain).is_err(), "plaintext is not accepted as sealed");
    }

    #[test]
    fn rotation_rewraps_data_keys_and_drops_the_old_master() {
        let dir = tempfile::tempdir().unwrap();
        let (file, keys) = (dir.path().join("master.keys"), dir.path().join("keys"));
        let ring = KeyRing::open(&file, &keys).unwrap();
        let sealed = ring.seal("t-1", "k", b"evidence").unwrap();
        let old = std::fs::read_to_string(&file).unwrap();
        let (new_id, rewrapped) = KeyRing::rotate_master(&file, &keys).unwrap();
        assert_eq!(rewrapped, 1);
        let now = std::fs::read_to_string(&file).unwrap();
        assert!(now.contains(&new_id) && !now.contains(old.lines().nth(1).unwrap()), "only the new key is kept");
        let reopened = KeyRing::open(&file, &keys).unwrap();
        assert_eq!(reopened.open_sealed("t-1", "k", &sealed).unwrap(), b"evidence");
        // With the old key file back, the re-wrapped data key no longer opens.
        std::fs::write(&file, old).unwrap();
        assert!(KeyRing::open(&file, &keys).unwrap().open_sealed("t-1", "k", &sealed).is_err());
    }
}
