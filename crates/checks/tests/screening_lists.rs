//! Screening against the real OFAC and UN lists in `../shared/watchlists` (never committed;
//! `IDENTDESK_WATCHLISTS` points elsewhere). Without them these tests say so and pass.

use std::path::PathBuf;
use std::sync::OnceLock;

use identdesk_checks::date::Date;
use identdesk_checks::names;
use identdesk_checks::screening::{self, Entity, EntityKind, Query, Watchlist};

fn lists_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("IDENTDESK_WATCHLISTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/watchlists"));
    if dir.join("ofac/sdn.csv").exists() && dir.join("un/consolidated.xml").exists() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: no watchlists at {} (set IDENTDESK_WATCHLISTS to the shared folder)", dir.display());
        None
    }
}

fn watchlist() -> Option<&'static (Watchlist, Vec<Entity>)> {
    static LISTS: OnceLock<Option<(Watchlist, Vec<Entity>)>> = OnceLock::new();
    LISTS
        .get_or_init(|| {
            let dir = lists_dir()?;
            let mut entities = screening::load(&dir.join("ofac")).unwrap().entities;
            entities.extend(screening::load(&dir.join("un/consolidated.xml")).unwrap().entities);
            Some((Watchlist::new(entities.clone()), entities))
        })
        .as_ref()
}

fn top(list: &Watchlist, query: &Query) -> Option<(String, f64)> {
    list.search(query).first().map(|h| (h.entity_id.clone(), h.score))
}

fn finds(list: &Watchlist, name: &str, id: &str) -> f64 {
    let hits = list.search(&Query::person(name));
    let hit = hits.iter().find(|h| h.entity_id == id);
    hit.unwrap_or_else(|| panic!("'{name}' finds {id}; got {hits:#?}")).score
}

#[test]
fn both_lists_load_whole() {
    let Some((list, entities)) = watchlist() else { return };
    let ofac = entities.iter().filter(|e| e.id.starts_with("ofac:")).count();
    let un = entities.iter().filter(|e| e.id.starts_with("un:")).count();
    assert!(ofac > 8_000, "about 9,000 OFAC entries, got {ofac}");
    assert!(un > 900, "about 1,000 UN entries, got {un}");
    assert!(list.names() > 20_000, "names and aliases: {}", list.names());
    let kim = entities.iter().find(|e| e.id == "ofac:20157").unwrap();
    assert_eq!(kim.kind, EntityKind::Person);
    assert_eq!(kim.birth_dates.len(), 1);
    let zawahiri = entities.iter().find(|e| e.id == "ofac:2676").unwrap();
    assert!(zawahiri.names.iter().any(|n| n == "AL-ZAWAHIRI, Aiman Muhammad Rabi"), "aliases from alt.csv");
    assert!(zawahiri.documents.contains(&"1084010".to_owned()), "passports from Remarks");
}

#[test]
fn names_are_found_however_they_are_written() {
    let Some((list, _)) = watchlist() else { return };
    // Reordered, without the comma.
    assert!(finds(list, "Jong Un Kim", "ofac:20157") > 0.95);
    // Diacritics and another transliteration of a listed alias.
    assert!(finds(list, "Aymán al-Ẓawāhirī", "ofac:2676") > 0.85);
    assert!(finds(list, "Aiman al Zawahiri", "un:111923") > 0.9);
    // An alias (alt.csv), in another spelling.
    assert!(finds(list, "Osama bin Laden", "ofac:6365") > 0.85);
    // Missing middle name.
    assert!(finds(list, "Gilmer Galindo", "ofac:4323") > 0.85);
    // A single typo.
    assert!(finds(list, "Hector Fabio Chavaro", "ofac:4518") > 0.85);
    // Upper, lower, mixed case.
    assert!(finds(list, "MARIA norby SERNA", "ofac:4557") > 0.95);
}

