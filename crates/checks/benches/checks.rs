//! Checks benchmark: screening latency against the full shared lists and a generated list of
//! 1,000,000 names (with index build time and memory), non-image checks per second on one
//! core, and image quality on a 12-megapixel photo (on the machine's cores, up to four, and on
//! one). Prints medians and p99.
//!
//! `cargo bench -p identdesk-checks --bench checks` (the shared lists from
//! `../shared/watchlists` or IDENTDESK_WATCHLISTS; that part is skipped, saying so, without them).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use identdesk_checks::date::Date;
use identdesk_checks::image_quality::{self, ImageThresholds};
use identdesk_checks::names;
use identdesk_checks::pipeline;
use identdesk_checks::policy::Level;
use identdesk_checks::screening::{self, Entity, EntityKind, ListKind, Query, Watchlist};
use identdesk_checks::submission::{Submission, SubmittedDocument};
use identdesk_domain::{ApplicantInfo, DocumentType};

/// A small deterministic generator (xorshift), so every run screens the same names.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn latency_line(what: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{what:<44} p50 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms  ({} queries)",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
        times.len()
    );
}

/// Resident memory of this process, from /proc (Linux).
fn rss_mb() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0.0);
    pages * 4096.0 / 1e6
}

/// Queries made from listed names (written differently) and from unlisted ones.
fn queries(entities: &[Entity], rng: &mut Rng, n: usize) -> Vec<String> {
    const FIRST: &[&str] = &["Anna", "John", "Maria", "Peter", "Laura", "Thomas", "Sofia", "Lukas", "Emma", "Omar"];
    const LAST: &[&str] = &["Eriksson", "Miller", "Schneider", "Dubois", "Rossi", "Novak", "Jansen", "Haddad"];
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                let e = &entities[rng.below(entities.len())];
                let mut tokens = names::tokens(&e.names[rng.below(e.names.len())]);
                tokens.reverse();
                tokens.join(" ")
            } else {
                format!("{} {}", FIRST[rng.below(FIRST.len())], LAST[rng.below(LAST.len())])
            }
        })
        .collect()
}

fn screen_all(list: &Watchlist, queries: &[String]) -> Vec<Duration> {
    queries
        .iter()
        .map(|q| {
            let t = Instant::now();
            black_box(list.search(&Query::person(q)));
            t.elapsed()
        })
        .collect()
}

fn shared_lists() -> Option<Vec<Entity>> {
    let dir = std::env::var_os("IDENTDESK_WATCHLISTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/watchlists"));
    let ofac = screening::load(&dir.join("ofac")).ok()?;
    let un = screening::load(&dir.join("un/consolidated.xml")).ok()?;
    Some(ofac.entities.into_iter().chain(un.entities).collect())
}

/// A million people with names from generated syllables: many distinct tokens, some common.
fn generated(n: usize, rng: &mut Rng) -> Vec<Entity> {
    const SYL: &[&str] = &[
        "ka", "ri", "mo", "sa", "le", "na", "to", "vi", "an", "el", "or", "mi", "ha", "du", "be", "ro", "za", "ni",
        "ga", "lu", "fe", "po", "shi", "dra", "ven", "kor", "mal", "tes", "lin", "bar",
    ];
    let word = |rng: &mut Rng| -> String {
        let n = 2 + rng.below(2);
        let w: String = (0..n).map(|_| SYL[rng.below(SYL.len())]).collect();
        let mut c = w.chars();
        c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
    };
    (0..n)
        .map(|i| {
            let mut e = Entity::new(format!("gen:{i}"), ListKind::Sanctions, EntityKind::Person);
            let name = match rng.below(3) {
                0 => format!("{} {}", word(rng), word(rng)),
                _ => format!("{} {} {}", word(rng), word(rng), word(rng)),
            };
            e.names.push(name);
            e
        })
        .collect()
}

