//! The automated verification as the server runs it: the tenant's levels and the loaded
//! watchlists, the key that turns identifiers into keyed hashes, and the worker that takes
//! submitted applicants through `identdesk_checks::pipeline` and stores the verdicts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use identdesk_checks::contact::{self, EmailSignals, PhoneSignals};
use identdesk_checks::date::Date;
use identdesk_checks::policy::Levels;
use identdesk_checks::screening::{self, Watchlist};
use identdesk_checks::submission::{Submission, SubmittedDocument};
use identdesk_checks::{names, pipeline};
use identdesk_domain::ApplicantInfo;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::api::AppState;
use crate::error::{Error, Result};
use crate::store::audit::Actor;
use crate::store::checks::Job;

/// How long a worker holds a job before another may take it over.
const JOB_LEASE_MS: i64 = 120_000;

pub struct Verification {
    /// Lists every tenant is screened against (`serve --watchlist`).
    pub watchlist: Option<Watchlist>,
    /// A tenant's own lists, from `lists/<tenant id>/*.csv`.
    tenant_lists: HashMap<String, Watchlist>,
    /// Levels of tenants without their own file.
    pub levels: Levels,
    /// A tenant's own levels, from `levels/<tenant id>.toml`.
    tenant_levels: HashMap<String, Levels>,
    identifier_key: [u8; 32],
}

/// What a client read off a document, sent with the upload.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DocumentExtract {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mrz: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl DocumentExtract {
    pub fn is_empty(&self) -> bool {
        *self == DocumentExtract::default()
    }
}

/// What is kept of the phone number and e-mail address: their signals, never themselves.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContactSignals {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PhoneSignals>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailSignals>,
}

type HmacSha256 = Hmac<Sha256>;

impl Verification {
    /// Reads the levels from the data folder (`levels.toml` for every tenant, `levels/<tenant
    /// id>.toml` for one; defaults without them), loads the watchlists, and reads the
    /// identifier key from `identifier.key` there, creating it on first start.
    pub fn load(data_dir: &Path, lists: &[PathBuf]) -> Result<Verification> {
        let levels = read_levels(&data_dir.join("levels.toml"))?.unwrap_or_default();
        let mut tenant_levels = HashMap::new();
        if let Ok(entries) = std::fs::read_dir(data_dir.join("levels")) {
            for entry in entries {
                let path = entry?.path();
                if path.extension().is_some_and(|e| e == "toml") {
                    let tenant = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                    tenant_levels.insert(tenant, read_levels(&path)?.unwrap_or_default());
                }
            }
        }
        let watchlist = load_lists(lists)?;
        let mut tenant_lists = HashMap::new();
        if let Ok(entries) = std::fs::read_dir(data_dir.join("lists")) {
            for entry in entries {
                let folder = entry?.path();
                let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)?
                    .filter_map(|f| f.ok().map(|f| f.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "csv"))
                    .collect();
                files.sort();
                let tenant = folder.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                if let Some(list) = load_lists(&files)? {
                    tenant_lists.insert(tenant, list);
                }
            }
        }
        Ok(Verification { watchlist, tenant_lists, levels, tenant_levels, identifier_key: identifier_key(data_dir)? })
    }

    /// The lists a tenant's applicants are screened against.
    pub fn watchlists_for(&self, tenant_id: &str) -> Vec<&Watchlist> {
        self.watchlist.iter().chain(self.tenant_lists.get(tenant_id)).collect()
    }

    /// The levels that apply to a tenant.
    pub fn levels_for(&self, tenant_id: &str) -> &Levels {
        self.tenant_levels.get(tenant_id).unwrap_or(&self.levels)
    }

    /// A keyed hash of an identifier: equal identifiers give equal digests, and the digests
    /// say nothing without the key, which never enters the database.
    pub fn identifier(&self, kind: &str, value: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.identifier_key).expect("any key length");
        mac.update(kind.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Takes the phone number and e-mail address out of `info`, returning their signals and
    /// their keyed hashes. The identifiers themselves go no further.
    pub fn take_contact(&self, info: &mut ApplicantInfo) -> (ContactSignals, Vec<(&'static str, String)>) {
        let mut signals = ContactSignals::default();
        let mut identifiers = Vec::new();
        if let Some(phone) = info.phone.take().filter(|p| !p.trim().is_empty()) {
            let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
            identifiers.push(("phone", self.identifier("phone", &digits)));
            signals.phone = Some(contact::phone_signals(&phone));
        }
        if let Some(email) = info.email.take().filter(|e| !e.trim().is_empty()) {
            identifiers.push(("email", self.identifier("email", &email.trim().to_lowercase())));
            signals.email = Some(contact::email_signals(&email));
        }
        (signals, identifiers)
    }

    /// The keyed hashes of the document numbers (given or in the MRZ) and of the name with the
    /// date of birth.
    fn submission_identifiers(&self, submission: &Submission, today: Date) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for doc in &submission.documents {
            let from_mrz = doc.mrz(today).map(|m| m.fields.document_number.clone());
            for number in doc.number.iter().cloned().chain(from_mrz) {
                let number: String = number.chars().filter(char::is_ascii_alphanumeric).collect();
                if !number.is_empty() {
                    out.push(("documentNumber", self.identifier("documentNumber", &number.to_ascii_uppercase())));
                }
            }
        }
        if let Some(dob) = submission.profile.dob.as_deref().filter(|d| !d.is_empty()) {
            let mut tokens = names::tokens(&submission.profile.full_name());
            tokens.sort();
            out.push(("nameAndDob", self.identifier("nameAndDob", &format!("{}|{dob}", tokens.join(" ")))));
        }
        out.sort();
        out.dedup();
        out
    }
}

