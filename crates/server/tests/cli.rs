//! The administration command line, run as a user would: a real binary on a real data folder.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn server(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_identdesk-server"));
    // --data-dir after the subcommand: accepted anywhere on the line.
    cmd.args(args).arg("--data-dir").arg(dir).env_remove("IDENTDESK_DATABASE_URL");
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn tenants_users_and_api_keys_are_administered_on_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = server(d, &["tenant", "add", "Acme", "--region", "eu"], None);
    assert!(out.status.success(), "{}", text(&out));
    let out = server(d, &["tenant", "add", "Acme"], None);
    assert!(!out.status.success() && text(&out).contains("exists already"), "{}", text(&out));
    let out = server(d, &["tenant", "add", "Moon", "--region", "moon"], None);
    assert!(!out.status.success() && text(&out).contains("unknown region 'moon'"), "{}", text(&out));

    // With one tenant, --tenant may be left out; the password comes from stdin.
    let out =
        server(d, &["user", "add", "--email", "Ana@Acme.test", "--role", "reviewer"], Some("a long enough password\n"));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("ana@acme.test"), "e-mail normalised: {}", text(&out));
    let out = server(d, &["user", "add", "--email", "short@acme.test", "--role", "reviewer"], Some("short\n"));
    assert!(!out.status.success() && text(&out).contains("12 characters"), "{}", text(&out));
    let out =
        server(d, &["user", "add", "--email", "x@acme.test", "--role", "janitor"], Some("a long enough password\n"));
    assert!(!out.status.success() && text(&out).contains("unknown role 'janitor'"), "{}", text(&out));

    // With two tenants it must be named.
    assert!(server(d, &["tenant", "add", "Globex", "--region", "us"], None).status.success());
    let out = server(
        d,
        &["user", "add", "--email", "bo@globex.test", "--role", "supervisor"],
        Some("a long enough password\n"),
    );
    assert!(!out.status.success() && text(&out).contains("--tenant"), "{}", text(&out));
    let out = server(
        d,
        &["user", "add", "--email", "bo@globex.test", "--role", "supervisor", "--tenant", "Globex"],
        Some("a long enough password\n"),
    );
    assert!(out.status.success(), "{}", text(&out));

    // An API key is printed once, alone on stdout, and stored only as a hash.
    let out = server(d, &["apikey", "create", "--tenant", "Acme", "--env", "sandbox"], None);
    assert!(out.status.success(), "{}", text(&out));
    let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(key.starts_with("idk_sandbox_") && key.len() > 60, "{key}");
    let db = std::fs::read(d.join("identdesk.db")).unwrap();
    assert!(!db.windows(key.len()).any(|w| w == key.as_bytes()), "the key is not stored in clear");

    let out = server(d, &["audit", "verify"], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Acme: ") && text(&out).contains("Globex: "), "{}", text(&out));
}

#[test]
fn demo_seeds_a_living_queue_and_hands_out_new_passwords_when_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = server(d, &["demo", "--applicants", "60"], None);
    assert!(out.status.success(), "{}", text(&out));
    let first = String::from_utf8_lossy(&out.stdout).to_string();
    for role in ["reviewer", "video_operator", "supervisor", "admin"] {
        assert!(first.lines().any(|l| l.trim_start().starts_with(role)), "{role} login printed: {first}");
    }
    let out = server(d, &["demo"], None);
    assert!(out.status.success(), "{}", text(&out));
    let second = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(second.contains("seeded before"), "{second}");
    let password = |s: &str| {
        s.lines().find(|l| l.contains("reviewer@demo")).map(|l| l.split_whitespace().last().unwrap().to_owned())
    };
    assert_ne!(password(&first), password(&second), "fresh passwords on every run");
    let out = server(d, &["audit", "verify"], None);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn check_mrz_prints_every_check_digit_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let td3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10\n";
    let out = server(dir.path(), &["check", "mrz"], Some(td3));
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((json["format"].as_str(), json["valid"].as_bool()), (Some("TD3"), Some(true)));
    let fields: Vec<&str> = json["checks"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["documentNumber", "dateOfBirth", "dateOfExpiry", "personalNumber", "composite"]);

    // Date of birth check digit 2 where 3 is printed: named, with both digits; still exit 0.
    let broken = td3.replace("7408122F", "7408123F");
    let out = server(dir.path(), &["check", "mrz"], Some(&broken));
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], false);
    let dob = json["checks"].as_array().unwrap().iter().find(|c| c["field"] == "dateOfBirth").unwrap().clone();
    assert_eq!(dob, serde_json::json!({"field": "dateOfBirth", "valid": false, "found": "3", "expected": "2"}));

    // A truncated MRZ cannot be read: JSON naming why, exit 1.
    let out = server(dir.path(), &["check", "mrz"], Some(&td3[..80]));
    assert!(!out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["error"].as_str().unwrap().contains("line 2 has 35 characters"), "{json}");
}

#[test]
fn screen_finds_names_on_a_tenant_list_and_check_image_measures_a_photo() {
    let dir = tempfile::tempdir().unwrap();
    let list = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/watchlists/example-blocklist.csv");
    let out = server(dir.path(), &["screen", "hallgrimson viktor", "--dob", "1979-03-14", "--list", list], None);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let best = &json["matches"][0];
    assert_eq!(best["entityId"], "example-blocklist:1", "{json}");
    assert!(best["score"].as_f64().unwrap() > 0.9, "{json}");
    assert_eq!(best["features"]["dobMatch"], true, "{json}");
    let out = server(dir.path(), &["screen", "Anna Eriksson", "--list", list], None);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["matches"], serde_json::json!([]));

    let not_image = dir.path().join("notes.txt");
    std::fs::write(&not_image, "just text").unwrap();
    let out = server(dir.path(), &["check", "image", not_image.to_str().unwrap()], None);
    assert!(!out.status.success());
    assert!(text(&out).contains("not an image"), "{}", text(&out));
}

#[test]
fn the_demo_media_is_encrypted_and_keys_rotate_keeps_it_readable() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = server(d, &["demo", "--applicants", "3"], None);
    assert!(out.status.success(), "{}", text(&out));
    let keys_before = std::fs::read_to_string(d.join("master.keys")).unwrap();
    let out = server(d, &["keys", "rotate"], None);
    assert!(out.status.success() && text(&out).contains("1 tenant media keys re-wrapped"), "{}", text(&out));
    let keys_after = std::fs::read_to_string(d.join("master.keys")).unwrap();
    assert_ne!(keys_before, keys_after);
    // Every demo document still decrypts under the rotated key (the checks read them again).
    let media = identdesk_server::media::MediaStore::open(d.join("media"), &d.join("master.keys")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut read = 0;
    for tenant in
        std::fs::read_dir(d.join("media")).unwrap().map(|e| e.unwrap().path()).filter(|p| !p.ends_with(".keys"))
    {
        for applicant in std::fs::read_dir(&tenant).unwrap().map(|e| e.unwrap().path()) {
            for object in std::fs::read_dir(&applicant).unwrap().map(|e| e.unwrap().path()) {
                let key = object.strip_prefix(d.join("media")).unwrap().to_str().unwrap().to_owned();
                let bytes = runtime.block_on(media.get(&key)).unwrap();
                assert!(image::load_from_memory(&bytes).is_ok(), "{key} decrypts to an image");
                read += 1;
            }
        }
    }
    assert!(read >= 3, "the demo stored documents: {read}");
}
