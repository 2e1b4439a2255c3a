//! `identdesk-server demo`: a tenant with one user of each role, a sandbox API key and a living
//! queue — applicants from many countries with generated document images, cases in every state,
//! and decisions made through the same code paths reviewers use. Passwords are generated on
//! every run and printed once; running it again keeps the data and hands out new passwords.
//! `screened` adds applicants that the automated checks run on when the server starts.

mod screened;

use identdesk_domain::{
    Answer, ApplicantInfo, ApplicantStatus, CaseKind, CaseState, DecisionInput, DocumentSide, DocumentType,
    Environment, Region, RejectLabel, RejectType, ReviewPolicy, Role,
};
use image::{Rgb, RgbImage};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::error::{Error, Result};
use crate::media::MediaStore;
use crate::store::accounts::{generate_password, sha256_hex};
use crate::store::applicants::{NewDocument, SeedApplicant};
use crate::store::audit::Actor;
use crate::store::cases::{NewCase, DEFAULT_LEASE_MS};
use crate::store::{new_id, now_ms, Store};

pub const DEMO_TENANT: &str = "Demo Bank";

/// The demo's staff: e-mail and role.
pub const DEMO_USERS: &[(&str, Role)] = &[
    ("reviewer@demo.identdesk.test", Role::Reviewer),
    ("reviewer2@demo.identdesk.test", Role::Reviewer),
    ("operator@demo.identdesk.test", Role::VideoOperator),
    ("supervisor@demo.identdesk.test", Role::Supervisor),
    ("admin@demo.identdesk.test", Role::Admin),
];

// (nationality, first names, last names) — enough variety for screening and UI work.
const PEOPLE: &[(&str, &[&str], &[&str])] = &[
    (
        "DEU",
        &["Anna", "Lukas", "Mia", "Jonas", "Lea", "Felix"],
        &["Müller", "Schmidt", "Schneider", "Fischer", "Weber"],
    ),
    ("FRA", &["Camille", "Louis", "Chloé", "Hugo", "Léa"], &["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau"]),
    ("ESP", &["Lucía", "Hugo", "Martina", "Pablo"], &["García", "Fernández", "González", "Rodríguez"]),
    ("POL", &["Zofia", "Jakub", "Julia", "Kacper"], &["Nowak", "Kowalski", "Wiśniewski", "Wójcik"]),
    ("NLD", &["Sanne", "Daan", "Emma", "Sem"], &["de Jong", "Jansen", "de Vries", "van den Berg"]),
    ("GBR", &["Olivia", "Jack", "Amelia", "Harry"], &["Smith", "Jones", "Taylor", "Brown"]),
    ("TUR", &["Elif", "Yusuf", "Zeynep", "Emir"], &["Yılmaz", "Kaya", "Demir", "Şahin"]),
    ("UKR", &["Oleksandr", "Anastasiia", "Dmytro", "Sofiia"], &["Shevchenko", "Kovalenko", "Bondarenko"]),
    ("BRA", &["João", "Maria", "Gabriel", "Ana"], &["Silva", "Santos", "Oliveira", "Souza"]),
    ("IND", &["Aarav", "Diya", "Vivaan", "Ananya"], &["Sharma", "Patel", "Iyer", "Reddy"]),
    ("NGA", &["Chinedu", "Ngozi", "Emeka", "Aisha"], &["Okafor", "Adeyemi", "Balogun", "Eze"]),
    ("VNM", &["Minh", "Linh", "Huy", "Trang"], &["Nguyen", "Tran", "Le", "Pham"]),
];

/// A plausible ID card: coloured card, photo box, text lines and an MRZ band, at the size of a
/// phone's crop (960×600).
fn id_card_png(rng: &mut impl Rng, back: bool) -> Vec<u8> {
    let (w, h) = (480u32, 300u32);
    let base = [rng.gen_range(150..230u8), rng.gen_range(170..230u8), rng.gen_range(180..240u8)];
    let mut img = RgbImage::from_fn(w, h, |x, y| {
        let shade = ((x + y) % 40) as u8 / 4;
        Rgb([base[0].saturating_sub(shade), base[1].saturating_sub(shade), base[2]])
    });
    let mut fill = |x0: u32, y0: u32, x1: u32, y1: u32, c: [u8; 3]| {
        for y in y0..y1.min(h) {
            for x in x0..x1.min(w) {
                img.put_pixel(x, y, Rgb(c));
            }
        }
    };
    if back {
        fill(0, 200, w, 290, [245, 245, 240]);
        for row in 0..3 {
            for ch in 0..30 {
                let x = 12 + ch * 15;
                fill(x, 210 + row * 26, x + 10, 228 + row * 26, [30, 30, 30]);
            }
        }
    } else {
        fill(20, 60, 140, 220, [200, 190, 180]);
        fill(55, 85, 105, 140, [120, 90, 70]);
        fill(45, 140, 115, 215, [60, 70, 110]);
        for line in 0..6 {
            let len = rng.gen_range(120..280);
            fill(160, 70 + line * 24, 160 + len, 82 + line * 24, [40, 40, 60]);
        }
        fill(0, 0, w, 40, [30, 60, 120]);
    }
    encode_png(&image::imageops::resize(&img, w * 2, h * 2, image::imageops::FilterType::Triangle))
}

