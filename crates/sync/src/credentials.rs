//! The operator's server URL and token in the OS keyring: the Secret Service on a desktop
//! session, the kernel keyring (keyutils) where no Secret Service runs. When neither works the
//! caller is told so, and keeps the token in memory: it is never written to a file.

use keyring::credential::CredentialBuilder;
use keyring::Entry;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SyncError};

const SERVICE: &str = "identdesk";
const ACCOUNT: &str = "console-sign-in";

/// What the console remembers between starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedSignIn {
    pub server: String,
    pub email: String,
    pub token: String,
    pub expires_at_ms: i64,
}

/// A keyring that was found usable, and which one it is.
pub struct Credentials {
    builder: Box<CredentialBuilder>,
    /// "Secret Service" or "kernel keyring", for the status line.
    pub backend: &'static str,
}

impl Credentials {
    /// The Secret Service when the desktop session offers one, otherwise the kernel keyring;
    /// `KeyringUnavailable` with the reasons when neither can store a secret.
    pub fn system() -> Result<Credentials> {
        let mut reasons = Vec::new();
        let secret_service =
            Credentials { builder: keyring::secret_service::default_credential_builder(), backend: "Secret Service" };
        match secret_service.probe() {
            Ok(()) => return Ok(secret_service),
            Err(reason) => reasons.push(format!("Secret Service: {reason}")),
        }
        match Credentials::kernel_keyring() {
            Ok(kernel) => Ok(kernel),
            Err(SyncError::KeyringUnavailable(reason)) => {
                reasons.push(reason);
                Err(SyncError::KeyringUnavailable(reasons.join("; ")))
            }
            Err(e) => Err(e),
        }
    }

    /// The kernel keyring. A process started outside a login session (a container, a service)
    /// may have no session keyring of its own, and the kernel then refuses to find the keys it
    /// stores; such a process joins a new session keyring first, as a login would. Keys are
    /// also linked to the user's persistent keyring, so they outlive the process.
    pub fn kernel_keyring() -> Result<Credentials> {
        let kernel =
            Credentials { builder: keyring::keyutils::default_credential_builder(), backend: "kernel keyring" };
        let Err(first) = kernel.probe() else { return Ok(kernel) };
        if join_own_session_keyring() {
            let kernel =
                Credentials { builder: keyring::keyutils::default_credential_builder(), backend: "kernel keyring" };
            if kernel.probe().is_ok() {
                return Ok(kernel);
            }
        }
        Err(SyncError::KeyringUnavailable(format!("kernel keyring: {first}")))
    }

    /// A keyring of the caller's choosing (tests use this to give one that fails).
    pub fn with_builder(builder: Box<CredentialBuilder>, backend: &'static str) -> Result<Credentials> {
        let credentials = Credentials { builder, backend };
        credentials.probe().map_err(|reason| SyncError::KeyringUnavailable(format!("{backend}: {reason}")))?;
        Ok(credentials)
    }

    fn entry(&self, account: &str) -> keyring::Result<Entry> {
        Ok(Entry::new_with_credential(self.builder.build(None, SERVICE, account)?))
    }

    /// Writes, reads back and deletes a throw-away secret: a keyring that cannot is not used.
    fn probe(&self) -> std::result::Result<(), String> {
        let entry = self.entry("probe").map_err(|e| e.to_string())?;
        entry.set_password("probe").map_err(|e| e.to_string())?;
        let read = entry.get_password().map_err(|e| e.to_string())?;
        let _ = entry.delete_credential();
        if read == "probe" {
            Ok(())
        } else {
            Err("it returned another secret than the one stored".into())
        }
    }

    pub fn save(&self, sign_in: &SavedSignIn) -> Result<()> {
        let text = serde_json::to_string(sign_in).expect("a sign-in serialises");
        self.entry(ACCOUNT).and_then(|e| e.set_password(&text)).map_err(|e| SyncError::Keyring(e.to_string()))
    }

    pub fn load(&self) -> Result<Option<SavedSignIn>> {
        match self.entry(ACCOUNT).and_then(|e| e.get_password()) {
            Ok(text) => Ok(serde_json::from_str(&text).ok()),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(SyncError::Keyring(e.to_string())),
        }
    }

    /// Sign-out: the token leaves the keyring.
    pub fn delete(&self) -> Result<()> {
        match self.entry(ACCOUNT).and_then(|e| e.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(SyncError::Keyring(e.to_string())),
        }
    }
}

/// `keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)`: gives this process a new anonymous session
/// keyring. Returns whether the kernel agreed.
#[cfg(target_os = "linux")]
fn join_own_session_keyring() -> bool {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: the call takes a nullable C string; NULL asks for an anonymous keyring.
    unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, std::ptr::null::<libc::c_char>()) >= 0 }
}

#[cfg(not(target_os = "linux"))]
fn join_own_session_keyring() -> bool {
    false
}