fn non_image_checks(list: Option<&Watchlist>) {
    let lists: Vec<&Watchlist> = list.into_iter().collect();
    let today = Date::parse_iso("2026-11-23").unwrap();
    let mrz = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
    let mut passport = SubmittedDocument::new("d1", DocumentType::Passport);
    passport.mrz = Some(mrz.into());
    let submission = Submission {
        profile: ApplicantInfo {
            first_name: "Anna Maria".into(),
            last_name: "Eriksson".into(),
            dob: Some("1974-08-12".into()),
            nationality: Some("UTO".into()),
            ..ApplicantInfo::default()
        },
        documents: vec![passport],
        ..Submission::default()
    };
    let level = Level::default();
    let mut runs = Vec::new();
    for _ in 0..5 {
        let n = 20_000;
        let t = Instant::now();
        for _ in 0..n {
            black_box(pipeline::run(black_box(&submission), &level, &lists, &[], today));
        }
        runs.push(n as f64 / t.elapsed().as_secs_f64());
    }
    runs.sort_by(f64::total_cmp);
    println!(
        "non-image checks, one core{:<18} median {:>8.0} applicants/s (runs: {})",
        if list.is_some() { " (screening: shared)" } else { " (no screening)" },
        runs[runs.len() / 2],
        runs.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", ")
    );
}

fn twelve_megapixel_photo() {
    // A photo-like 4000×3000 JPEG: gradients and texture, as a camera gives.
    let img = image::RgbImage::from_fn(4000, 3000, |x, y| {
        let n = ((x * 7919 + y * 104_729) % 251) as u8;
        image::Rgb([(x / 16) as u8 ^ (n / 4), (y / 12) as u8, ((x + y) / 28) as u8 ^ (n / 8)])
    });
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    let jpeg = jpeg.into_inner();
    let thresholds = ImageThresholds::default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    for threads in [cores, 1] {
        let (mut decode, mut measure, mut total) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..15 {
            let t = Instant::now();
            let photo = image_quality::decode_on(&jpeg, thresholds.max_pixels, threads).unwrap();
            let decoded = t.elapsed();
            let m = image_quality::measure(&photo);
            black_box(image_quality::judge(&m, &thresholds));
            decode.push(decoded);
            measure.push(t.elapsed() - decoded);
            total.push(t.elapsed());
        }
        for v in [&mut decode, &mut measure, &mut total] {
            v.sort();
        }
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "image quality, 12 MP JPEG ({:.1} MB), {threads} thread(s)  median: decode {:>5.1} ms + measure {:>4.1} ms = {:>5.1} ms (p90 {:.1} ms)",
            jpeg.len() as f64 / 1e6,
            ms(decode[7]),
            ms(measure[7]),
            ms(total[7]),
            ms(total[13]),
        );
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    println!("checks benchmark (one thread, unless a line says otherwise)");

    let shared = match shared_lists() {
        Some(entities) => {
            let before = rss_mb();
            let t = Instant::now();
            let list = Watchlist::new(entities.clone());
            println!(
                "shared lists (OFAC + UN): {} entities, {} names; index built in {:.0} ms, +{:.0} MB",
                list.len(),
                list.names(),
                t.elapsed().as_secs_f64() * 1e3,
                rss_mb() - before
            );
            let q = queries(&entities, &mut rng, 4000);
            let times = screen_all(&list, &q);
            if std::env::var_os("IDENTDESK_BENCH_SLOWEST").is_some() {
                let mut slow: Vec<(Duration, &String)> = times.iter().copied().zip(&q).collect();
                slow.sort();
                for (t, q) in slow.iter().rev().take(8) {
                    println!("  slow: {:.3} ms  {q}", t.as_secs_f64() * 1e3);
                }
            }
            latency_line("screening, shared lists", times);
            Some(list)
        }
        None => {
            println!("shared lists: SKIPPED, not found (set IDENTDESK_WATCHLISTS to the shared folder)");
            None
        }
    };

    let before = rss_mb();
    let t = Instant::now();
    let entities = generated(1_000_000, &mut rng);
    let generated_in = t.elapsed();
    let t = Instant::now();
    let list = Watchlist::new(entities.clone());
    println!(
        "generated list: {} names (made in {:.1} s); index built in {:.1} s, list + index {:.0} MB",
        list.names(),
        generated_in.as_secs_f64(),
        t.elapsed().as_secs_f64(),
        rss_mb() - before
    );
    let q = queries(&entities, &mut rng, 4000);
    drop(entities);
    latency_line("screening, 1,000,000 generated names", screen_all(&list, &q));
    drop(list);

    non_image_checks(None);
    non_image_checks(shared.as_ref());
    twelve_megapixel_photo();
}
