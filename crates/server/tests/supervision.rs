//! The supervisor's reading: the decision log with its filters, its CSV export (audited), and
//! the reviewer statistics; refused to reviewers. On SQLite and PostgreSQL.

mod common;

use common::TestServer;
use identdesk_domain::{Answer, CaseKind, DecisionInput, RejectLabel, RejectType, Role};
use identdesk_server::store::applicants::SeedApplicant;
use identdesk_server::store::now_ms;
use serde_json::Value;

#[tokio::test]
async fn the_decision_log_filters_exports_and_counts() {
    for s in TestServer::all().await {
        let b = s.backend;
        let now = now_ms();
        let seed: Vec<_> = (0..3).map(|i| SeedApplicant::queued(i, CaseKind::Review, now)).collect();
        s.store.seed_applicants(&s.tenant_id, &seed).await.unwrap();
        let reviewer_token = s.staff("ana@acme.test", Role::Reviewer).await;
        let ana =
            s.store.tenant_users(&s.tenant_id).await.unwrap().into_iter().find(|u| u.email == "ana@acme.test").unwrap();
        // Ana approves one case and rejects two, one with BACK_SIDE_MISSING.
        for (i, labels) in
            [vec![], vec![RejectLabel::BACK_SIDE_MISSING, RejectLabel::LOW_QUALITY], vec![RejectLabel::SPAM]]
                .into_iter()
                .enumerate()
        {
            let case = s.store.claim_next(&ana, &[CaseKind::Review], 60_000).await.unwrap().unwrap();
            let mut input = DecisionInput::green(case.version);
            if !labels.is_empty() {
                input.answer = Answer::Red;
                input.reject_type = Some(RejectType::Retry);
                input.labels = labels;
            }
            s.store.decide(&ana, &case.id, &format!("k{i}"), &input).await.unwrap();
        }
        let sup = s.staff("sue@acme.test", Role::Supervisor).await;
        let get = |path: String, token: String| {
            let http = s.http.clone();
            let url = s.at(&path);
            async move {
                let res = http.get(url).bearer_auth(token).send().await.unwrap();
                (res.status().as_u16(), res.text().await.unwrap())
            }
        };
        let json = |text: &str| serde_json::from_str::<Value>(text).unwrap();

        let (status, body) = get("/decisions".into(), sup.clone()).await;
        assert_eq!((status, json(&body)["total"].as_i64()), (200, Some(3)), "{b}: {body}");
        let (_, body) = get("/decisions?answer=RED".into(), sup.clone()).await;
        assert_eq!(json(&body)["total"], 2, "{b}");
        let (_, body) = get("/decisions?label=BACK_SIDE_MISSING".into(), sup.clone()).await;
        let page = json(&body);
        assert_eq!(page["total"], 1, "{b}");
        assert_eq!(page["items"][0]["labels"], serde_json::json!(["BACK_SIDE_MISSING", "LOW_QUALITY"]), "{b}");
        let (_, body) = get(format!("/decisions?reviewerId={}&fromMs={}", ana.id, now + 3_600_000), sup.clone()).await;
        assert_eq!(json(&body)["total"], 0, "{b}: nothing decided in the future");
        let (status, body) = get("/decisions?label=NOT_A_LABEL".into(), sup.clone()).await;
        assert_eq!((status, json(&body)["code"].as_str()), (400, Some("INVALID_QUERY")), "{b}: {body}");

        let (status, csv) = get("/decisions/export.csv?answer=RED".into(), sup.clone()).await;
        assert_eq!(status, 200, "{b}");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "decidedAt,decisionId,caseId,applicantId,reviewerId,answer,rejectType,labels", "{b}");
        assert_eq!(lines.len(), 3, "{b}: header and two rejections");
        assert!(lines.iter().any(|l| l.ends_with(",RED,RETRY,BACK_SIDE_MISSING;LOW_QUALITY")), "{b}: {csv}");
        let (_, events) = get("/audit?limit=1000".into(), sup.clone()).await;
        assert!(events.contains("decisions.exported"), "{b}: the export is audited");

        let (_, body) = get("/stats/reviewers".into(), sup.clone()).await;
        let stats = json(&body);
        let ana_stats = &stats.as_array().unwrap().iter().find(|r| r["email"] == "ana@acme.test").unwrap().clone();
        assert_eq!(
            (ana_stats["decisions"].as_i64(), ana_stats["green"].as_i64(), ana_stats["red"].as_i64()),
            (Some(3), Some(1), Some(2)),
            "{b}"
        );
        let per_hour: i64 =
            ana_stats["perHour"].as_array().unwrap().iter().map(|h| h["decisions"].as_i64().unwrap()).sum();
        assert_eq!(per_hour, 3, "{b}");
        assert_eq!(ana_stats["labels"].as_array().unwrap().len(), 3, "{b}: BACK_SIDE_MISSING, LOW_QUALITY, SPAM");

        for path in ["/decisions", "/decisions/export.csv", "/stats/reviewers"] {
            let (status, body) = get(path.into(), reviewer_token.clone()).await;
            assert_eq!((status, json(&body)["code"].as_str()), (403, Some("FORBIDDEN")), "{b}: {path}");
        }
    }
}
