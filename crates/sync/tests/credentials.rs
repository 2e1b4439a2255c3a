//! The token in the kernel keyring (the backend CI machines have), and a keyring that cannot
//! be used: a clear message, and no file written anywhere.

use identdesk_sync::credentials::{Credentials, SavedSignIn};
use identdesk_sync::SyncError;
use keyring::credential::CredentialBuilderApi;

fn sign_in() -> SavedSignIn {
    SavedSignIn {
        server: "http://127.0.0.1:8080".into(),
        email: "reviewer@demo.identdesk.test".into(),
        token: "idt_0123456789abcdef".into(),
        expires_at_ms: 1_900_000_000_000,
    }
}

#[test]
fn the_kernel_keyring_stores_reads_and_deletes_the_token() {
    let credentials = Credentials::kernel_keyring().expect("the kernel keyring works here");
    assert_eq!(credentials.backend, "kernel keyring");
    credentials.delete().unwrap();
    assert_eq!(credentials.load().unwrap(), None);
    credentials.save(&sign_in()).unwrap();
    assert_eq!(credentials.load().unwrap(), Some(sign_in()));
    credentials.delete().unwrap();
    assert_eq!(credentials.load().unwrap(), None, "sign-out removes it");
}

/// A keyring whose every call fails, as when no Secret Service runs and the kernel's keys are
/// blocked: the one stand-in in these tests, because a real keyring cannot be broken on purpose.
struct Broken;

impl CredentialBuilderApi for Broken {
    fn build(&self, _: Option<&str>, _: &str, _: &str) -> keyring::Result<Box<keyring::credential::Credential>> {
        Err(keyring::Error::NoStorageAccess("org.freedesktop.secrets was not provided by any .service files".into()))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[test]
fn an_unusable_keyring_says_so_and_writes_no_file() {
    let home = tempfile::tempdir().unwrap();
    std::env::set_var("HOME", home.path());
    std::env::set_var("XDG_CONFIG_HOME", home.path().join(".config"));
    std::env::set_var("XDG_DATA_HOME", home.path().join(".local/share"));
    let err = Credentials::with_builder(Box::new(Broken), "Secret Service").err().expect("refused");
    assert!(matches!(err, SyncError::KeyringUnavailable(_)));
    assert_eq!(err.code(), "KEYRING_UNAVAILABLE");
    let message = err.to_string();
    assert!(message.contains("no keyring is usable here"), "{message}");
    assert!(message.contains("kept in memory only"), "{message}");
    assert!(message.contains("org.freedesktop.secrets"), "the cause is named: {message}");
    let written: Vec<_> = walk(home.path());
    assert!(written.is_empty(), "nothing may be written: {written:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}
