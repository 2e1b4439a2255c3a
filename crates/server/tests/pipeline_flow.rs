//! The automated checks end to end: a client system creates and submits applicants through
//! the API, the server's worker runs the checks, and each applicant gets the verdict, labels
//! and explanations expected. The phone numbers and e-mail addresses given for the risk checks
//! are nowhere in the database afterwards.

mod common;

use std::io::Cursor;

use common::{error_of, TestServer};
use identdesk_checks::mrz::compose_td3 as td3;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use serde_json::{json, Value};

/// A sharp, colourful photo-sized image; `blur` softens it past the threshold.
fn photo(blur: bool) -> Vec<u8> {
    let card = RgbImage::from_fn(1200, 800, |x, y| {
        let check = ((x / 16 + y / 16) % 2) as u8;
        Rgb([40 + 150 * check, (x % 200) as u8 + 30, (y % 180) as u8 + 40])
    });
    let mut image = DynamicImage::ImageRgb8(card);
    if blur {
        image = image.blur(6.0);
    }
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

struct Person {
    first: &'static str,
    last: &'static str,
    dob: &'static str,
    phone: String,
    email: String,
    mrz: String,
    level: &'static str,
    blurry: bool,
}

impl Person {
    fn clean(first: &'static str, last: &'static str, dob: &'static str, number: &str) -> Person {
        let yymmdd = format!("{}{}{}", &dob[2..4], &dob[5..7], &dob[8..10]);
        Person {
            first,
            last,
            dob,
            // A phone and a mailbox of their own, from the passport number's digits.
            phone: format!("+31 6 1{}", &number[2..]),
            email: format!("mailbox.{}@example.org", &number[2..]),
            mrz: td3(&last.to_uppercase(), &first.to_uppercase(), number, "NLD", &yymmdd, "310601"),
            level: "basic-kyc",
            blurry: false,
        }
    }
}

/// Creates, uploads the passport and submits; returns the applicant once checked, and its verdict.
async fn submit(s: &TestServer, key: &str, p: &Person) -> (Value, Value) {
    let res = s
        .http
        .post(s.at("/applicants"))
        .header("X-Api-Key", key)
        .json(&json!({"level": p.level, "ipCountry": "NL", "info": {"firstName": p.first, "lastName": p.last,
            "dob": p.dob, "nationality": "NLD", "phone": p.phone, "email": p.email}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let form = reqwest::multipart::Form::new()
        .text("type", "PASSPORT")
        .text("country", "NLD")
        .text("mrz", p.mrz.clone())
        .part("file", reqwest::multipart::Part::bytes(photo(p.blurry)).file_name("passport.png"));
    let res = s.http.post(s.at(&format!("/applicants/{id}/documents"))).header("X-Api-Key", key).multipart(form);
    let res = res.send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let res = s.http.post(s.at(&format!("/applicants/{id}/submit"))).header("X-Api-Key", key).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let applicant = s.checked(key, &id).await;
    let res = s.http.get(s.at(&format!("/applicants/{id}/verdict"))).header("X-Api-Key", key).send().await.unwrap();
    assert_eq!(res.status(), 200);
    (applicant, res.json().await.unwrap())
}

fn labels(verdict: &Value) -> Vec<&str> {
    verdict["labels"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect()
}

/// Every sentence of every failed check.
fn explanations(verdict: &Value) -> String {
    let results = verdict["results"].as_array().unwrap();
    let findings = results.iter().flat_map(|r| r["findings"].as_array().unwrap().iter());
    findings.map(|f| f["explanation"].as_str().unwrap().to_owned()).collect::<Vec<_>>().join(" | ")
}

#[tokio::test]
async fn each_applicant_gets_the_verdict_its_data_calls_for() {
    for s in TestServer::all().await {
        let b = s.backend;
        let key = s.api_key().await;

        let clean = Person::clean("Lena Marie", "Fischer", "1990-05-17", "NX4821937");
        let (applicant, verdict) = submit(&s, &key, &clean).await;
        assert_eq!(verdict["answer"], "GREEN", "{b}: {}", explanations(&verdict));
        assert_eq!(
            (applicant["status"].as_str(), applicant["reviewAnswer"].as_str()),
            (Some("completed"), Some("GREEN"))
        );
        let first_id = applicant["id"].as_str().unwrap().to_owned();

        // Expired at the default level: a human decides, EXPIRATION_DATE suggested.
        let mut expired = Person::clean("Pieter", "Jansen", "1984-02-29", "NX1111111");
        expired.mrz = td3("JANSEN", "PIETER", "NX1111111", "NLD", "840229", "200601");
        let (applicant, verdict) = submit(&s, &key, &expired).await;
        assert_eq!((verdict["answer"].as_str(), applicant["status"].as_str()), (Some("YELLOW"), Some("queued")), "{b}");
        assert_eq!(labels(&verdict), vec!["EXPIRATION_DATE"], "{b}: {}", explanations(&verdict));
        assert!(explanations(&verdict).contains("passport expired on 2020-06-01"), "{b}");

        // Expired at a level that rejects expired documents on its own.
        let mut strict = Person::clean("Bram", "Smit", "1983-07-07", "NX2222222");
        strict.level = "strict";
        strict.mrz = td3("SMIT", "BRAM", "NX2222222", "NLD", "830707", "200601");
        let (applicant, verdict) = submit(&s, &key, &strict).await;
        assert_eq!(
            (verdict["answer"].as_str(), applicant["reviewAnswer"].as_str(), applicant["rejectType"].as_str()),
            (Some("RED"), Some("RED"), Some("RETRY")),
            "{b}: {}",
            explanations(&verdict)
        );

        // One check digit off.
        let mut bad_digit = Person::clean("Sanne", "de Vries", "1992-09-03", "NX3333333");
        let mrz: Vec<char> = bad_digit.mrz.chars().collect();
        let dob_digit_at = 45 + 19;
        let printed = mrz[dob_digit_at];
        let wrong = if printed == '1' { '2' } else { '1' };
        bad_digit.mrz = mrz.iter().enumerate().map(|(i, &c)| if i == dob_digit_at { wrong } else { c }).collect();
        let (_, verdict) = submit(&s, &key, &bad_digit).await;
        assert_eq!(verdict["answer"], "YELLOW", "{b}");
        assert!(labels(&verdict).contains(&"FORGERY"), "{b}: {}", explanations(&verdict));
        assert!(
            explanations(&verdict).contains(&format!("MRZ date of birth check digit is {wrong}, expected {printed}")),
            "{b}: {}",
            explanations(&verdict)
        );

        // On the tenant's blocklist: a human decides, with a second reviewer.
        let listed = Person::clean("Viktor", "Hallgrimsson", "1979-03-14", "NX4444444");
        let (applicant, verdict) = submit(&s, &key, &listed).await;
        assert_eq!((verdict["answer"].as_str(), verdict["fourEyes"].as_bool()), (Some("YELLOW"), Some(true)), "{b}");
        assert_eq!(labels(&verdict), vec!["BLACKLIST"], "{b}: {}", explanations(&verdict));
        assert!(explanations(&verdict).contains("example-blocklist:1"), "{b}");
        let staff = s.staff("rita@acme.test", identdesk_domain::Role::Reviewer).await;
        let case = s.http.post(s.at("/cases/claim")).bearer_auth(&staff).send().await.unwrap();
        let case: Value = case.json().await.unwrap();
        // Watchlist hits come first in the queue, with their labels pre-selected.
        assert_eq!(case["applicantId"], applicant["id"], "{b}");
        assert_eq!((case["fourEyes"].as_bool(), case["suggestedLabels"].clone()), (Some(true), json!(["BLACKLIST"])));
        // Approval waits for a word on each hit, given by the case's holder only; a confirmed
        // hit is never approved.
        let case_id = case["id"].as_str().unwrap().to_owned();
        let green = |key: &'static str| {
            let body = json!({"answer": "GREEN", "labels": [], "version": case["version"]});
            let url = s.at(&format!("/cases/{case_id}/decision"));
            s.http.post(url).bearer_auth(&staff).header("idempotency-key", key).json(&body).send()
        };
        let word = |token: &str, entity: &str, resolution: &str| {
            let body = json!({"entityId": entity, "resolution": resolution, "note": "checked the date of birth"});
            s.http.post(s.at(&format!("/cases/{case_id}/hits"))).bearer_auth(token).json(&body).send()
        };
        assert_eq!(error_of(green("g1").await.unwrap()).await, (422, "SCREENING_HITS_OPEN".into()), "{b}");
        let otto = s.staff("otto@acme.test", identdesk_domain::Role::Reviewer).await;
        let res = word(&otto, "example-blocklist:1", "dismissed").await.unwrap();
        assert_eq!(error_of(res).await, (409, "LEASE_NOT_HELD".into()), "{b}");
        let res = word(&staff, "example-blocklist:2", "dismissed").await.unwrap();
        assert_eq!(error_of(res).await, (404, "NOT_FOUND".into()), "{b}: not a hit of this case");
        let res = word(&staff, "example-blocklist:1", "maybe").await.unwrap();
        assert_eq!(error_of(res).await.0, 400, "{b}");
        let reviews: Value = word(&staff, "example-blocklist:1", "confirmed").await.unwrap().json().await.unwrap();
        assert_eq!(reviews[0]["resolution"], "confirmed", "{b}");
        assert_eq!(error_of(green("g2").await.unwrap()).await, (422, "SCREENING_HIT_CONFIRMED".into()), "{b}");
        word(&staff, "example-blocklist:1", "dismissed").await.unwrap();
        assert_eq!(green("g3").await.unwrap().status(), 201, "{b}: approved once the hit is dismissed");
        assert_eq!(s.count("hit_reviews").await, 1, "{b}: the latest word replaces the first");
        // A watchlist hit needs four eyes: the approval is staged, and a second reviewer, who
        // sees the first one's word on the hit, confirms it.
        let staged: Value = s.store.decision_for_case(&s.tenant_id, &case_id).await.unwrap().map(|d| json!(d)).unwrap();
        assert_eq!(staged["status"], "staged", "{b}");
        let check: Value =
            s.http.post(s.at("/cases/claim")).bearer_auth(&otto).send().await.unwrap().json().await.unwrap();
        assert_eq!(
            (check["kind"].as_str(), check["checksDecisionId"].clone()),
            (Some("four_eyes"), staged["id"].clone())
        );
        let check_id = check["id"].as_str().unwrap();
        let detail: Value = s
            .http
            .get(s.at(&format!("/cases/{check_id}")))
            .bearer_auth(&otto)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(detail["hitReviews"][0]["resolution"], "dismissed", "{b}: the first reviewer's word is shown");
        let body = json!({"answer": "GREEN", "labels": [], "version": check["version"]});
        let url = s.at(&format!("/cases/{check_id}/decision"));
        let res =
            s.http.post(url).bearer_auth(&otto).header("idempotency-key", "o-1").json(&body).send().await.unwrap();
        assert_eq!(res.status(), 201, "{b}: {}", res.text().await.unwrap());
        let approved: Value = s
            .http
            .get(s.at(&format!("/applicants/{}", applicant["id"].as_str().unwrap())))
            .header("X-Api-Key", &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (approved["status"].as_str(), approved["reviewAnswer"].as_str()),
            (Some("completed"), Some("GREEN")),
            "{b}"
        );

        // A throw-away e-mail address.
        let mut disposable = Person::clean("Noor", "Bakker", "1995-12-11", "NX5555555");
        disposable.email = "noor.b@mailinator.com".into();
        let (_, verdict) = submit(&s, &key, &disposable).await;
        assert_eq!(
            (verdict["answer"].as_str(), labels(&verdict)),
            (Some("YELLOW"), vec!["SUSPICIOUS_PATTERNS"]),
            "{b}"
        );
        assert!(explanations(&verdict).contains("disposable"), "{b}");

        // The first applicant again, under a new account.
        let again = Person::clean("Lena Marie", "Fischer", "1990-05-17", "NX4821937");
        let (_, verdict) = submit(&s, &key, &again).await;
        assert_eq!(labels(&verdict), vec!["DUPLICATE"], "{b}: {}", explanations(&verdict));
        let sentence = explanations(&verdict);
        assert!(sentence.contains(&first_id), "{b}: links the other applicant: {sentence}");
        for shared in ["document number", "e-mail address", "phone number", "name and date of birth"] {
            assert!(sentence.contains(shared), "{b}: {shared} in {sentence}");
        }

        // A blurred photo.
        let mut blurry = Person::clean("Daan", "Visser", "1988-01-23", "NX7777777");
        blurry.blurry = true;
        let (_, verdict) = submit(&s, &key, &blurry).await;
        assert_eq!((verdict["answer"].as_str(), labels(&verdict)), (Some("YELLOW"), vec!["LOW_QUALITY"]), "{b}");
        assert!(explanations(&verdict).contains("Passport: The image is blurred: sharpness"), "{b}");

        // The identifiers given for the risk checks are nowhere in the database.
        let everything = dump(&s).await;
        assert!(everything.contains("Hallgrimsson"), "{b}: the dump reads the data (a name is in it)");
        let mut secrets: Vec<String> = ["4821937", "1111111", "2222222", "3333333", "4444444", "5555555", "7777777"]
            .iter()
            .flat_map(|d| [format!("61{d}"), format!("mailbox.{d}")])
            .collect();
        secrets.extend(["noor.b@".to_owned(), "mailinator".to_owned()]);
        for secret in &secrets {
            assert!(!everything.contains(secret), "{b}: '{secret}' is stored somewhere");
        }
    }
}

/// Every row of every table as text; on SQLite also the database files' raw bytes.
async fn dump(s: &TestServer) -> String {
    use sqlx::Row;
    let tables: Vec<String> = if s.backend == "sqlite" {
        sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(s.store.reader())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("name"))
            .collect()
    } else {
        sqlx::query(
            "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .fetch_all(s.store.reader())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("name"))
        .collect()
    };
    let mut out = String::new();
    for table in tables {
        let sql = if s.backend == "sqlite" {
            // Every column, whatever its type, as one text per row.
            let columns: Vec<String> = sqlx::query(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .fetch_all(s.store.reader())
                .await
                .unwrap()
                .iter()
                .map(|r| format!("COALESCE(CAST(\"{}\" AS TEXT), '')", r.get::<String, _>("name")))
                .collect();
            format!("SELECT CAST({} AS BLOB) AS row_bytes FROM \"{table}\"", columns.join(" || '|' || "))
        } else {
            format!("SELECT convert_to(CAST(t AS TEXT), 'UTF8') AS row_bytes FROM \"{table}\" t")
        };
        for row in sqlx::query(&sql).fetch_all(s.store.reader()).await.unwrap() {
            out.push_str(&String::from_utf8_lossy(&row.get::<Vec<u8>, _>("row_bytes")));
            out.push('\n');
        }
    }
    if s.backend == "sqlite" {
        let path = s.url.trim_start_matches("sqlite://").split('?').next().unwrap().to_owned();
        for file in [path.clone(), format!("{path}-wal")] {
            if let Ok(bytes) = std::fs::read(&file) {
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    out
}

/// A submission survives a restart, and a job run twice (its first worker stalled past its
/// lease) takes effect once.
#[tokio::test]
async fn jobs_survive_a_restart_and_take_effect_once() {
    use identdesk_checks::policy::{verdict, Level};
    use identdesk_server::store::applicants::NewApplicant;
    use identdesk_server::store::audit::Actor;
    use identdesk_server::store::Store;

    let holder = tempfile::tempdir().unwrap();
    for (backend, url) in common::databases(holder.path()).await {
        let store = Store::open(&url).await.unwrap();
        let tenant = store.create_tenant("Acme", identdesk_domain::Region::Eu).await.unwrap();
        let info = identdesk_domain::ApplicantInfo {
            first_name: "Ada".into(),
            last_name: "Berg".into(),
            ..Default::default()
        };
        let new = NewApplicant {
            environment: identdesk_domain::Environment::Sandbox,
            external_user_id: None,
            level: "basic-kyc",
            info: &info,
            contact_signals: None,
            ip_country: None,
            identifiers: vec![],
            parental_consent: false,
        };
        let applicant = store.create_applicant(&tenant.id, &new, &Actor::System).await.unwrap();
        let doc = identdesk_server::store::applicants::NewDocument {
            id: uuid::Uuid::new_v4().to_string(),
            doc_type: identdesk_domain::DocumentType::Passport,
            side: None,
            country: None,
            content_type: "image/png".into(),
            byte_size: 1,
            sha256: "00".repeat(32),
            width: 1,
            height: 1,
            storage_key: "k".into(),
            extracted: None,
        };
        store.add_document(&tenant.id, &applicant.id, &doc, &Actor::System).await.unwrap();
        store.submit_applicant(&tenant.id, &applicant.id, &Actor::System).await.unwrap();
        // The server stops before any worker ran: the job is still there after a restart.
        store.close().await;
        let store = Store::open(&url).await.unwrap();
        assert_eq!(store.open_jobs().await.unwrap(), 1, "{backend}");

        // A worker leases it and stalls past its lease; a second worker takes it over.
        let stalled = store.lease_job(1).await.unwrap().expect("the job is due");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let second = store.lease_job(60_000).await.unwrap().expect("an expired lease is taken over");
        assert_eq!((second.id.as_str(), second.attempts), (stalled.id.as_str(), 2), "{backend}");
        assert!(store.lease_job(60_000).await.unwrap().is_none(), "{backend}: a live lease is not handed out");
        let level = Level::default();
        let v = verdict(vec![], &level);
        assert!(store.complete_job(&second, &v).await.unwrap(), "{backend}");
        assert!(!store.complete_job(&stalled, &v).await.unwrap(), "{backend}: the stalled run's result is dropped");
        assert!(!store.complete_job(&second, &v).await.unwrap(), "{backend}: completing twice changes nothing");
        assert_eq!(store.open_jobs().await.unwrap(), 0, "{backend}");
        let checked = store.applicant(&tenant.id, &applicant.id).await.unwrap();
        assert_eq!(checked.review_answer.as_deref(), Some("GREEN"), "{backend}");
        assert!(store.verdict(&tenant.id, &applicant.id).await.unwrap().is_some(), "{backend}");
        store.verify_chain(&tenant.id).await.unwrap();
    }
}
