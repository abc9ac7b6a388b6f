//! The second review's findings on webhooks (issue 26): who may register and manage a
//! subscription, one organisation's share of the delivery slots, the cap on subscriptions, an
//! audit event per delivery, and a damaged filter that delivers nothing.

use super::*;

fn token_for(w: &World, sub: &str, role: &str, org: &str) -> String {
    let dir = &w.t.state.settings.data_dir;
    carepath::auth::issue_local_token(dir, sub, role.parse().unwrap(), org, 600).unwrap()
}

fn post_sub(token: &str, body: Value) -> TestRequest {
    TestRequest::post().uri("/v1/subscriptions").insert_header(auth(token)).set_json(body)
}

#[actix_web::test]
async fn a_subscription_acts_only_as_its_creators_own_role() {
    let t = TestApp::with(|s| fast(s, 3600));
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&app, t).await;
    let url = "https://ehr.example.com/h";
    // The finding: an admin (who may read no document) subscribed as a physician.
    for role in ["physician", "nurse"] {
        let res = send(&app, post_sub(&w.station_admin, json!({"url": url, "role": role}))).await;
        let problem = res.problem(422);
        assert_eq!(problem["errors"][0]["pointer"], "/role", "{problem}");
    }
    let res = send(&app, post_sub(&w.nurse, json!({"url": url, "role": "physician"}))).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/role");
    let own = send(&app, post_sub(&w.nurse, json!({"url": url, "role": "nurse"}))).await;
    assert_eq!(own.status, 201, "{}", own.body);
    let default = send(&app, post_sub(&w.physician, json!({"url": url}))).await;
    assert_eq!(default.status, 201, "{}", default.body);
    assert_eq!(default.body["role"], "physician");
}

#[actix_web::test]
async fn only_its_creator_or_the_organisations_admin_manages_a_subscription() {
    let t = TestApp::with(|s| fast(s, 3600));
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&app, t).await;
    let created = send(&app, post_sub(&w.nurse, json!({"url": "https://ehr.example.com/h"}))).await;
    let id = created.id();
    let uri = format!("/v1/subscriptions/{id}");
    // Colleagues of the same organisation, with roles that may read documents.
    let colleagues = [token_for(&w, "nurse-2", "nurse", &w.station), w.t.token("therapist", &w.station)];
    for other in &colleagues {
        let list = send(&app, TestRequest::get().uri("/v1/subscriptions").insert_header(auth(other))).await;
        assert_eq!(list.body["items"], json!([]), "another's subscription is not listed");
        send(&app, TestRequest::get().uri(&uri).insert_header(auth(other))).await.problem(404);
        send(&app, TestRequest::delete().uri(&uri).insert_header(auth(other))).await.problem(404);
        let enable = TestRequest::post().uri(&format!("{uri}/enable")).insert_header(auth(other));
        send(&app, enable).await.problem(404);
        let replay =
            TestRequest::post().uri(&format!("{uri}/replay")).insert_header(auth(other)).set_json(json!({"since": 0}));
        send(&app, replay).await.problem(404);
    }
    // The admin sees and manages every subscription of its organisation; the creator its own.
    let list = send(&app, TestRequest::get().uri("/v1/subscriptions").insert_header(auth(&w.station_admin))).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let enable = TestRequest::post().uri(&format!("{uri}/enable")).insert_header(auth(&w.station_admin));
    assert_eq!(send(&app, enable).await.status, 200);
    let list = send(&app, TestRequest::get().uri("/v1/subscriptions").insert_header(auth(&w.nurse))).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(send(&app, TestRequest::delete().uri(&uri).insert_header(auth(&w.nurse))).await.status, 204);
}

#[actix_web::test]
async fn an_organisation_holds_a_bounded_number_of_subscriptions() {
    let t = TestApp::with(|s| {
        fast(s, 3600);
        s.webhooks.max_per_organization = 2;
    });
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&app, t).await;
    let body = json!({"url": "https://ehr.example.com/h"});
    for _ in 0..2 {
        assert_eq!(send(&app, post_sub(&w.nurse, body.clone())).await.status, 201);
    }
    let refused = send(&app, post_sub(&w.nurse, body.clone())).await;
    assert!(refused.problem(409)["detail"].as_str().unwrap().contains("at most 2"), "{}", refused.body);
    assert_eq!(send(&app, post_sub(&w.physician, body)).await.status, 201, "another organisation has its own");
}

