//! IdentDesk's automated checks. Each module owns one check and says, for every result, in
//! one sentence what was checked and why it failed; `policy` turns the results into a
//! verdict and `pipeline` runs them all for one applicant. No I/O beyond reading the inputs a
//! check is given.

pub mod consistency;
pub mod contact;
pub mod countries;
pub mod country_risk;
pub mod date;
pub mod duplicates;
pub mod image_quality;
pub mod mrz;
pub mod names;
pub mod pipeline;
pub mod policy;
pub mod result;
pub mod screening;
pub mod submission;
pub mod validity;
