//! A video identification driven through the API, as the applicant's page and the operator's
//! console would: invite, consent, join the waiting room, take the call, upload evidence.

use std::time::Duration;

use serde_json::{json, Value};

use super::TestServer;

/// A small valid PNG (what a screenshot upload carries).
pub fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, y as u8 * 5, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub fn site(s: &TestServer) -> String {
    s.base.trim_end_matches("/api/v1").to_owned()
}

pub async fn invite(s: &TestServer, key: &str, applicant: &str) -> reqwest::Response {
    s.http
        .post(s.at(&format!("/applicants/{applicant}/video-ident")))
        .header("X-Api-Key", key)
        .json(&json!({"tanDestination": "+4915112345678"}))
        .send()
        .await
        .unwrap()
}

pub async fn new_applicant(s: &TestServer, key: &str, name: &str) -> String {
    let res = s
        .http
        .post(s.at("/applicants"))
        .header("X-Api-Key", key)
        .json(&json!({"externalUserId": name, "info": {"firstName": "Vera", "lastName": name}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// Invites, consents and joins the waiting room; returns (session id, link token, secret, the
/// applicant's socket, which must stay open for the case to be in the queue).
pub async fn waiting_applicant(
    s: &TestServer,
    key: &str,
    name: &str,
) -> (
    String,
    String,
    String,
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) {
    let applicant = new_applicant(s, key, name).await;
    let invitation: Value = invite(s, key, &applicant).await.json().await.unwrap();
    let link = invitation["link"].as_str().unwrap().trim_start_matches("/v/").to_owned();
    let (secret, socket) = consent_and_join(s, &link).await;
    (invitation["sessionId"].as_str().unwrap().to_owned(), link, secret, socket)
}

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Consents on the link and opens the applicant's socket; returns the secret and the socket.
pub async fn consent_and_join(s: &TestServer, link: &str) -> (String, Socket) {
    let consent: Value = s
        .http
        .post(format!("{}/v/{link}/consent", site(s)))
        .json(&json!({"textVersion": identdesk_domain::video::CONSENT_TEXT_VERSION, "accepted": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = consent["secret"].as_str().unwrap().to_owned();
    let ws = format!("{}/v/{link}/ws?secret={secret}", site(s).replacen("http", "ws", 1));
    let (socket, _) = tokio_tungstenite::connect_async(ws.as_str()).await.unwrap();
    // The case joins the queue once the socket is there.
    tokio::time::sleep(Duration::from_millis(100)).await;
    (secret, socket)
}

pub async fn next_call(s: &TestServer, operator: &str) -> Value {
    let res = s.http.post(s.at("/video/next")).bearer_auth(operator).send().await.unwrap();
    assert_eq!(res.status(), 200, "{}", s.backend);
    res.json().await.unwrap()
}

pub async fn screenshot(s: &TestServer, operator: &str, session: &str, tag: &str, body: Vec<u8>) -> reqwest::Response {
    s.http
        .post(s.at(&format!("/video/sessions/{session}/screenshots?tag={tag}&capturedAtMs=1")))
        .bearer_auth(operator)
        .header("content-type", "image/png")
        .body(body)
        .send()
        .await
        .unwrap()
}

pub async fn post(s: &TestServer, token: &str, path: &str) -> reqwest::Response {
    s.http.post(s.at(path)).bearer_auth(token).send().await.unwrap()
}

pub async fn enter_tan(s: &TestServer, link: &str, secret: &str, tan: &str) -> reqwest::Response {
    s.http
        .post(format!("{}/v/{link}/tan", site(s)))
        .header("x-applicant-secret", secret)
        .json(&json!({"tan": tan}))
        .send()
        .await
        .unwrap()
}
