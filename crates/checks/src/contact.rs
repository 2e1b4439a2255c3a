//! Phone and e-mail risk. The identifiers are looked at here, in memory, and never leave:
//! results, details and explanations carry only the derived signals (valid, type, country,
//! disposable domain), never the number or the address.

use std::collections::HashSet;
use std::sync::OnceLock;

use identdesk_domain::RejectLabel;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::countries;
use crate::result::{finding, CheckKind, CheckResult, Finding};

/// What a phone number says about its owner, without the number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneSignals {
    pub valid: bool,
    /// `mobile`, `fixed_line`, `voip`, `premium_rate`, … as libphonenumber names them.
    pub kind: Option<String>,
    /// Alpha-3.
    pub country: Option<String>,
}

/// What an e-mail address says about its owner, without the address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailSignals {
    pub valid_syntax: bool,
    pub disposable_domain: bool,
}

/// Reads a phone number in international form (`+49 30 …`).
pub fn phone_signals(number: &str) -> PhoneSignals {
    match phonenumber::parse(None, number) {
        Ok(parsed) => {
            let valid = phonenumber::is_valid(&parsed);
            let kind = serde_json::to_value(parsed.number_type(&phonenumber::metadata::DATABASE))
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned));
            let country =
                parsed.country().id().and_then(|id| countries::alpha3_of_alpha2(id.as_ref())).map(str::to_owned);
            PhoneSignals { valid, kind: valid.then_some(kind).flatten(), country }
        }
        Err(_) => PhoneSignals { valid: false, kind: None, country: None },
    }
}

pub fn email_signals(address: &str) -> EmailSignals {
    let address = address.trim().to_ascii_lowercase();
    let valid_syntax = valid_syntax(&address);
    let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    // The domain and each of its parents: mail.guerrillamail.com is disposable too.
    let disposable_domain = valid_syntax
        && domain.match_indices('.').map(|(i, _)| &domain[i + 1..]).chain([domain]).any(|d| disposable().contains(d));
    EmailSignals { valid_syntax, disposable_domain }
}

fn disposable() -> &'static HashSet<&'static str> {
    static DOMAINS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    DOMAINS.get_or_init(|| mailchecker::blacklist().into_iter().collect())
}

/// One `@`, a local part of allowed characters, a domain of at least two labels of letters,
/// digits and hyphens.
fn valid_syntax(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else { return false };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && domain_ok
}

/// The phone check on a number's signals: a valid number, not a premium-rate or shared line,
/// from the country of the document (and of the IP address, when known).
pub fn phone_check(signals: &PhoneSignals, document_country: Option<&str>, ip_country: Option<&str>) -> CheckResult {
    let mut findings = Vec::new();
    if !signals.valid {
        findings.push(finding(
            RejectLabel::PROBLEMATIC_APPLICANT_DATA,
            "The phone number is not a valid number in international form (+country code).",
        ));
    }
    if let Some(kind @ ("premium_rate" | "shared_cost" | "uan" | "pager")) = signals.kind.as_deref() {
        findings.push(finding(
            RejectLabel::SUSPICIOUS_PATTERNS,
            format!("The phone number is a {} line, not a personal one.", kind.replace('_', " ")),
        ));
    }
    findings.extend(country_mismatch("phone number", signals.country.as_deref(), document_country, ip_country));
    let summary = format!(
        "The phone number is valid ({}, {}).",
        signals.kind.as_deref().unwrap_or("unknown type").replace('_', " "),
        signals.country.as_deref().unwrap_or("unknown country")
    );
    CheckResult::from_findings(CheckKind::PhoneRisk, findings, summary, json!(signals))
}

/// The e-mail check on an address's signals: valid syntax, not a disposable domain.
pub fn email_check(signals: &EmailSignals) -> CheckResult {
    let mut findings = Vec::new();
    if !signals.valid_syntax {
        findings.push(finding(RejectLabel::PROBLEMATIC_APPLICANT_DATA, "The e-mail address is not a valid address."));
    } else if signals.disposable_domain {
        findings.push(finding(
            RejectLabel::SUSPICIOUS_PATTERNS,
            "The e-mail address is at a disposable (throw-away) mail domain.",
        ));
    }
    CheckResult::from_findings(
        CheckKind::EmailRisk,
        findings,
        "The e-mail address is valid and not at a disposable domain.".into(),
        json!(signals),
    )
}

fn country_mismatch(what: &str, own: Option<&str>, document: Option<&str>, ip: Option<&str>) -> Vec<Finding> {
    let Some(own) = own else { return Vec::new() };
    [("the document", document), ("the IP address", ip)]
        .into_iter()
        .filter_map(|(source, other)| {
            let other = other.and_then(countries::alpha3)?;
            (other != own).then(|| {
                finding(RejectLabel::SUSPICIOUS_PATTERNS, format!("The {what} is from {own}, {source} from {other}."))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::Outcome;

    #[test]
    fn phone_numbers_give_validity_type_and_country() {
        let mobile = phone_signals("+49 151 23456789");
        assert_eq!(mobile, PhoneSignals { valid: true, kind: Some("mobile".into()), country: Some("DEU".into()) });
        assert!(!phone_signals("+49 123").valid);
        assert!(!phone_signals("not a number").valid);
        assert_eq!(phone_signals("+44 20 7946 0018").country.as_deref(), Some("GBR"));
    }

    #[test]
    fn e_mail_syntax_and_disposable_domains() {
        assert_eq!(
            email_signals("anna.eriksson@example.se"),
            EmailSignals { valid_syntax: true, disposable_domain: false }
        );
        assert!(email_signals("x@mailinator.com").disposable_domain);
        assert!(email_signals("x@sub.guerrillamail.com").disposable_domain);
        for bad in ["anna", "anna@", "@example.com", "a..b@example.com", "a@example", "a@-x.com", "a b@example.com"] {
            assert!(!email_signals(bad).valid_syntax, "{bad}");
        }
    }

    #[test]
    fn results_never_carry_the_identifier() {
        let phone = phone_check(&phone_signals("+49 151 23456789"), Some("FRA"), None);
        assert_eq!(phone.outcome, Outcome::Fail);
        assert!(phone.explanation().contains("from DEU, the document from FRA"), "{}", phone.explanation());
        let email = email_check(&email_signals("someone.private@mailinator.com"));
        assert_eq!(email.labels().collect::<Vec<_>>(), vec![RejectLabel::SUSPICIOUS_PATTERNS]);
        let all = serde_json::to_string(&(phone, email)).unwrap();
        assert!(!all.contains("23456789") && !all.contains("someone.private"), "{all}");
        assert_eq!(phone_check(&phone_signals("+1"), None, None).outcome, Outcome::Fail);
    }
}
