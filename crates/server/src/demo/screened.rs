//! Demo applicants that go through the automated checks when the server starts, so the demo
//! shows what reviewers see most: watchlist hits to confirm or dismiss (against the tenant's
//! invented example list, written to its lists folder), a broken MRZ check digit, an expired
//! passport, and a duplicate. Submitted as a client system would; the server's worker runs
//! the checks.

use std::path::Path;

use identdesk_checks::mrz::compose_td3;
use identdesk_domain::{ApplicantInfo, DocumentSide, DocumentType, Environment};
use rand::Rng;

use super::{id_card_png, selfie_png};
use crate::error::Result;
use crate::media::MediaStore;
use crate::store::accounts::sha256_hex;
use crate::store::applicants::{NewApplicant, NewDocument};
use crate::store::audit::Actor;
use crate::store::{new_id, Store};
use crate::verification::DocumentExtract;

/// The invented list the demo tenant screens against (no real person is on it).
const EXAMPLE_LIST: &str = include_str!("../../../../assets/watchlists/example-blocklist.csv");

struct Screened {
    first: &'static str,
    last: &'static str,
    /// YYYY-MM-DD.
    dob: &'static str,
    nationality: &'static str,
    passport: &'static str,
    /// YYMMDD.
    expiry: &'static str,
    /// Break the date-of-birth check digit.
    broken_digit: bool,
}

const APPLICANTS: &[Screened] = &[
    // On the example blocklist, date of birth and country as listed.
    Screened {
        first: "Viktor",
        last: "Hallgrimsson",
        dob: "1979-03-14",
        nationality: "ISL",
        passport: "A4821937",
        expiry: "300815",
        broken_digit: false,
    },
    // The PEP entry's alias.
    Screened {
        first: "Ngozi",
        last: "Okonkwo",
        dob: "1958-05-21",
        nationality: "NGA",
        passport: "B19284736",
        expiry: "290130",
        broken_digit: false,
    },
    // A namesake of the sanctioned entry, born 19 years later: a hit to dismiss.
    Screened {
        first: "Tarquin",
        last: "Ashcombe-Villiers",
        dob: "1990-02-11",
        nationality: "GBR",
        passport: "533019284",
        expiry: "310922",
        broken_digit: false,
    },
    Screened {
        first: "Greta",
        last: "Lindqvist",
        dob: "1988-06-30",
        nationality: "SWE",
        passport: "91734628",
        expiry: "320101",
        broken_digit: true,
    },
    Screened {
        first: "Pieter",
        last: "Jansen",
        dob: "1984-02-29",
        nationality: "NLD",
        passport: "NX1111111",
        expiry: "240601",
        broken_digit: false,
    },
    // Two applicants with one passport: the second is a duplicate of the first.
    Screened {
        first: "Marta",
        last: "Kowalczyk",
        dob: "1993-09-17",
        nationality: "POL",
        passport: "EK7395102",
        expiry: "330305",
        broken_digit: false,
    },
    Screened {
        first: "Marta",
        last: "Kowalczyk",
        dob: "1993-09-17",
        nationality: "POL",
        passport: "EK7395102",
        expiry: "330305",
        broken_digit: false,
    },
];

/// Writes the example list into the tenant's lists folder and submits the applicants.
pub async fn seed(
    store: &Store,
    media: &MediaStore,
    data_dir: &Path,
    tenant_id: &str,
    rng: &mut impl Rng,
) -> Result<()> {
    let lists = data_dir.join("lists").join(tenant_id);
    std::fs::create_dir_all(&lists)?;
    std::fs::write(lists.join("example-blocklist.csv"), EXAMPLE_LIST)?;
    let actor = Actor::System;
    for (n, person) in APPLICANTS.iter().enumerate() {
        let info = ApplicantInfo {
            first_name: person.first.into(),
            last_name: person.last.into(),
            dob: Some(person.dob.into()),
            nationality: Some(person.nationality.into()),
            ..Default::default()
        };
        let external = format!("demo-screened-{n}");
        let new = NewApplicant {
            environment: Environment::Sandbox,
            external_user_id: Some(&external),
            level: "basic-kyc",
            info: &info,
            contact_signals: None,
            ip_country: None,
            identifiers: Vec::new(),
            parental_consent: false,
        };
        let applicant = store.create_applicant(tenant_id, &new, &actor).await?;
        let dob = person.dob.replace('-', "");
        let mut mrz = compose_td3(
            &person.last.to_uppercase().replace('-', "<"),
            &person.first.to_uppercase(),
            person.passport,
            person.nationality,
            &dob[2..],
            person.expiry,
        );
        if person.broken_digit {
            // The date of birth's check digit is the 20th character of the second line.
            let at = mrz.find('\n').expect("two lines") + 1 + 19;
            let digit = mrz.as_bytes()[at] - b'0';
            mrz.replace_range(at..at + 1, &((digit + 3) % 10).to_string());
        }
        let extract = DocumentExtract { mrz: Some(mrz), ..Default::default() };
        let pages = [
            (DocumentType::Passport, Some(DocumentSide::Front), id_card_png(rng, false), Some(extract)),
            (DocumentType::Selfie, None, selfie_png(rng), None),
        ];
        for (doc_type, side, bytes, extract) in pages {
            let id = new_id();
            let storage_key = media.put(tenant_id, &applicant.id, &id, &bytes).await?;
            let (width, height) = if doc_type == DocumentType::Selfie { (240, 320) } else { (960, 600) };
            let doc = NewDocument {
                id,
                doc_type,
                side,
                country: (doc_type != DocumentType::Selfie).then(|| person.nationality.to_owned()),
                content_type: "image/png".into(),
                byte_size: bytes.len() as i64,
                sha256: sha256_hex(&bytes),
                width,
                height,
                storage_key,
                extracted: extract.map(|e| serde_json::to_string(&e).expect("extract serialises")),
            };
            store.add_document(tenant_id, &applicant.id, &doc, &actor).await?;
        }
        store.submit_applicant(tenant_id, &applicant.id, &actor).await?;
    }
    Ok(())
}