fn read_levels(path: &Path) -> Result<Option<Levels>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Levels::from_toml(&text).map(Some).map_err(|e| Error::Config(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn load_lists(paths: &[PathBuf]) -> Result<Option<Watchlist>> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut entities = Vec::new();
    for path in paths {
        let loaded = screening::load(path).map_err(|e| Error::Config(e.to_string()))?;
        for warning in loaded.warnings.iter().take(5) {
            tracing::warn!(list = %path.display(), "{warning}");
        }
        tracing::info!(list = %path.display(), entries = loaded.entities.len(), "watchlist loaded");
        entities.extend(loaded.entities);
    }
    Ok(Some(Watchlist::new(entities)))
}

fn identifier_key(data_dir: &Path) -> Result<[u8; 32]> {
    let path = data_dir.join("identifier.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let bytes =
                hex::decode(text.trim()).map_err(|_| Error::Config(format!("{} is not hex", path.display())))?;
            bytes.try_into().map_err(|_| Error::Config(format!("{} must hold 32 bytes", path.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)?;
            let mut key = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut key);
            crate::media_keys::write_private(&path, hex::encode(key))?;
            Ok(key)
        }
        Err(e) => Err(e.into()),
    }
}

/// Runs submitted applicants through the checks until the server stops: woken by each
/// submission, and every few seconds for jobs a stopped worker left behind.
pub fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match state.store.lease_job(JOB_LEASE_MS).await {
                Ok(Some(job)) => {
                    if let Err(e) = run_job(&state, &job).await {
                        tracing::warn!(job = %job.id, attempt = job.attempts, error = %e, "checks failed; will retry");
                        if let Err(e) = state.store.fail_job(&job, &e.to_string()).await {
                            tracing::warn!(job = %job.id, error = %e, "could not record the failure");
                        }
                    }
                }
                Ok(None) => {
                    let _ = tokio::time::timeout(Duration::from_secs(2), state.jobs.notified()).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not lease a job");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    })
}

async fn run_job(state: &AppState, job: &Job) -> Result<()> {
    let store = &state.store;
    let applicant = store.applicant(&job.tenant_id, &job.applicant_id).await?;
    let (signals, ip_country) = store.contact_on_file(&job.tenant_id, &job.applicant_id).await?;
    let signals: ContactSignals = signals
        .map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(|e| Error::Internal(format!("stored contact signals: {e}")))?
        .unwrap_or_default();
    let mut documents = Vec::new();
    for doc in store.documents(&job.tenant_id, &job.applicant_id).await? {
        let extract: DocumentExtract =
            doc.extracted.clone().map(serde_json::from_value).transpose().ok().flatten().unwrap_or_default();
        let mut submitted = SubmittedDocument::new(&doc.id, doc.doc_type);
        submitted.side = doc.side;
        submitted.country = doc.country.clone();
        submitted.mrz = extract.mrz;
        submitted.number = extract.number;
        submitted.expiry = extract.expiry;
        submitted.address = extract.address;
        submitted.image = Some(state.media.get(&doc.storage_key).await?);
        documents.push(submitted);
    }
    let submission =
        Submission { profile: applicant.info, phone: signals.phone, email: signals.email, documents, ip_country };
    let today = Date::today();
    // A child found only now (the document's date of birth) is erased like one found at the
    // start, unless the client recorded a parent's consent.
    if let Some(age) = identdesk_checks::submission::youngest_age(&submission, today) {
        let (_, majority) = store.data_protection(&job.tenant_id).await?;
        if i64::from(age) < majority && !store.has_parental_consent(&job.tenant_id, &job.applicant_id).await? {
            let reason = crate::store::erasure::ErasureReason::Minor;
            crate::erasure::erase(state, &job.tenant_id, &job.applicant_id, &Actor::System, reason).await?;
            return Ok(());
        }
    }
    let verification = Arc::clone(&state.verification);
    let identifiers = verification.submission_identifiers(&submission, today);
    let duplicates = store.find_duplicates(&job.tenant_id, &job.applicant_id, &identifiers).await?;
    let level = verification.levels_for(&job.tenant_id).level(&applicant.level).unwrap_or_default();
    let tenant_id = job.tenant_id.clone();
    // Decoding images is CPU work: off the async threads.
    let verdict = tokio::task::spawn_blocking(move || {
        let lists = verification.watchlists_for(&tenant_id);
        pipeline::run(&submission, &level, &lists, &duplicates, today)
    })
    .await
    .map_err(|e| Error::Internal(format!("the checks stopped: {e}")))?;
    if store.complete_job(job, &verdict).await? {
        let cursor = store.head_seq(&job.tenant_id).await?;
        state.announce(&job.tenant_id, cursor);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_per_tenant_and_a_key_that_stays() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("levels.toml"), "[levels.basic-kyc]\nmin_age = 18\n").unwrap();
        std::fs::create_dir(dir.path().join("levels")).unwrap();
        std::fs::write(dir.path().join("levels/t-1.toml"), "[levels.basic-kyc]\nmin_age = 21\n").unwrap();
        let v = Verification::load(dir.path(), &[]).unwrap();
        assert_eq!(v.levels_for("t-1").level("basic-kyc").unwrap().min_age, 21);
        assert_eq!(v.levels_for("t-2").level("basic-kyc").unwrap().min_age, 18);
        assert!(v.levels_for("t-2").level("gold").is_err(), "an unknown level is refused");

        let digest = v.identifier("email", "ana@example.org");
        assert_eq!(Verification::load(dir.path(), &[]).unwrap().identifier("email", "ana@example.org"), digest);
        assert_ne!(v.identifier("phone", "ana@example.org"), digest, "the kind is part of the digest");
        let other = tempfile::tempdir().unwrap();
        assert_ne!(Verification::load(other.path(), &[]).unwrap().identifier("email", "ana@example.org"), digest);

        // A tenant's own list applies to that tenant only.
        std::fs::create_dir_all(dir.path().join("lists/t-1")).unwrap();
        std::fs::write(dir.path().join("lists/t-1/own.csv"), "id,list,name\n7,pep,Mirela Vasquez Torin\n").unwrap();
        let v = Verification::load(dir.path(), &[]).unwrap();
        assert_eq!(v.watchlists_for("t-1").len(), 1);
        assert!(v.watchlists_for("t-2").is_empty());

        std::fs::write(dir.path().join("levels.toml"), "[levels.x]\nmin_agee = 1\n").unwrap();
        let err = Verification::load(dir.path(), &[]).err().unwrap().to_string();
        assert!(err.contains("levels.toml") && err.contains("min_agee"), "{err}");
    }
}
