//! The video interview's rules, enforced by the server on SQLite and PostgreSQL: nothing is
//! captured before consent, nothing is decided before every step (unless aborted), steps come
//! in order, security features differ between sessions, a TAN works once and expires, the retry
//! cap holds, a link is used once, and bad signalling or uploads are refused with a clear code.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::video::{
    consent_and_join, enter_tan, invite, new_applicant, next_call, png, post, screenshot, site, waiting_applicant,
};
use common::{error_of, TestServer};
use futures_util::{SinkExt, StreamExt};
use identdesk_domain::Role;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn the_interview_is_enforced_step_by_step() {
    for s in TestServer::all().await {
        let key = s.api_key().await;
        let operator = s.staff("op@acme.test", Role::VideoOperator).await;
        let reviewer = s.staff("rev@acme.test", Role::Reviewer).await;

        // Invited but not consented: nobody can be called, nothing can be captured.
        let applicant = new_applicant(&s, &key, "Early").await;
        let invitation: Value = invite(&s, &key, &applicant).await.json().await.unwrap();
        let early = invitation["sessionId"].as_str().unwrap();
        assert_eq!(post(&s, &operator, "/video/next").await.status(), 204, "{}", s.backend);
        let files_before = s.count("video_evidence").await;
        let (status, _) = error_of(screenshot(&s, &operator, early, "id_front", png()).await).await;
        assert!(status == 403 || status == 409, "capture before consent: {status}");
        assert_eq!(s.count("video_evidence").await, files_before);

        let (session, link, secret, _socket) = waiting_applicant(&s, &key, "Steps").await;
        // The link belongs to the browser that consented.
        let res = s.http.get(format!("{}/v/{link}/session", site(&s))).send().await.unwrap();
        assert_eq!(error_of(res).await, (409, "LINK_USED".into()), "{}", s.backend);
        let res = s
            .http
            .post(format!("{}/v/{link}/consent", site(&s)))
            .json(&json!({"textVersion": identdesk_domain::video::CONSENT_TEXT_VERSION, "accepted": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(res).await, (409, "LINK_USED".into()));

        let call = next_call(&s, &operator).await;
        assert_eq!(call["session"]["id"], session.as_str());
        let features = call["features"].as_array().unwrap();
        assert_eq!(features.len(), 3);
        assert!(features.iter().filter(|f| f["opticallyVariable"] == true).count() >= 2);
        let case_id = call["case"]["id"].as_str().unwrap().to_owned();

        // No decision before the steps; not through the review queue's decision either.
        let finish = format!("/video/sessions/{session}/finish");
        assert_eq!(error_of(post(&s, &operator, &finish).await).await, (409, "INTERVIEW_UNFINISHED".into()));
        let res = s
            .http
            .post(s.at(&format!("/cases/{case_id}/decision")))
            .bearer_auth(&operator)
            .header("Idempotency-Key", "k1")
            .json(&json!({"answer": "GREEN", "version": call["case"]["version"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(res).await, (409, "INVALID_STATE".into()));

        // Steps in order only; bad uploads refused; nothing written by a refusal.
        let before = (s.count("video_evidence").await, s.count("audit_events").await);
        assert_eq!(
            error_of(screenshot(&s, &operator, &session, "face", png()).await).await,
            (409, "INTERVIEW_OUT_OF_ORDER".into())
        );
        assert_eq!(
            error_of(screenshot(&s, &operator, &session, "id_front", b"not a picture".to_vec()).await).await,
            (422, "NOT_AN_IMAGE".into())
        );
        let res = s
            .http
            .post(s.at(&format!("/video/sessions/{session}/screenshots?tag=id_front&capturedAtMs=1")))
            .bearer_auth(&operator)
            .header("x-content-sha256", "00".repeat(32))
            .body(png())
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(res).await, (400, "INVALID_BODY".into()));
        assert_eq!(
            error_of(screenshot(&s, &operator, &session, "holo", png()).await).await,
            (400, "INVALID_BODY".into())
        );
        let reviewer_shot = screenshot(&s, &reviewer, &session, "id_front", png()).await;
        assert_eq!(error_of(reviewer_shot).await.0, 403);
        assert_eq!((s.count("video_evidence").await, s.count("audit_events").await), before);

        for tag in ["id_front", "id_back", "security_feature_1", "security_feature_2", "security_feature_3", "face"] {
            let res = screenshot(&s, &operator, &session, tag, png()).await;
            assert_eq!(res.status(), 201, "{tag} on {}", s.backend);
        }
        // The TAN comes after the read-out.
        let tan_path = format!("/video/sessions/{session}/tan");
        assert_eq!(error_of(post(&s, &operator, &tan_path).await).await, (409, "INTERVIEW_OUT_OF_ORDER".into()));
        assert_eq!(post(&s, &operator, &format!("/video/sessions/{session}/read-out")).await.status(), 200);
        assert_eq!(post(&s, &operator, &tan_path).await.status(), 202);
        let tans = s.sent_tans();
        let tan =
            tans.iter().rfind(|(id, _)| *id == session).unwrap_or_else(|| panic!("{session} in {tans:?}")).1.clone();
        let wrong = if tan == "000000" { "111111" } else { "000000" };
        assert_eq!(error_of(enter_tan(&s, &link, &secret, wrong).await).await, (422, "TAN_REFUSED".into()));
        assert_eq!(enter_tan(&s, &link, &secret, &tan).await.status(), 200);
        // Used once: the same TAN again is refused.
        assert_eq!(error_of(enter_tan(&s, &link, &secret, &tan).await).await, (422, "TAN_REFUSED".into()));
        assert_eq!(post(&s, &operator, &finish).await.status(), 200, "{}", s.backend);
        let case: Value = s
            .http
            .get(s.at(&format!("/cases/{case_id}")))
            .bearer_auth(&operator)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(case["decision"]["answer"], "GREEN");
        assert_eq!(s.count("video_sessions WHERE tan_destination IS NOT NULL AND state = 'completed'").await, 0);
    }
}

#[tokio::test]
async fn an_expired_tan_is_refused() {
    for s in TestServer::all().await {
        let key = s.api_key().await;
        let operator = s.staff("op@acme.test", Role::VideoOperator).await;
        let (session, link, secret, _socket) = waiting_applicant(&s, &key, "Slow").await;
        next_call(&s, &operator).await;
        for tag in ["id_front", "id_back", "security_feature_1", "security_feature_2", "security_feature_3", "face"] {
            assert_eq!(screenshot(&s, &operator, &session, tag, png()).await.status(), 201);
        }
        post(&s, &operator, &format!("/video/sessions/{session}/read-out")).await;
        assert_eq!(post(&s, &operator, &format!("/video/sessions/{session}/tan")).await.status(), 202);
        let tan = s.sent_tans().into_iter().rfind(|(id, _)| *id == session).unwrap().1;
        // The test servers' TANs live 1.5 s.
        tokio::time::sleep(Duration::from_millis(1700)).await;
        let res = enter_tan(&s, &link, &secret, &tan).await;
        assert_eq!(error_of(res).await, (422, "TAN_REFUSED".into()), "{}", s.backend);
    }
}

#[tokio::test]
async fn features_differ_between_sessions_and_retries_are_capped() {
    for s in TestServer::all().await {
        let key = s.api_key().await;
        let operator = s.staff("op@acme.test", Role::VideoOperator).await;
        let mut chosen = HashSet::new();
        for i in 0..8 {
            let applicant = new_applicant(&s, &key, &format!("Features{i}")).await;
            let invitation: Value = invite(&s, &key, &applicant).await.json().await.unwrap();
            let id = invitation["sessionId"].as_str().unwrap();
            let session = s.store.video_session(&s.tenant_id, id).await.unwrap();
            chosen.insert(format!("{:?}", session.interview.features));
        }
        assert!(chosen.len() >= 4, "8 sessions drew only {} different feature sets", chosen.len());

        // Video cases without a session (imported) cannot be called: they go on hold, and the
        // operator gets the waiting applicant instead.
        let old_cases: Vec<_> = (0..3)
            .map(|i| {
                let mut seed = identdesk_server::store::applicants::SeedApplicant::queued(
                    900 + i,
                    identdesk_domain::CaseKind::VideoIdent,
                    identdesk_server::store::now_ms() - 86_400_000,
                );
                seed.external_user_id = format!("imported-{i}");
                seed
            })
            .collect();
        s.store.seed_applicants(&s.tenant_id, &old_cases).await.unwrap();

        // The test servers allow two attempts: two aborted calls, then no third invitation.
        let applicant = new_applicant(&s, &key, "Retries").await;
        for attempt in 0..2 {
            let invitation: Value = invite(&s, &key, &applicant).await.json().await.unwrap();
            let link = invitation["link"].as_str().unwrap().trim_start_matches("/v/").to_owned();
            // An open session blocks a second invitation.
            assert_eq!(error_of(invite(&s, &key, &applicant).await).await, (409, "ALREADY_EXISTS".into()));
            let (_secret, _socket) = consent_and_join(&s, &link).await;
            let call = next_call(&s, &operator).await;
            let session = call["session"]["id"].as_str().unwrap();
            let res = s
                .http
                .post(s.at(&format!("/video/sessions/{session}/abort")))
                .bearer_auth(&operator)
                .json(&json!({"reason": "bad_light"}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "attempt {attempt} on {}", s.backend);
            let case: Value = s
                .http
                .get(s.at(&format!("/cases/{}", call["case"]["id"].as_str().unwrap())))
                .bearer_auth(&operator)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(case["decision"]["labels"], json!(["UNSUITABLE_ENV"]));
            assert_eq!(case["decision"]["rejectType"], "RETRY");
        }
        assert_eq!(
            error_of(invite(&s, &key, &applicant).await).await,
            (409, "VIDEO_RETRIES_EXHAUSTED".into()),
            "{}",
            s.backend
        );
    }
}

#[tokio::test]
async fn garbage_signalling_is_refused_not_relayed() {
    for s in TestServer::all().await {
        let key = s.api_key().await;
        let operator = s.staff("op@acme.test", Role::VideoOperator).await;
        let (_session, _link, _secret, mut applicant) = waiting_applicant(&s, &key, "Signal").await;
        let call = next_call(&s, &operator).await;
        let session = call["session"]["id"].as_str().unwrap();
        let ws = format!("{}/video/sessions/{session}/signal?token={operator}", s.base.replacen("http", "ws", 1));
        let (mut op, _) = tokio_tungstenite::connect_async(ws.as_str()).await.unwrap();
        // The applicant hears that the operator is ready.
        let ready = next_json(&mut applicant).await;
        assert_eq!(ready["type"], "operator-ready");
        for garbage in ["not json", r#"{"type":"offer"}"#, r#"{"type":"answer","sdp":5}"#, r#"{"kind":"answer"}"#] {
            op.send(Message::Text(garbage.into())).await.unwrap();
            let reply = next_json(&mut op).await;
            assert_eq!(reply["code"], "INVALID_SIGNAL", "{garbage}");
        }
        // A well-formed answer is relayed as it is.
        op.send(Message::Text(r#"{"type":"answer","sdp":"v=0"}"#.into())).await.unwrap();
        let relayed = next_json(&mut applicant).await;
        assert_eq!(relayed, json!({"type": "answer", "sdp": "v=0"}));
        // Someone else's token cannot join the call's signalling.
        let other = s.staff("op2@acme.test", Role::VideoOperator).await;
        let ws = format!("{}/video/sessions/{session}/signal?token={other}", s.base.replacen("http", "ws", 1));
        assert!(tokio_tungstenite::connect_async(ws.as_str()).await.is_err());
    }
}

async fn next_json<S>(socket: &mut S) -> Value
where
    S: StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message =
            tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("a message").unwrap().unwrap();
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] != "waiting" {
                return value;
            }
        }
    }
}
