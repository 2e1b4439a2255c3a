//! `check mrz`, `check image FILE` and `screen NAME`: one check on the command line, for
//! support staff and scripts. They print JSON on standard output and exit 0 when the input
//! could be read (whatever the check found), 1 when it could not.

use std::io::Read;
use std::path::PathBuf;

use identdesk_checks::date::Date;
use identdesk_checks::image_quality::{self, ImageThresholds};
use identdesk_checks::mrz;
use identdesk_checks::screening::{self, Query, Watchlist};
use serde_json::json;

use crate::cli::CheckCommand;
use crate::error::{Error, Result};

pub fn check(command: CheckCommand) -> Result<()> {
    match command {
        CheckCommand::Mrz => {
            let mut input = Vec::new();
            std::io::stdin().read_to_end(&mut input)?;
            let text = String::from_utf8(input).map_err(|_| unreadable("standard input is not UTF-8 text"))?;
            match mrz::parse(&text, Date::today()) {
                Ok(read) => {
                    print(&json!(read));
                    Ok(())
                }
                Err(e) => {
                    print(&json!({"valid": false, "error": e.to_string()}));
                    Err(unreadable(&format!("the MRZ cannot be read: {e}")))
                }
            }
        }
        CheckCommand::Image { file } => {
            let bytes = std::fs::read(&file)?;
            let thresholds = ImageThresholds::default();
            let result = match image_quality::decode(&bytes, thresholds.max_pixels) {
                Ok(photo) => image_quality::judge(&image_quality::measure(&photo), &thresholds),
                Err(why) => {
                    print(&json!({"valid": false, "error": why}));
                    return Err(unreadable(&why));
                }
            };
            print(&json!({"measures": result.details, "outcome": result.outcome, "findings": result.findings,
                          "explanation": result.explanation()}));
            Ok(())
        }
    }
}

pub fn screen(
    name: &str,
    dob: Option<&str>,
    country: Option<&str>,
    lists: &[PathBuf],
    threshold: f64,
    limit: usize,
) -> Result<()> {
    let mut entities = Vec::new();
    for path in lists {
        let loaded = screening::load(path).map_err(|e| Error::Config(e.to_string()))?;
        for warning in &loaded.warnings {
            eprintln!("warning: {warning}");
        }
        entities.extend(loaded.entities);
    }
    let dob = dob
        .map(|d| Date::parse_iso(d).ok_or_else(|| Error::InvalidBody(format!("--dob must be YYYY-MM-DD, got '{d}'"))))
        .transpose()?;
    let country = country
        .map(|c| {
            identdesk_checks::countries::alpha3(c)
                .map(str::to_owned)
                .ok_or_else(|| Error::InvalidBody(format!("--country '{c}' is not a country code or name")))
        })
        .transpose()?;
    let watchlist = Watchlist::new(entities);
    let query = Query { name: name.to_owned(), dob, country, persons_only: false, threshold, limit };
    print(&json!({"matches": watchlist.search(&query)}));
    Ok(())
}

fn print(value: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(value).expect("JSON values print"));
}

fn unreadable(why: &str) -> Error {
    Error::InvalidBody(why.to_owned())
}
