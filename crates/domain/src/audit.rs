//! The audit trail: append-only events, hash-chained per tenant so that a changed, removed
//! or reordered event is found by recomputing the chain: `hash = sha256(prev_hash || event)`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of a tenant's first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event of a tenant's audit chain, as stored and as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub tenant_id: String,
    /// 1, 2, 3 … without gaps within a tenant.
    pub seq: i64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// `user:<id>`, `apikey:<id>` or `system`.
    pub actor: String,
    /// What happened, e.g. `case.claimed`.
    pub action: String,
    /// What it happened to, e.g. `case:<id>`.
    pub subject: String,
    /// JSON text with the particulars; never personal data.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hashed part of an event, in a fixed field order.
#[derive(Serialize)]
struct Sealed<'a> {
    tenant_id: &'a str,
    seq: i64,
    at_ms: i64,
    actor: &'a str,
    action: &'a str,
    subject: &'a str,
    detail: &'a str,
}

/// Where and why a chain stops verifying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChainBreak {
    /// The sequence number of the first event that is missing, changed or out of place.
    pub seq: i64,
    pub reason: String,
}

impl AuditEvent {
    /// The event with its hash computed; build it with `hash` empty.
    pub fn sealed(mut self) -> AuditEvent {
        self.hash = self.compute_hash();
        self
    }

    /// `sha256(prev_hash || canonical JSON of the event's fields)`, hex.
    pub fn compute_hash(&self) -> String {
        let sealed = Sealed {
            tenant_id: &self.tenant_id,
            seq: self.seq,
            at_ms: self.at_ms,
            actor: &self.actor,
            action: &self.action,
            subject: &self.subject,
            detail: &self.detail,
        };
        let mut h = Sha256::new();
        h.update(self.prev_hash.as_bytes());
        h.update(serde_json::to_vec(&sealed).expect("plain struct serialises"));
        hex::encode(h.finalize())
    }
}

/// Walks a tenant's chain in `seq` order and checks every link. `head_seq` is the last sequence
/// number the tenant's chain head recorded, so that removing the newest events is found too.
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier { expected_seq: 1, prev_hash: GENESIS_HASH.to_owned() }
    }
}

impl ChainVerifier {
    /// Checks the next event; events must come in ascending `seq`.
    pub fn push(&mut self, event: &AuditEvent) -> Result<(), ChainBreak> {
        if event.seq != self.expected_seq {
            let reason = if event.seq > self.expected_seq {
                format!("event {} is missing (the next stored event is {})", self.expected_seq, event.seq)
            } else {
                format!("event {} appears again after event {}", event.seq, self.expected_seq - 1)
            };
            return Err(ChainBreak { seq: self.expected_seq, reason });
        }
        if event.prev_hash != self.prev_hash {
            return Err(ChainBreak {
                seq: event.seq,
                reason: format!("event {} does not point to the hash of event {}", event.seq, event.seq - 1),
            });
        }
        if event.compute_hash() != event.hash {
            return Err(ChainBreak {
                seq: event.seq,
                reason: format!("event {} was changed after it was written (its hash does not match)", event.seq),
            });
        }
        self.prev_hash = event.hash.clone();
        self.expected_seq += 1;
        Ok(())
    }

    /// Ends the walk: the chain must reach the head the store recorded.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<i64, ChainBreak> {
        let verified = self.expected_seq - 1;
        if verified < head_seq {
            return Err(ChainBreak {
                seq: verified + 1,
                reason: format!(
                    "events {} to {} are missing (the chain head is at {head_seq})",
                    verified + 1,
                    head_seq
                ),
            });
        }
        if verified > head_seq || (verified > 0 && self.prev_hash != head_hash) {
            return Err(ChainBreak {
                seq: head_seq.max(1),
                reason: format!("the chain head (event {head_seq}) does not match the stored events"),
            });
        }
        Ok(verified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let e = AuditEvent {
                    tenant_id: "t1".into(),
                    seq,
                    at_ms: 1000 + seq,
                    actor: "user:u1".into(),
                    action: "case.claimed".into(),
                    subject: "case:c1".into(),
                    detail: "{}".into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                }
                .sealed();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(events: &[AuditEvent], head_seq: i64, head_hash: &str) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in events {
            v.push(e)?;
        }
        v.finish(head_seq, head_hash)
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, 5, &c[4].hash), Ok(5));
        assert_eq!(verify(&[], 0, GENESIS_HASH), Ok(0));
    }

    #[test]
    fn a_changed_field_names_its_event() {
        let mut c = chain(5);
        c[2].actor = "user:someone-else".into();
        assert_eq!(verify(&c, 5, &c[4].hash).unwrap_err().seq, 3);
    }

    #[test]
    fn a_deleted_event_names_the_gap() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify(&c, 5, &c[3].hash).unwrap_err().seq, 2);
        let c = chain(5);
        assert_eq!(verify(&c[..4], 5, &c[4].hash).unwrap_err().seq, 5);
    }

    #[test]
    fn a_rewritten_chain_still_breaks_at_the_head() {
        // Rewriting an event and re-hashing everything after it does not match the head.
        let mut c = chain(3);
        c[1].detail = "{\"x\":1}".into();
        let mut prev = c[0].hash.clone();
        for e in c.iter_mut().skip(1) {
            e.prev_hash = prev.clone();
            e.hash = e.compute_hash();
            prev = e.hash.clone();
        }
        let original_head = chain(3)[2].hash.clone();
        assert!(verify(&c, 3, &original_head).is_err());
    }
}