#[test]
fn date_of_birth_and_country_lower_the_score_when_they_disagree() {
    let Some((list, _)) = watchlist() else { return };
    let mut query = Query::person("Kim Jong Un");
    query.threshold = 0.5;
    let plain = top(list, &query).unwrap();
    query.dob = Date::parse_iso("1984-01-08");
    let same_dob = top(list, &query).unwrap();
    assert_eq!(same_dob, plain, "a matching date of birth changes nothing");
    query.dob = Date::parse_iso("1984-05-05");
    let same_year = list.search(&query).into_iter().find(|h| h.entity_id == "ofac:20157").unwrap();
    query.dob = Date::parse_iso("1990-01-08");
    let other_year = list.search(&query).into_iter().find(|h| h.entity_id == "ofac:20157").unwrap();
    assert!(same_year.score < plain.1 && other_year.score < same_year.score);
    assert_eq!(other_year.features.dob_match, Some(false));

    let mut query = Query::person("Mohammad Shawqi Islambouli");
    query.threshold = 0.5;
    let plain = list.search(&query).into_iter().find(|h| h.entity_id == "ofac:2682").unwrap();
    query.country = Some("EGY".into());
    let same = list.search(&query).into_iter().find(|h| h.entity_id == "ofac:2682").unwrap();
    query.country = Some("NOR".into());
    let other = list.search(&query).into_iter().find(|h| h.entity_id == "ofac:2682").unwrap();
    assert_eq!(same.score, plain.score);
    assert_eq!(same.features.country_match, Some(true));
    assert!(other.score < plain.score);
}

/// A labelled set made from the lists: listed people written another way (positives), and
/// people made of common names who are not listed (negatives). Prints recall and precision.
#[test]
fn labelled_set_recall_and_precision() {
    let Some((list, entities)) = watchlist() else { return };
    let mut rng = 0x2545F4914F6CDD1Du64;
    let mut next = move |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    let people: Vec<&Entity> =
        entities.iter().filter(|e| e.kind == EntityKind::Person && names::tokens(&e.names[0]).len() >= 3).collect();
    let (mut found, mut positives) = (0, 0);
    let mut missed = Vec::new();
    for _ in 0..400 {
        let entity = people[next(people.len())];
        let mut tokens = names::tokens(&entity.names[0]);
        let variant = next(4);
        match variant {
            0 => tokens.reverse(),
            1 => {
                // Drop a middle name.
                tokens.remove(1);
            }
            2 => {
                // One typo in the longest token: a letter doubled.
                let longest = (0..tokens.len()).max_by_key(|&i| tokens[i].len()).unwrap();
                let t = &mut tokens[longest];
                let at = 1 + next(t.len() - 1);
                let c = t.as_bytes()[at] as char;
                t.insert(at, c);
            }
            _ => tokens = tokens.iter().map(|t| t.to_lowercase()).collect(),
        }
        let query = tokens.join(" ");
        positives += 1;
        if list.search(&Query::person(&query)).iter().any(|h| h.entity_id == entity.id) {
            found += 1;
        } else {
            missed.push(format!("{query} (variant {variant}) -> {}", entity.id));
        }
    }
    const FIRST: &[&str] = &[
        "Anna", "John", "Maria", "Peter", "Laura", "Thomas", "Sofia", "Lukas", "Emma", "Jonas", "Clara", "Felix",
        "Julia", "Martin", "Nora", "Oskar", "Ines", "Paul", "Elena", "Henrik",
    ];
    const LAST: &[&str] = &[
        "Eriksson",
        "Miller",
        "Schneider",
        "Dubois",
        "Rossi",
        "Novak",
        "Jansen",
        "Kowalski",
        "Fischer",
        "Lindqvist",
        "Moreau",
        "Bauer",
        "Hansen",
        "Varga",
        "Costa",
        "Weber",
        "Nielsen",
        "Horvath",
        "Keller",
        "Berg",
    ];
    let (mut false_hits, mut negatives) = (0, 0);
    for first in FIRST {
        for last in LAST {
            negatives += 1;
            let hits = list.search(&Query::person(&format!("{first} {last}")));
            if let Some(hit) = hits.first() {
                false_hits += 1;
                println!(
                    "  unlisted hit: {first} {last} -> {} {} ({})",
                    hit.entity_id, hit.features.matched_name, hit.score
                );
            }
        }
    }
    let recall = found as f64 / positives as f64;
    let precision = found as f64 / (found + false_hits) as f64;
    println!(
        "labelled set: {positives} listed people written differently, {negatives} unlisted names; \
         recall {recall:.3}, precision {precision:.3} ({false_hits} unlisted names hit)"
    );
    for m in missed.iter().take(10) {
        println!("  missed: {m}");
    }
    assert!(recall >= 0.95, "recall {recall}");
    assert!(precision >= 0.95, "precision {precision}");
}
