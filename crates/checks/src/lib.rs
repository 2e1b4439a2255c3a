//! IdentDesk's automated checks. Each module owns one check and says, for every result, in
//! one sentence what was checked and why it failed; `policy` turns the results into a
//! verdict. No I/O beyond reading the inputs a check is given.

pub mod countries;
pub mod date;
pub mod image_quality;
pub mod mrz;
pub mod names;
pub mod result;
pub mod screening;
