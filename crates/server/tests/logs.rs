//! The server's log, read as an attacker with log access would: a real identdesk-server
//! process goes through a whole case (an applicant with name, date of birth, e-mail, phone and
//! a document; the checks; a reviewer's decision; a video invitation and consent; a wrong
//! sign-in), then its log is searched for every one of those personal details and secrets:
//! none may be there. Every API call is in it, with method, path, status and time.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

const FIRST: &str = "Xanthippe";
const LAST: &str = "Quetzalcoatlova";
const DOB: &str = "1987-03-14";
const EMAIL: &str = "xanthippe.q@example.test";
const PHONE: &str = "+4915198765432";
const TAN_PHONE: &str = "+4915187654321";

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(640, 400, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn the_log_names_every_call_and_no_person() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_identdesk-server");
    let demo = Command::new(bin)
        .args(["demo", "--applicants", "3", "--data-dir"])
        .arg(dir.path())
        .env_remove("IDENTDESK_DATABASE_URL")
        .output()
        .unwrap();
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    let demo = String::from_utf8_lossy(&demo.stdout).to_string();
    let api_key = demo.lines().skip_while(|l| !l.contains("Sandbox API key")).nth(1).unwrap().trim().to_owned();
    let password = |email: &str| {
        demo.lines().find(|l| l.contains(email)).and_then(|l| l.split_whitespace().nth(2)).unwrap().to_owned()
    };
    let port = 20_000 + (std::process::id() % 20_000) as u16;
    let mut server = Command::new(bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path())
        .env_remove("IDENTDESK_DATABASE_URL")
        // The most the server's own code says.
        .env("IDENTDESK_LOG", "debug,sqlx=warn,hyper=info,hyper_util=info,h2=info,tower=info,reqwest=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http.get(format!("{base}/openapi.json")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The client system: an applicant with every personal detail, a document, submitted.
    let applicant: Value = http
        .post(format!("{base}/applicants"))
        .header("X-Api-Key", &api_key)
        .json(&json!({"externalUserId": "crm-log-1", "info": {"firstName": FIRST, "lastName": LAST, "dob": DOB,
            "email": EMAIL, "phone": PHONE, "nationality": "DEU", "address": "Zypressenweg 17, 12345 Musterstadt"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = applicant["id"].as_str().expect("an applicant").to_owned();
    let form = reqwest::multipart::Form::new()
        .text("type", "PASSPORT")
        .text("side", "FRONT")
        .text("country", "DEU")
        .part("file", reqwest::multipart::Part::bytes(png()).file_name("Quetzalcoatlova-passport.png"));
    let res = http
        .post(format!("{base}/applicants/{id}/documents"))
        .header("X-Api-Key", &api_key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = http.post(format!("{base}/applicants/{id}/submit")).header("X-Api-Key", &api_key).send().await.unwrap();
    assert!(res.status().is_success());

    // A wrong sign-in, then the reviewer works the queue and decides a case.
    let res = http
        .post(format!("{base}/auth/login"))
        .json(&json!({"email": "reviewer@demo.identdesk.test", "password": "not the password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let login: Value = http
        .post(format!("{base}/auth/login"))
        .json(&json!({"email": "reviewer@demo.identdesk.test", "password": password("reviewer@demo.identdesk.test")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let case: Value =
        http.post(format!("{base}/cases/claim")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let res = http
        .post(format!("{base}/cases/{}/decision", case["id"].as_str().unwrap()))
        .bearer_auth(&token)
        .header("Idempotency-Key", "log-test-1")
        .json(&json!({"answer": "RED", "rejectType": "FINAL", "labels": ["FORGERY"], "version": case["version"],
            "moderationComment": format!("{FIRST} {LAST} showed a forged passport")}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());

    // A video invitation with a TAN phone number, and the applicant's consent on the link.
    let invitation: Value = http
        .post(format!("{base}/applicants/{id}/video-ident"))
        .header("X-Api-Key", &api_key)
        .json(&json!({"tanDestination": TAN_PHONE}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let link = invitation["link"].as_str().unwrap().to_owned();
    let site = base.trim_end_matches("/api/v1");
    let res = http
        .post(format!("{site}{link}/consent"))
        .json(&json!({"textVersion": identdesk_domain::video::CONSENT_TEXT_VERSION, "accepted": true}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());

    tokio::time::sleep(Duration::from_millis(500)).await;
    server.kill().unwrap();
    let mut log = String::new();
    server.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    server.wait().unwrap();

    // Every call is there, as method, path and status.
    assert!(log.contains("method=POST path=/api/v1/applicants status=201"), "{log}");
    assert!(log.contains("status=401"), "the failed sign-in is logged");
    assert!(log.contains("path=/v/…/consent"), "the applicant's call, with the link masked");
    // No person, no secret.
    let token_in_link = link.trim_start_matches("/v/");
    let secrets = [
        FIRST,
        LAST,
        DOB,
        EMAIL,
        PHONE,
        TAN_PHONE,
        "Zypressenweg",
        "Quetzalcoatlova-passport",
        &api_key,
        &token,
        token_in_link,
    ];
    for secret in secrets {
        assert!(!log.contains(secret), "the log holds {secret:?}:\n{log}");
    }
    // And the parts that would identify someone in another form.
    assert!(!log.contains("4915198765432") && !log.contains("xanthippe"), "no phone or e-mail in any form");
}