/// A plausible proof of address: a white page with a letterhead and lines of text.
fn utility_bill_png(rng: &mut impl Rng) -> Vec<u8> {
    let (w, h) = (620u32, 877u32);
    let ink = [rng.gen_range(0..80u8), rng.gen_range(40..120u8), rng.gen_range(100..180u8)];
    let mut lines = Vec::new();
    for n in 0..24u32 {
        lines.push((170 + n * 26, rng.gen_range(150..520u32)));
    }
    let img = RgbImage::from_fn(w, h, |x, y| {
        let letterhead = y > 40 && y < 100 && x > 40 && x < 260;
        let text = lines.iter().any(|&(top, len)| y >= top && y < top + 10 && x >= 50 && x < 50 + len);
        if letterhead {
            Rgb(ink)
        } else if text {
            Rgb([50, 50, 55])
        } else {
            Rgb([250, 250, 247])
        }
    });
    encode_png(&img)
}

/// A plausible selfie: background, face and shoulders.
fn selfie_png(rng: &mut impl Rng) -> Vec<u8> {
    let (w, h) = (240u32, 320u32);
    let skin = [rng.gen_range(120..235u8), rng.gen_range(90..200u8), rng.gen_range(70..170u8)];
    let img = RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as i64 - 120, y as i64 - 130);
        if dx * dx * 100 / (60 * 60) + dy * dy * 100 / (80 * 80) <= 100 {
            Rgb(skin)
        } else if y > 230 && (x as i64 - 120).abs() < 110 {
            Rgb([50, 60, 90])
        } else {
            Rgb([200, 205, 210])
        }
    });
    encode_png(&img)
}

fn encode_png(img: &RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("PNG encodes in memory");
    out.into_inner()
}

/// Seeds the demo into `store`, or refreshes the passwords when it is there already.
pub async fn seed(
    store: &Store,
    media: &MediaStore,
    data_dir: &std::path::Path,
    applicants: usize,
    load_cases: usize,
) -> Result<()> {
    let mut rng = StdRng::from_entropy();
    let existing = store.tenants().await?.into_iter().find(|t| t.name == DEMO_TENANT);
    let fresh = existing.is_none();
    let tenant = match existing {
        Some(t) => t,
        None => store.create_tenant(DEMO_TENANT, Region::Eu).await?,
    };
    let mut logins = Vec::new();
    for (email, role) in DEMO_USERS {
        let pw = generate_password();
        match store.create_user(&tenant.id, email, *role, &pw).await {
            Ok(_) => {}
            Err(Error::AlreadyExists(_)) => store.set_password(email, &pw).await?,
            Err(e) => return Err(e),
        }
        logins.push((*email, *role, pw));
    }
    let (_, api_key) = store.create_api_key(&tenant.id, Environment::Sandbox).await?;
    if fresh {
        seed_queue(store, media, &tenant.id, applicants, &mut rng).await?;
        screened::seed(store, media, data_dir, &tenant.id, &mut rng).await?;
        println!(
            "Seeded tenant '{DEMO_TENANT}' with {applicants} applicants, and 7 more that the checks run on when the \
             server starts (watchlist hits, a broken MRZ, an expired passport, a duplicate)."
        );
        if load_cases > 0 {
            seed_load(store, &tenant.id, load_cases).await?;
            println!("Added {load_cases} queued review cases without documents (for load tests).");
        }
    } else {
        println!("Tenant '{DEMO_TENANT}' was seeded before; its data is kept and its users get new passwords.");
    }
    println!("\nDemo sign-ins (shown once; run `demo` again for new ones):");
    for (email, role, pw) in &logins {
        println!("  {:<16} {email:<34} {pw}", role.as_str());
    }
    println!("\nSandbox API key for client systems (X-Api-Key):\n  {}", api_key.0);
    Ok(())
}

