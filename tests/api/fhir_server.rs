//! The FHIR server under `/v1/fhir` (issue 32) through the HTTP stack, on either backend: the
//! CapabilityStatement against the routes that answer, OperationOutcome errors, format
//! negotiation, and reads with ETag/Last-Modified/vread that resolve the Bundle's fullUrls.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::test::{TestRequest, init_service};
use common::fhir_world::{get, manifest, of_type, path, world};
use common::{TestApp, auth, send};
use serde_json::{Value, json};

#[actix_web::test]
async fn the_capability_statement_is_what_answers() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let cs = send(&app, TestRequest::get().uri("/v1/fhir/metadata")).await;
    assert_eq!(cs.status, 200, "{}", cs.body);
    assert_eq!(cs.header("content-type"), Some("application/fhir+json"));
    assert_eq!(cs.body["resourceType"], "CapabilityStatement");
    assert_eq!(cs.body["fhirVersion"], "4.0.1");
    assert!(cs.body["format"].as_array().unwrap().iter().all(|f| !f.as_str().unwrap().contains("xml")));
    let security = &cs.body["rest"][0]["security"];
    assert_eq!(security["service"][0]["coding"][0]["code"], "SMART-on-FHIR");
    let token = security["extension"][0]["extension"][0]["valueUri"].as_str().unwrap();
    assert!(token.ends_with("/v1/auth/token"), "{token}");

    // A JP-CLINS referral letter, so that prescriptions and observations are there to read.
    let referral =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/fixtures/jp-clins/referral.json"));
    let import = TestRequest::post()
        .uri(&format!("/v1/patients/{}/fhir", w.patient))
        .insert_header(auth(&w.physician))
        .insert_header(("content-type", "application/fhir+json"))
        .set_payload(referral.unwrap());
    assert_eq!(send(&app, import).await.status, 201);
    // One id of every type the patient's Bundle holds: each is read below.
    let bundle = get(&app, &w.physician, &format!("/v1/patients/{}/fhir", w.patient)).await;
    let mut sample: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for e in bundle.body["entry"].as_array().unwrap() {
        let r = &e["resource"];
        sample.entry(r["resourceType"].as_str().unwrap().to_owned()).or_insert(r["id"].as_str().unwrap().to_owned());
    }
    sample.insert("Group".into(), format!("managed-{}", w.clinic));
    let resources = cs.body["rest"][0]["resource"].as_array().unwrap();
    let stated: Vec<&str> = resources.iter().map(|r| r["type"].as_str().unwrap()).collect();
    for kind in sample.keys() {
        assert!(stated.contains(&kind.as_str()), "{kind} is emitted but not in the statement");
    }
    // Every interaction stated answers.
    for r in resources {
        let kind = r["type"].as_str().unwrap();
        let id = sample.get(kind).map_or("", String::as_str);
        for i in r["interaction"].as_array().unwrap() {
            // A post imports a Bundle: fhir_clins_door drives it.
            if i["code"] == "create" && kind == "Bundle" {
                continue;
            }
            assert!(!id.is_empty(), "no {kind} to read");
            let uri = match i["code"].as_str().unwrap() {
                "read" => format!("/v1/fhir/{kind}/{id}"),
                "vread" => format!("/v1/fhir/{kind}/{id}/_history/1"),
                "search-type" if kind == "Patient" => format!("/v1/fhir/Patient?_id={id}"),
                "search-type" if kind == "Group" => "/v1/fhir/Group".to_owned(),
                "search-type" => format!("/v1/fhir/{kind}?patient={}", w.patient),
                other => panic!("{other} is stated but not checked"),
            };
            let res = get(&app, &w.physician, &uri).await;
            assert_eq!(res.status, 200, "{uri}: {}", res.body);
            assert_eq!(res.header("content-type"), Some("application/fhir+json"), "{uri}");
        }
        for p in r["searchParam"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().unwrap();
            let uri = match kind {
                "Patient" | "Group" => format!("/v1/fhir/{kind}?{name}=x"),
                _ => format!("/v1/fhir/{kind}?patient={}&{name}=x", w.patient),
            };
            let strict = TestRequest::get().uri(&uri).insert_header(auth(&w.physician));
            let res = send(&app, strict.insert_header(("prefer", "handling=strict"))).await;
            assert_ne!(res.status, 500, "{uri}");
            if res.status != 200 {
                // A stated parameter is known: strict handling may refuse its value, never its name.
                let said = res.outcome(400)["diagnostics"].as_str().unwrap().to_owned();
                assert!(!said.contains("is not a search parameter"), "{uri}: {said}");
            }
        }
        for op in r["operation"].as_array().into_iter().flatten() {
            let uri = match (kind, op["name"].as_str().unwrap()) {
                ("Patient", "everything") => format!("/v1/fhir/Patient/{}/$everything", w.patient),
                ("Composition", "document") => format!("/v1/fhir/Composition/{}/$document", sample["Composition"]),
                ("Patient", "export") => "/v1/fhir/Patient/$export".to_owned(),
                ("Group", "export") => format!("/v1/fhir/Group/{id}/$export"),
                other => panic!("{other:?} is stated but not checked"),
            };
            let res = get(&app, &w.physician, &uri).await;
            assert!(res.status == 200 || res.status == 202, "{uri}: {} {}", res.status, res.body);
            if res.status == 202 {
                manifest(&app, &w.physician, res.header("content-location").unwrap()).await;
            }
        }
    }
    for op in cs.body["rest"][0]["operation"].as_array().unwrap() {
        assert_eq!(op["name"], "export");
        let res = get(&app, &w.physician, "/v1/fhir/$export").await;
        assert_eq!(res.status, 202, "{}", res.body);
        manifest(&app, &w.physician, res.header("content-location").unwrap()).await;
    }
    // And what is not stated does not answer.
    for kind in ["Encounter", "Immunization", "Procedure", "Location"] {
        assert!(!stated.contains(&kind));
        get(&app, &w.physician, &format!("/v1/fhir/{kind}?patient={}", w.patient)).await.outcome(404);
        get(&app, &w.physician, &format!("/v1/fhir/{kind}/{}", w.patient)).await.outcome(404);
    }
    // A Bundle is only posted (imported as a document): no search, no read.
    get(&app, &w.physician, &format!("/v1/fhir/Bundle?patient={}", w.patient)).await.outcome(405);
    get(&app, &w.physician, &format!("/v1/fhir/Bundle/{}", w.patient)).await.outcome(404);
    for r in resources.iter().filter(|r| r["versioning"] == "no-version" && r["type"] != "Bundle") {
        let kind = r["type"].as_str().unwrap();
        let uri = format!("/v1/fhir/{kind}/{}/_history/1", sample[kind]);
        get(&app, &w.physician, &uri).await.outcome(404);
    }
    get(&app, &w.physician, &format!("/v1/fhir/Condition/{}/$everything", w.patient)).await.outcome(404);
}