#[actix_web::test]
async fn one_organisations_slow_receivers_do_not_delay_anothers_delivery() {
    let t = TestApp::with(|s| {
        fast(s, 3600);
        s.webhooks.timeout_secs = 6;
        s.webhooks.concurrency = 2;
        s.webhooks.org_concurrency = 1;
    });
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&app, t).await;
    let slow = Receiver::start();
    slow.delay_ms.store(3000, Ordering::SeqCst);
    // The station's three subscriptions are older, so without fairness they would go first.
    for _ in 0..3 {
        assert_eq!(subscribe(&app, &w, nurse_sub(&slow)).await.status, 201);
    }
    let quick = Receiver::start();
    let res = send(&app, post_sub(&w.physician, json!({"url": quick.url()}))).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let worker = Worker::start(w.t.state.clone());
    let start = Instant::now();
    write_doc(&app, &w, &w.patients[0], "care_1").await;
    quick.wait_for(1).await;
    let took = start.elapsed();
    worker.stop().await;
    assert!(took < Duration::from_secs(2), "the clinic waited {took:?} behind the station's slow receivers");
}

#[actix_web::test]
async fn each_delivery_is_an_audit_event_naming_the_patient() {
    let t = TestApp::with(|s| fast(s, 3600));
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&app, t).await;
    let r = Receiver::start();
    let id = subscribe(&app, &w, nurse_sub(&r)).await.id();
    let worker = Worker::start(w.t.state.clone());
    let docs =
        [write_doc(&app, &w, &w.patients[0], "care_1").await, write_doc(&app, &w, &w.patients[1], "care_2").await];
    r.wait_for(2).await;
    worker.stop().await;
    let auditor = w.t.token("auditor", &w.station);
    let events = send(
        &app,
        TestRequest::get().uri("/v1/audit-events?action=subscription.deliver").insert_header(auth(&auditor)),
    )
    .await;
    assert_eq!(events.status, 200, "{}", events.body);
    let items = events.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", events.body);
    for (event, (doc, patient)) in items.iter().zip(docs.iter().zip(&w.patients)) {
        assert_eq!(event["patient_id"], patient.as_str());
        assert_eq!(event["resource_type"], "document");
        assert_eq!(event["resource_id"], doc["id"]);
        assert_eq!(event["actor_sub"], format!("subscription:{id}"));
        assert_eq!(event["actor_org"], w.station.as_str());
        assert_eq!(event["actor_role"], "nurse");
    }
}

#[actix_web::test]
async fn an_unreadable_filter_list_delivers_nothing() {
    #[derive(diesel::QueryableByName)]
    struct Seq {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        delivered_seq: i64,
    }
    use diesel::RunQueryDsl;
    let t = TestApp::with(|s| fast(s, 3600));
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&app, t).await;
    let r = Receiver::start();
    let body = json!({"url": r.url(), "types": ["care-path"]});
    let id = subscribe(&app, &w, body).await.id();
    let mut conn = w.t.state.pool.get().unwrap();
    diesel::sql_query("UPDATE subscriptions SET doc_types = 'care-path'").execute(&mut *conn).unwrap();
    let worker = Worker::start(w.t.state.clone());
    write_doc(&app, &w, &w.patients[0], "care_1").await;
    write_doc(&app, &w, &w.patients[1], "care_2").await;
    let head = carepath::db::changes::last_seq(&mut conn).unwrap();
    let start = Instant::now();
    loop {
        let seq: Seq = diesel::sql_query(format!("SELECT delivered_seq FROM subscriptions WHERE id = '{id}'"))
            .get_result(&mut *conn)
            .unwrap();
        if seq.delivered_seq >= head {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "the worker never went past the changes");
        // Spaces the polls of a condition the loop checks; no outcome waits on the time itself.
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    worker.stop().await;
    assert_eq!(r.attempts.load(Ordering::SeqCst), 0, "nothing was sent past a damaged filter");
}
