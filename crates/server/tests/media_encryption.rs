//! Media at rest: a document image, a video screenshot and the recording's parts are uploaded
//! through the API; then no file in the media folder starts with an image or container
//! signature or contains any run of the uploaded bytes, the master key is in its own file (not
//! the database), and after rotating the master key every object still reads back exactly,
//! while the old master key is gone from the key file.

mod common;

use std::path::PathBuf;

use common::video::{next_call, waiting_applicant};
use common::{files_under, upload_passport, TestServer};
use identdesk_domain::Role;
use identdesk_server::media::MediaStore;
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// Signatures of the formats IdentDesk stores (and a few it might).
const SIGNATURES: &[(&str, &[u8])] = &[
    ("PNG", b"\x89PNG"),
    ("JPEG", b"\xFF\xD8\xFF"),
    ("IVF", b"DKIF"),
    ("Ogg", b"OggS"),
    ("WebM/Matroska", b"\x1A\x45\xDF\xA3"),
    ("RIFF", b"RIFF"),
    ("PDF", b"%PDF"),
    ("GIF", b"GIF8"),
];

/// A PNG of noise: compression cannot shrink it, so its bytes are distinctive.
fn noisy_png(seed: u64) -> Vec<u8> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let img = image::RgbImage::from_fn(160, 120, |_, _| image::Rgb([rng.gen(), rng.gen(), rng.gen()]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A recording part: the container's signature, then noise.
fn recording_part(signature: &[u8], seed: u64) -> Vec<u8> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut bytes = signature.to_vec();
    bytes.extend((0..50_000).map(|_| rng.gen::<u8>()));
    bytes
}

/// Whether `haystack` holds any 32-byte run of `needle` (sampled every 512 bytes).
fn contains_a_run_of(haystack: &[u8], needle: &[u8]) -> bool {
    (0..needle.len().saturating_sub(32)).step_by(512).any(|at| haystack.windows(32).any(|w| w == &needle[at..at + 32]))
}

#[tokio::test]
async fn stored_media_is_encrypted_and_rotation_keeps_it_readable() {
    for s in TestServer::all().await {
        let b = s.backend;
        let key = s.api_key().await;
        let operator = s.staff("olga@acme.test", Role::VideoOperator).await;
        let mut uploaded: Vec<Vec<u8>> = Vec::new();

        // A document image, through the client API.
        let (_, _, _, socket) = waiting_applicant(&s, &key, "Encrypted").await;
        let applicant = {
            let res = s
                .http
                .post(s.at("/applicants"))
                .header("X-Api-Key", &key)
                .json(&serde_json::json!({"externalUserId": "enc-doc", "info": {"firstName": "Ida", "lastName": "Sealed"}}))
                .send()
                .await
                .unwrap();
            res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
        };
        let document = noisy_png(1);
        upload_passport(&s, &key, &applicant, document.clone(), None).await;
        uploaded.push(document);

        // A screenshot and the three recording parts, through the operator's API.
        let call = next_call(&s, &operator).await;
        let session = call["session"]["id"].as_str().unwrap().to_owned();
        let shot = noisy_png(2);
        let res = s
            .http
            .post(s.at(&format!("/video/sessions/{session}/screenshots?tag=id_front&capturedAtMs=1")))
            .bearer_auth(&operator)
            .header("content-type", "image/png")
            .body(shot.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{b}: {}", res.text().await.unwrap());
        uploaded.push(shot);
        for (part, signature, seed) in
            [("applicant_video", b"DKIF", 3), ("applicant_audio", b"OggS", 4), ("operator_audio", b"OggS", 5)]
        {
            let bytes = recording_part(signature, seed);
            let res = s
                .http
                .post(s.at(&format!("/video/sessions/{session}/recording?part={part}&durationMs=1000")))
                .bearer_auth(&operator)
                .body(bytes.clone())
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{b} {part}: {}", res.text().await.unwrap());
            uploaded.push(bytes);
        }
        drop(socket);

        // On disk: no signature at the start, no run of the plaintext anywhere.
        let root = s.media.root().to_owned();
        let files = files_under(&root);
        let objects: Vec<PathBuf> = files.into_iter().filter(|p| !p.starts_with(root.join(".keys"))).collect();
        assert_eq!(objects.len(), uploaded.len(), "{b}: one file per upload: {objects:?}");
        for path in &objects {
            let stored = std::fs::read(path).unwrap();
            for (format, signature) in SIGNATURES {
                assert!(!stored.starts_with(signature), "{b}: {} starts like a {format} file", path.display());
            }
            for plain in &uploaded {
                assert!(!contains_a_run_of(&stored, plain), "{b}: {} holds plaintext bytes", path.display());
            }
        }

        // The master key is in its own file; the database does not hold it.
        let key_file = root.parent().unwrap().join("master.keys");
        let old_master = std::fs::read_to_string(&key_file).unwrap();
        let old_line = old_master.lines().find(|l| !l.starts_with('#')).unwrap().to_owned();
        let old_hex = old_line.split(' ').nth(1).unwrap().to_owned();
        if b == "sqlite" {
            let db = std::fs::read(root.parent().unwrap().join("t.db")).unwrap();
            assert!(
                !db.windows(old_hex.len()).any(|w| w == old_hex.as_bytes()),
                "the master key is not in the database"
            );
        }

        // Rotation: a new master key, the old one gone, every object read back exactly.
        let (new_id, rewrapped) = MediaStore::rotate_master_key(&root, &key_file).unwrap();
        assert_eq!(rewrapped, 1, "{b}: one tenant, one data key");
        let now = std::fs::read_to_string(&key_file).unwrap();
        assert!(now.contains(&new_id) && !now.contains(&old_hex), "{b}: only the new master key is kept");
        let reopened = MediaStore::open(&root, &key_file).unwrap();
        let mut read_back = Vec::new();
        for path in &objects {
            let object_key = path.strip_prefix(&root).unwrap().to_str().unwrap();
            read_back.push(reopened.get(object_key).await.unwrap_or_else(|e| panic!("{b}: {object_key}: {e}")));
        }
        for plain in &uploaded {
            assert!(read_back.contains(plain), "{b}: an upload reads back exactly after rotation");
        }
    }
}
