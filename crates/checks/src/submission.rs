//! What the pipeline is given about one applicant: the profile they stated, their documents
//! with what the client extracted from them (MRZ lines, number, expiry, address), and where
//! the submission came from.

use std::sync::OnceLock;

use identdesk_domain::{ApplicantInfo, DocumentSide, DocumentType};

use crate::contact::{EmailSignals, PhoneSignals};
use crate::date::Date;
use crate::mrz::{self, Mrz, MrzError};

#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// The stated profile. Its phone and e-mail are not used: the signals below are.
    pub profile: ApplicantInfo,
    /// What the phone number and e-mail address said when the applicant was created.
    pub phone: Option<PhoneSignals>,
    pub email: Option<EmailSignals>,
    pub documents: Vec<SubmittedDocument>,
    /// The IP address's country (alpha-2 or alpha-3), when the client gives it.
    pub ip_country: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SubmittedDocument {
    pub id: String,
    pub doc_type: DocumentType,
    pub side: Option<DocumentSide>,
    /// Issuing country as the client gave it.
    pub country: Option<String>,
    /// The MRZ lines, when the document has them and the client read them.
    pub mrz: Option<String>,
    pub number: Option<String>,
    /// `YYYY-MM-DD`, when the document has no MRZ.
    pub expiry: Option<String>,
    /// The address on a proof of address.
    pub address: Option<String>,
    /// The image file.
    pub image: Option<Vec<u8>>,
    /// The MRZ as read, once: every check asks for it.
    mrz_read: OnceLock<Option<Result<Mrz, MrzError>>>,
}

impl SubmittedDocument {
    pub fn new(id: &str, doc_type: DocumentType) -> SubmittedDocument {
        SubmittedDocument {
            id: id.to_owned(),
            doc_type,
            side: None,
            country: None,
            mrz: None,
            number: None,
            expiry: None,
            address: None,
            image: None,
            mrz_read: OnceLock::new(),
        }
    }

    /// Identity documents: the ones with a holder, a number and an expiry.
    pub fn is_identity(&self) -> bool {
        matches!(
            self.doc_type,
            DocumentType::Passport | DocumentType::IdCard | DocumentType::Drivers | DocumentType::ResidencePermit
        )
    }

    /// The MRZ read, when one was given. It is read on the first call (whose `today` decides
    /// the dates' centuries; a pipeline run has one `today`), so set `mrz` before asking.
    pub fn read_mrz(&self, today: Date) -> Option<&Result<Mrz, MrzError>> {
        self.mrz_read
            .get_or_init(|| self.mrz.as_deref().filter(|m| !m.trim().is_empty()).map(|m| mrz::parse(m, today)))
            .as_ref()
    }

    /// The MRZ when it could be read.
    pub fn mrz(&self, today: Date) -> Option<&Mrz> {
        self.read_mrz(today).and_then(|r| r.as_ref().ok())
    }

    /// The expiry date: the MRZ's when it reads, else the one the client gave.
    pub fn expiry_date(&self, today: Date) -> Option<Date> {
        let from_mrz = self.mrz(today).and_then(|m| m.fields.expiry_date);
        from_mrz.or_else(|| self.expiry.as_deref().and_then(Date::parse_iso))
    }

    /// The issuing country as alpha-3: the MRZ's, else the one the client gave.
    pub fn issuing_country(&self, today: Date) -> Option<String> {
        let from_mrz = self.mrz(today).map(|m| m.fields.issuing_state.clone());
        from_mrz
            .and_then(|c| crate::countries::alpha3(&c).map(str::to_owned).or(Some(c)))
            .or_else(|| self.country.as_deref().and_then(crate::countries::alpha3).map(str::to_owned))
    }

    /// A human name for the document in explanations.
    pub fn describe(&self) -> String {
        let kind = match self.doc_type {
            DocumentType::Passport => "passport",
            DocumentType::IdCard => "identity card",
            DocumentType::Drivers => "driving licence",
            DocumentType::ResidencePermit => "residence permit",
            DocumentType::Selfie => "selfie",
            DocumentType::UtilityBill => "proof of address",
            DocumentType::Other => "document",
        };
        match self.side {
            Some(DocumentSide::Front) => format!("{kind} (front)"),
            Some(DocumentSide::Back) => format!("{kind} (back)"),
            None => kind.to_owned(),
        }
    }
}

/// The profile's date of birth, when it is a date.
/// The youngest age anything in the submission gives the applicant: the profile's date of birth
/// and every document's MRZ. A child is treated as one as soon as one source says so.
pub fn youngest_age(submission: &Submission, today: Date) -> Option<i32> {
    let from_documents = submission.documents.iter().filter_map(|d| d.mrz(today).and_then(|m| m.fields.birth_date));
    profile_dob(&submission.profile).into_iter().chain(from_documents).map(|dob| dob.years_until(today)).min()
}

pub fn profile_dob(profile: &ApplicantInfo) -> Option<Date> {
    profile.dob.as_deref().and_then(Date::parse_iso)
}