#[actix_web::test]
async fn errors_on_fhir_routes_are_operation_outcomes() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let unauthenticated = send(&app, TestRequest::get().uri(&format!("/v1/fhir/Patient/{}", w.patient))).await;
    assert_eq!(unauthenticated.outcome(401)["code"], "login");
    assert!(unauthenticated.header("www-authenticate").is_some());
    assert_eq!(get(&app, &w.physician, "/v1/fhir/Nothing").await.outcome(404)["code"], "not-found");
    let wrong_method = TestRequest::delete().uri(&format!("/v1/fhir/Condition?patient={}", w.patient));
    assert_eq!(send(&app, wrong_method.insert_header(auth(&w.physician))).await.outcome(405)["code"], "not-supported");
    let bad = get(&app, &w.physician, &format!("/v1/fhir/Condition?patient={}&_count=many", w.patient)).await;
    let issue = bad.outcome(400);
    assert_eq!((issue["code"].as_str(), issue["expression"][0].as_str()), (Some("invalid"), Some("_count")));
    let no_patient = get(&app, &w.physician, "/v1/fhir/Condition").await;
    assert_eq!(no_patient.outcome(400)["expression"][0], "patient");
    // A refused read is a 404 OperationOutcome, as for a resource that does not exist.
    let refused = get(&app, &w.stranger, &format!("/v1/fhir/Patient/{}", w.patient)).await;
    let missing = get(&app, &w.stranger, "/v1/fhir/Patient/00000000-0000-0000-0000-000000000000").await;
    assert_eq!(refused.outcome(404)["code"], missing.outcome(404)["code"]);
    // The JSON API keeps problem+json.
    send(&app, TestRequest::get().uri(&format!("/v1/patients/{}", w.patient)).insert_header(auth(&w.stranger)))
        .await
        .problem(404);
    send(&app, TestRequest::get().uri("/v1/nothing")).await.problem(404);
}