/// A seeded applicant's case: its kind and state.
type SeedCase = Option<(CaseKind, CaseState)>;

/// What each seeded applicant becomes: (share of applicants, applicant status, case).
const MIX: &[(u32, ApplicantStatus, SeedCase)] = &[
    (8, ApplicantStatus::Init, None),
    (4, ApplicantStatus::Pending, None),
    // Video identifications come only from invitations (a session with its link), never seeded.
    // Four-eyes, escalated and QA cases come from decisions (see `decide_some`), never seeded.
    (82, ApplicantStatus::Queued, Some((CaseKind::Review, CaseState::Queued))),
    (6, ApplicantStatus::OnHold, Some((CaseKind::Review, CaseState::OnHold))),
];

async fn seed_queue(store: &Store, media: &MediaStore, tenant_id: &str, count: usize, rng: &mut StdRng) -> Result<()> {
    let now = now_ms();
    let day = 24 * 60 * 60 * 1000i64;
    let total_share: u32 = MIX.iter().map(|m| m.0).sum();
    let mut batch = Vec::new();
    for n in 0..count {
        let mut pick = rng.gen_range(0..total_share);
        let &(_, status, case) = MIX
            .iter()
            .find(|m| {
                let hit = pick < m.0;
                if !hit {
                    pick -= m.0;
                }
                hit
            })
            .expect("mix covers the range");
        let (country, firsts, lasts) = PEOPLE.choose(rng).expect("people");
        let first = firsts.choose(rng).expect("first name");
        let last = lasts.choose(rng).expect("last name");
        let created = now - rng.gen_range(0..30 * day);
        let id = new_id();
        let mut documents = Vec::new();
        let doc_type = if rng.gen_bool(0.6) { DocumentType::IdCard } else { DocumentType::Passport };
        let mut pages = vec![(doc_type, Some(DocumentSide::Front), id_card_png(rng, false))];
        if doc_type == DocumentType::IdCard {
            pages.push((doc_type, Some(DocumentSide::Back), id_card_png(rng, true)));
        }
        pages.push((DocumentType::Selfie, None, selfie_png(rng)));
        pages.push((DocumentType::UtilityBill, None, utility_bill_png(rng)));
        for (t, side, bytes) in pages {
            let doc_id = new_id();
            let key = media.put(tenant_id, &id, &doc_id, &bytes).await?;
            let (w, h) = match t {
                DocumentType::Selfie => (240, 320),
                DocumentType::UtilityBill => (620, 877),
                _ => (960, 600),
            };
            documents.push(NewDocument {
                id: doc_id,
                doc_type: t,
                side,
                country: (t != DocumentType::Selfie).then(|| country.to_string()),
                content_type: "image/png".into(),
                byte_size: bytes.len() as i64,
                sha256: sha256_hex(&bytes),
                width: w,
                height: h,
                storage_key: key,
                extracted: None,
            });
        }
        let case = case.map(|(kind, state)| NewCase {
            kind,
            state,
            // A few urgent ones, and some already past their SLA.
            priority: if rng.gen_bool(0.1) { 10 } else { 0 },
            due_at_ms: now + rng.gen_range(-day..2 * day),
            ..NewCase::review(&id, created)
        });
        let email_name = format!("{}.{}", first, last).to_lowercase().replace(' ', "");
        batch.push(SeedApplicant {
            id,
            external_user_id: format!("demo-{n:05}"),
            level: if case.as_ref().is_some_and(|c| c.kind == CaseKind::VideoIdent) {
                "video-ident".into()
            } else {
                "basic-kyc".into()
            },
            status,
            info: ApplicantInfo {
                first_name: first.to_string(),
                last_name: last.to_string(),
                middle_name: None,
                dob: Some(format!(
                    "{}-{:02}-{:02}",
                    rng.gen_range(1950..2006),
                    rng.gen_range(1..13),
                    rng.gen_range(1..29)
                )),
                nationality: Some(country.to_string()),
                email: Some(format!("{email_name}{}@example.com", rng.gen_range(1..999))),
                phone: Some(format!("+49 15{} {:07}", rng.gen_range(1..8), rng.gen_range(0..9_999_999))),
                address: None,
            },
            review_answer: None,
            reject_type: None,
            created_at_ms: created,
            documents,
            case,
        });
        if batch.len() == 100 {
            store.seed_applicants(tenant_id, &batch).await?;
            batch.clear();
        }
    }
    store.seed_applicants(tenant_id, &batch).await?;
    decide_some(store, tenant_id, count / 5, rng).await
}