#[actix_web::test]
async fn reads_resolve_the_bundles_full_urls_with_versions() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let bundle = get(&app, &w.physician, &format!("/v1/patients/{}/fhir", w.patient)).await;
    for e in bundle.body["entry"].as_array().unwrap() {
        let url = e["fullUrl"].as_str().unwrap();
        assert!(url.starts_with("http://"), "{url}");
        let res = get(&app, &w.physician, path(url)).await;
        assert_eq!(res.status, 200, "{url}: {}", res.body);
        let r = &e["resource"];
        assert_eq!((&res.body["resourceType"], &res.body["id"]), (&r["resourceType"], &r["id"]), "{url}");
        let mut read = res.body.clone();
        let mut inline = r.clone();
        for v in [&mut read, &mut inline] {
            if let Some(meta) = v.get_mut("meta").and_then(Value::as_object_mut) {
                meta.remove("versionId");
                meta.remove("lastUpdated");
                if meta.is_empty() {
                    v.as_object_mut().unwrap().remove("meta");
                }
            }
        }
        assert_eq!(read, inline, "{url}: the read is the Bundle's resource");
        let etag = res.header("etag").unwrap().to_owned();
        let again = TestRequest::get().uri(path(url)).insert_header(auth(&w.physician));
        assert_eq!(send(&app, again.insert_header(("if-none-match", etag))).await.status, 304, "{url}");
    }
    let plan = format!("/v1/fhir/CarePlan/{}", w.care_path);
    let v1 = get(&app, &w.physician, &plan).await;
    assert_eq!(v1.header("etag"), Some("W/\"1\""));
    assert!(v1.header("last-modified").unwrap().ends_with(" GMT"));
    assert_eq!(v1.body["meta"]["versionId"], "1");

    // A new version of the care path: the read moves on, the vread keeps the old one.
    let doc = get(&app, &w.physician, &format!("/v1/documents/{}", w.care_path)).await;
    let mut content = doc.body["content"].clone();
    content["diagnoses"] = json!([{"name": "心不全", "icd10_code": "I50.9"}]);
    let put = TestRequest::put()
        .uri(&format!("/v1/documents/{}", w.care_path))
        .insert_header(auth(&w.physician))
        .insert_header(("if-match", "\"1\""))
        .set_json(json!({"type": "care-path", "schema_version": "1.1.0", "content": content}));
    let res = send(&app, put).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let v2 = get(&app, &w.physician, &plan).await;
    assert_eq!(v2.header("etag"), Some("W/\"2\""));
    let old = get(&app, &w.physician, &format!("{plan}/_history/1")).await;
    assert_eq!(old.status, 200, "{}", old.body);
    assert_eq!(old.body["meta"]["versionId"], "1");
    assert_ne!(old.body["addresses"], v2.body["addresses"]);
    let first_condition = format!("/v1/fhir/Condition/{}-dx0", w.care_path);
    let now = get(&app, &w.physician, &first_condition).await;
    assert_eq!(now.status, 200, "{}", now.body);
    assert_eq!(now.body["code"]["coding"][0]["code"], "I50.9");
    let then = get(&app, &w.physician, &format!("{first_condition}/_history/1")).await;
    assert_eq!(then.status, 200, "{}", then.body);
    assert_ne!(then.body["code"], now.body["code"]);
    get(&app, &w.physician, &format!("{plan}/_history/9")).await.outcome(404);

    // The care manager reads the care path with the restricted infection withheld; the nurse
    // reads no discharge summary (the consent shares care paths only); the stranger nothing.
    let cm_plan = get(&app, &w.care_manager, &plan).await;
    assert_eq!(cm_plan.status, 200, "{}", cm_plan.body);
    assert_eq!(cm_plan.body["meta"]["security"][0]["code"], "REDACTED");
    let conditions = of_type(&bundle.body, "Condition");
    let infection = conditions.iter().find(|c| c["code"]["text"] == "MRSA保菌").unwrap();
    let uri = format!("/v1/fhir/Condition/{}", infection["id"].as_str().unwrap());
    assert_eq!(get(&app, &w.physician, &uri).await.status, 200);
    get(&app, &w.care_manager, &uri).await.outcome(404);
    let composition = of_type(&bundle.body, "Composition")[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(get(&app, &w.nurse, &plan).await.status, 200);
    get(&app, &w.nurse, &format!("/v1/fhir/Composition/{composition}")).await.outcome(404);
    get(&app, &w.stranger, &plan).await.outcome(404);

    // Each read is one audited read of the patient, in its access log.
    let log = get(&app, &w.physician, &format!("/v1/patients/{}/access-log", w.patient)).await;
    assert!(log.body["items"].as_array().unwrap().iter().any(|e| e["action"] == "fhir.read"), "{}", log.body);
}

#[actix_web::test]
async fn formats_are_negotiated_json_only() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let uri = format!("/v1/fhir/Patient/{}", w.patient);
    for accept in
        ["application/fhir+json", "application/json", "*/*", "application/fhir+xml, application/fhir+json;q=0.5"]
    {
        let req = TestRequest::get().uri(&uri).insert_header(auth(&w.physician)).insert_header(("accept", accept));
        assert_eq!(send(&app, req).await.status, 200, "{accept}");
    }
    for format in ["json", "application/fhir%2Bjson"] {
        assert_eq!(get(&app, &w.physician, &format!("{uri}?_format={format}")).await.status, 200, "{format}");
    }
    let xml = TestRequest::get()
        .uri(&uri)
        .insert_header(auth(&w.physician))
        .insert_header(("accept", "application/fhir+xml"));
    assert_eq!(send(&app, xml).await.outcome(406)["code"], "not-supported");
    get(&app, &w.physician, &format!("{uri}?_format=xml")).await.outcome(406);
    get(&app, &w.physician, "/v1/fhir/metadata?_format=application/fhir%2Bxml").await.outcome(406);
}