/// Many queued review cases without documents, in batches: what a busy tenant's list holds.
async fn seed_load(store: &Store, tenant_id: &str, count: usize) -> Result<()> {
    let now = now_ms();
    let mut n = 0;
    while n < count {
        let batch: Vec<_> = (n..count.min(n + 500))
            .map(|i| {
                let mut a = SeedApplicant::queued(i, CaseKind::Review, now - i as i64 * 1000);
                if let Some(case) = a.case.as_mut() {
                    // Due after the demo's own cases, which "next case" hands out first.
                    case.due_at_ms = now + 3 * 86_400_000 + i as i64 * 60_000;
                }
                a
            })
            .collect();
        n += batch.len();
        store.seed_applicants(tenant_id, &batch).await?;
    }
    Ok(())
}

/// Reviewers at work: claims and decisions through the real queue, so the audit trail,
/// change feed and applicant statuses are what they would be in production.
async fn decide_some(store: &Store, tenant_id: &str, decisions: usize, rng: &mut StdRng) -> Result<()> {
    // Every tenth decision is checked by a second reviewer, and every tenth re-checked blind.
    let policy = ReviewPolicy { four_eyes_percent: 10, qa_sample_percent: 10, ..ReviewPolicy::default() };
    store.set_review_policy(tenant_id, &policy, &Actor::System).await?;
    let users = store.tenant_users(tenant_id).await?;
    let reviewers: Vec<_> = users.iter().filter(|u| u.role == Role::Reviewer).collect();
    let red_labels = [
        (RejectType::Retry, vec![RejectLabel::LOW_QUALITY]),
        (RejectType::Retry, vec![RejectLabel::BACK_SIDE_MISSING, RejectLabel::UNSATISFACTORY_PHOTOS]),
        (RejectType::Retry, vec![RejectLabel::EXPIRATION_DATE]),
        (RejectType::Final, vec![RejectLabel::SELFIE_MISMATCH]),
        (RejectType::Final, vec![RejectLabel::FORGERY, RejectLabel::GRAPHIC_EDITOR]),
    ];
    for n in 0..decisions {
        let reviewer = reviewers[n % reviewers.len()];
        let Some(case) = store.claim_next(reviewer, &[CaseKind::Review], DEFAULT_LEASE_MS).await? else { break };
        let input = if rng.gen_bool(0.7) {
            DecisionInput::green(case.version)
        } else {
            let (t, labels) = red_labels.choose(rng).expect("labels").clone();
            DecisionInput {
                answer: Answer::Red,
                reject_type: Some(t),
                labels,
                moderation_comment: Some("Please upload clear photos of both sides of your ID.".into()),
                client_comment: Some("Rejected after manual review.".into()),
                ..DecisionInput::green(case.version)
            }
        };
        store.decide(reviewer, &case.id, &format!("demo-{}", case.id), &input).await?;
    }
    // Each reviewer checks the other's staged decisions: most are confirmed, every fourth is
    // contradicted and waits for a supervisor.
    for (n, checker) in reviewers.iter().enumerate() {
        for m in 0.. {
            let Some(case) = store.claim_next(checker, &[CaseKind::FourEyes], DEFAULT_LEASE_MS).await? else { break };
            let staged = store.earlier_decisions(tenant_id, &case).await?;
            let Some(staged) = staged.first() else { break };
            let agree = (n + m) % 4 != 3;
            let input = match (agree, staged.answer) {
                (true, _) => DecisionInput {
                    answer: staged.answer,
                    reject_type: staged.reject_type,
                    labels: staged.labels.clone(),
                    ..DecisionInput::green(case.version)
                },
                (false, Answer::Red) => DecisionInput::green(case.version),
                (false, Answer::Green) => DecisionInput {
                    answer: Answer::Red,
                    reject_type: Some(RejectType::Retry),
                    labels: vec![RejectLabel::UNSATISFACTORY_PHOTOS],
                    internal_note: Some("The photo's edges look cut; I would ask for a new one.".into()),
                    ..DecisionInput::green(case.version)
                },
            };
            store.decide(checker, &case.id, &format!("demo-{}", case.id), &input).await?;
        }
    }
    // The second reviewer is in the middle of a case.
    if let Some(r) = reviewers.get(1) {
        store.claim_next(r, &[CaseKind::Review], DEFAULT_LEASE_MS).await?;
    }
    Ok(())
}
