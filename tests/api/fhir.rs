//! The FHIR view through the HTTP stack, on either backend: the Bundle's shape, withheld fields
//! kept withheld (and labelled), refusal without a relationship, the audit event it writes.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use common::fhir_world::example;
use common::{TestApp, World, auth, hanako, send};
use serde_json::{Value, json};

fn of_type<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["entry"].as_array().unwrap().iter().map(|e| &e["resource"]).filter(|r| r["resourceType"] == kind).collect()
}

async fn world<S, B>(t: &TestApp, app: &S) -> (String, String, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut patient = hanako();
    patient["name_kana"] = json!("ヤマダ ハナコ");
    patient["ltc_insured_number"] = json!("9876543210");
    patient["health_insurance"] = json!({"insurer_number": "39331234", "number": "3456"});
    let mut care_path = example("care-path/examples/1.1.0-full.json");
    care_path["infections"] = json!([{"name": "MRSA保菌", "status": "carrier"}]);
    let w = World::new(t, app)
        .org("clinic", "clinic")
        .patient(patient)
        .member("clinic", "physician", "2025-04-01")
        .document("care-path", "1.1.0", care_path)
        .document("discharge-summary", "1.0.0", example("discharge-summary/examples/1.0.0-full.json"))
        .build()
        .await;
    (w.org("clinic"), w.author.clone(), w.patient.clone())
}

#[actix_web::test]
async fn the_bundle_holds_the_record_in_fhir_shapes() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (org, physician, patient) = world(&t, &app).await;
    let res =
        send(&app, TestRequest::get().uri(&format!("/v1/patients/{patient}/fhir")).insert_header(auth(&physician)))
            .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.header("content-type"), Some("application/fhir+json"));
    let b = &res.body;
    assert_eq!(b["resourceType"], "Bundle");
    assert_eq!(b["type"], "collection");
    let p = of_type(b, "Patient")[0];
    assert_eq!(p["id"], patient.as_str());
    assert!(p["meta"]["profile"][0].as_str().unwrap().ends_with("JP_Patient"));
    assert_eq!(p["name"][1]["text"], "ヤマダ ハナコ");
    assert_eq!(p["name"][1]["extension"][0]["valueCode"], "SYL");
    assert_eq!(p["name"][0]["family"], "山田");
    let ids: Vec<&str> = p["identifier"].as_array().unwrap().iter().map(|i| i["value"].as_str().unwrap()).collect();
    assert!(ids.contains(&"9876543210") && ids.contains(&"39331234::3456:"), "{ids:?}");
    assert_eq!(of_type(b, "Organization")[0]["id"], org.as_str());
    assert_eq!(of_type(b, "CareTeam").len(), 1);
    let plan = of_type(b, "CarePlan");
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0]["status"], "active");
    assert!(plan[0]["meta"].get("security").is_none(), "a physician sees restricted fields");
    let conditions = of_type(b, "Condition");
    assert!(conditions.iter().any(|c| c["code"]["coding"][0]["code"] == "G30.1"));
    assert!(conditions.iter().any(|c| c["code"]["text"] == "MRSA保菌"), "infections reach a physician");
    assert!(!of_type(b, "MedicationStatement").is_empty());
    assert!(!of_type(b, "AllergyIntolerance").is_empty());
    let composition = of_type(b, "Composition");
    assert_eq!(composition.len(), 1);
    assert_eq!(composition[0]["type"]["coding"][0]["code"], "18842-5");
    assert_eq!(composition[0]["event"][0]["period"]["start"], "2023-11-02");
    assert_eq!(of_type(b, "DocumentReference").len(), 1);

    // The patient's own URL answers the same Bundle to `Accept: application/fhir+json`.
    let negotiated = send(
        &app,
        TestRequest::get()
            .uri(&format!("/v1/patients/{patient}"))
            .insert_header(auth(&physician))
            .insert_header(("accept", "application/fhir+json")),
    )
    .await;
    assert_eq!(negotiated.header("content-type"), Some("application/fhir+json"));
    assert_eq!(negotiated.body["entry"].as_array().unwrap().len(), b["entry"].as_array().unwrap().len());
    let plain =
        send(&app, TestRequest::get().uri(&format!("/v1/patients/{patient}")).insert_header(auth(&physician))).await;
    assert_eq!(plain.body["id"], patient.as_str());
}

#[actix_web::test]
async fn withheld_fields_stay_withheld_and_labelled() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (org, _physician, patient) = world(&t, &app).await;
    let care_manager = t.token("care_manager", &org);
    let res =
        send(&app, TestRequest::get().uri(&format!("/v1/patients/{patient}/fhir")).insert_header(auth(&care_manager)))
            .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let text = String::from_utf8(res.raw.clone()).unwrap();
    assert!(!text.contains("MRSA"), "a restricted field leaked");
    let plan = of_type(&res.body, "CarePlan")[0];
    assert_eq!(plan["meta"]["security"][0]["code"], "REDACTED");
    assert_eq!(res.body["meta"]["security"][0]["code"], "REDACTED");
    let composition = of_type(&res.body, "Composition")[0];
    let withheld: Vec<&Value> =
        composition["section"].as_array().unwrap().iter().filter(|s| s.get("emptyReason").is_some()).collect();
    assert_eq!(withheld.len(), 1, "the discharge summary's infections are withheld");
    assert_eq!(withheld[0]["emptyReason"]["coding"][0]["code"], "withheld");
    // Consents for the care manager (who may read them), none for a care worker (who may not).
    assert!(of_type(&res.body, "Consent").is_empty(), "no consents were recorded");
}

#[actix_web::test]
async fn strangers_are_refused_as_for_the_patient_and_reads_are_audited() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (org, physician, patient) = world(&t, &app).await;
    let other = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": "elsewhere", "kind": "hospital"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stranger = t.token("physician", &other);
    let fhir =
        send(&app, TestRequest::get().uri(&format!("/v1/patients/{patient}/fhir")).insert_header(auth(&stranger)))
            .await;
    let plain =
        send(&app, TestRequest::get().uri(&format!("/v1/patients/{patient}")).insert_header(auth(&stranger))).await;
    assert_eq!(fhir.problem(404)["detail"], plain.problem(404)["detail"]);
    send(&app, TestRequest::get().uri(&format!("/v1/patients/{patient}/fhir")).insert_header(auth(&physician))).await;

    let city = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": "city", "kind": "municipality"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let auditor = t.token("auditor", &city);
    let events =
        send(&app, TestRequest::get().uri("/v1/audit-events?action=patient.fhir").insert_header(auth(&auditor))).await;
    let items = events.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", events.body);
    assert!(items.iter().all(|e| e["patient_id"] == patient.as_str()));
    assert_eq!((items[0]["outcome"].as_str(), items[1]["outcome"].as_str()), (Some("denied"), Some("allowed")));
    let ndjson =
        send(&app, TestRequest::get().uri("/v1/audit-events/fhir?action=patient.fhir").insert_header(auth(&auditor)))
            .await;
    assert_eq!(ndjson.status, 200);
    assert_eq!(ndjson.header("content-type"), Some("application/fhir+ndjson"));
    let lines: Vec<Value> =
        String::from_utf8(ndjson.raw).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["resourceType"], "AuditEvent");
    assert_eq!((lines[0]["outcome"].as_str(), lines[1]["outcome"].as_str()), (Some("4"), Some("0")));
    assert_eq!(lines[1]["entity"][0]["what"]["reference"], format!("Patient/{patient}"));
    let refused = send(&app, TestRequest::get().uri("/v1/audit-events/fhir").insert_header(auth(&physician))).await;
    refused.problem(403);
    let _ = org;
}

/// Polls a job until its manifest is ready.
async fn manifest<S, B>(app: &S, token: &str, location: &str) -> Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    for _ in 0..200 {
        let res = send(app, TestRequest::get().uri(location).insert_header(auth(token))).await;
        match res.status.as_u16() {
            200 => return res.body,
            202 => assert!(res.header("x-progress").is_some()),
            other => panic!("status {other}: {}", res.body),
        }
        // Spaces the polls of a condition the loop checks; no outcome waits on the time itself.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the export did not finish");
}

#[actix_web::test]
async fn bulk_export_holds_what_the_caller_may_read_and_is_audited_by_count() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (org, physician, patient) = world(&t, &app).await;
    let kick = send(
        &app,
        TestRequest::post().uri("/v1/fhir/$export?_type=Patient,Composition,Condition").insert_header(auth(&physician)),
    )
    .await;
    assert_eq!(kick.status, 202, "{}", kick.body);
    let location = kick.header("content-location").unwrap().to_owned();
    let m = manifest(&app, &physician, &location).await;
    let outputs = m["output"].as_array().unwrap();
    let kinds: Vec<&str> = outputs.iter().map(|o| o["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Patient", "Composition", "Condition"]);
    assert_eq!(outputs[0]["count"], 1);
    let url = outputs[0]["url"].as_str().unwrap();
    let path = &url[url.find("/v1/").unwrap()..];
    let file = send(&app, TestRequest::get().uri(path).insert_header(auth(&physician))).await;
    assert_eq!(file.status, 200);
    let line: Value = serde_json::from_slice(file.raw.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["id"], patient.as_str());

    // Another caller sees neither the job nor its files.
    let colleague = t.token("care_manager", &org);
    send(&app, TestRequest::get().uri(&location).insert_header(auth(&colleague))).await.outcome(404);
    send(&app, TestRequest::get().uri(path).insert_header(auth(&colleague))).await.outcome(404);
    // A caller of an organisation without the patient exports nothing of it.
    let other = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": "elsewhere", "kind": "hospital"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stranger = t.token("physician", &other);
    let kick = send(&app, TestRequest::post().uri("/v1/fhir/$export").insert_header(auth(&stranger))).await;
    let location2 = kick.header("content-location").unwrap().to_owned();
    assert_eq!(manifest(&app, &stranger, &location2).await["output"], json!([]));
    send(&app, TestRequest::post().uri("/v1/fhir/$export?_type=Encounter").insert_header(auth(&physician)))
        .await
        .outcome(422);

    let city = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": "city", "kind": "municipality"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let auditor = t.token("auditor", &city);
    let events =
        send(&app, TestRequest::get().uri("/v1/audit-events?action=fhir.export").insert_header(auth(&auditor))).await;
    let items = events.body["items"].as_array().unwrap();
    let ours: Vec<&Value> = items.iter().filter(|e| e["patient_id"].is_null()).collect();
    assert_eq!(ours.len(), 2, "{items:?}");
    let basis: Value = serde_json::from_str(ours[0]["basis"].as_str().unwrap()).unwrap();
    assert_eq!(basis["patients"], 1);
    assert_eq!(basis["resources"]["Patient"], 1);
    assert!(items.iter().any(|e| e["patient_id"] == patient.as_str()), "the patient's access log shows the export");

    let gone = send(&app, TestRequest::delete().uri(&location).insert_header(auth(&physician))).await;
    assert_eq!(gone.status, 202);
    send(&app, TestRequest::get().uri(&location).insert_header(auth(&physician))).await.outcome(404);
}

/// The discharge summary of a patient's Bundle, as a FHIR document Bundle of its own.
fn document_bundle(record: &Value, identifier: &str) -> Value {
    let entries = record["entry"].as_array().unwrap();
    let composition = entries.iter().find(|e| e["resource"]["resourceType"] == "Composition").unwrap().clone();
    let mut out = vec![composition];
    out.extend(entries.iter().filter(|e| e["resource"]["resourceType"] != "Composition").cloned());
    json!({"resourceType": "Bundle", "type": "document", "identifier": {"system": "urn:ietf:rfc:3986", "value": identifier},
        "timestamp": "2025-11-01T10:00:00+09:00", "entry": out})
}

#[actix_web::test]
async fn a_discharge_summary_bundle_round_trips() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (org, physician, patient) = world(&t, &app).await;
    let out =
        send(&app, TestRequest::get().uri(&format!("/v1/patients/{patient}/fhir")).insert_header(auth(&physician)))
            .await;
    let bundle = document_bundle(&out.body, "urn:uuid:6f1c1a9e-0000-4000-8000-000000000001");
    let import = |body: Value| {
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/fhir"))
            .insert_header(auth(&physician))
            .insert_header(("content-type", "application/fhir+json"))
            .set_payload(body.to_string())
    };
    let first = send(&app, import(bundle.clone())).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["type"], "discharge-summary");
    assert_eq!(first.body["content"], example("discharge-summary/examples/1.0.0-full.json"), "the same facts back");
    // Idempotent on Bundle.identifier.
    let again = send(&app, import(bundle.clone())).await;
    assert_eq!(again.body["id"], first.body["id"]);
    let mut changed = bundle.clone();
    changed["entry"][0]["resource"]["event"][0]["period"]["start"] = json!("2023-11-01");
    changed["entry"][0]["resource"]["section"].as_array_mut().unwrap().retain(|s| s["title"] != "admission_date");
    assert_eq!(send(&app, import(changed)).await.problem(422)["errors"][0]["pointer"], "Bundle.identifier");
    // And out again: the imported summary's diagnoses as Conditions.
    let after =
        send(&app, TestRequest::get().uri(&format!("/v1/patients/{patient}/fhir")).insert_header(auth(&physician)))
            .await;
    let id = first.body["id"].as_str().unwrap();
    let codes: Vec<&str> = of_type(&after.body, "Condition")
        .into_iter()
        .filter(|c| c["id"].as_str().unwrap().starts_with(id) && c["id"].as_str().unwrap().contains("-dx"))
        .map(|c| c["code"]["coding"][0]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["I50.0", "E11.9", "G30.1"]);

    // What cannot be mapped is located FHIRPath-style.
    let mut bad = bundle.clone();
    bad["identifier"]["value"] = json!("another");
    bad["entry"][0]["resource"]["type"] = json!({"coding": [{"system": "http://loinc.org", "code": "18776-5"}]});
    bad["entry"][0]["resource"]["section"][1]["code"] = json!({"coding": [{"system": "https://carepath.example/fhir/CodeSystem/document-section", "code": "favourite_colour"}]});
    let res = send(&app, import(bad)).await;
    let pointers: Vec<&str> =
        res.problem(422)["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert!(pointers.contains(&"Bundle.entry[0].resource.type"), "{pointers:?}");
    assert!(pointers.contains(&"Bundle.entry[0].resource.section[1]"), "{pointers:?}");
    // (A collection is clinical information now, taken as such: fhir_clins_door.)
    let not_a_document = send(&app, import(json!({"resourceType": "Bundle", "type": "searchset"}))).await;
    let pointers: Vec<&str> = not_a_document.problem(422)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert!(pointers.contains(&"Bundle.type") && pointers.contains(&"Bundle.identifier"), "{pointers:?}");
    // A stranger is refused as for any document write, before any mapping.
    let other = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": "elsewhere", "kind": "hospital"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stranger = t.token("physician", &other);
    let res = send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/fhir"))
            .insert_header(auth(&stranger))
            .set_json(json!({"resourceType": "Bundle"})),
    )
    .await;
    res.problem(404);
    let _ = org;
}

fn import_to(patient: &str, token: &str, body: &Value) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/v1/patients/{patient}/fhir"))
        .insert_header(auth(token))
        .insert_header(("content-type", "application/fhir+json"))
        .set_payload(body.to_string())
}

/// The refusals of `document.create` for a patient: (outcome, status).
fn create_events(t: &TestApp, patient: &str) -> Vec<(String, i32)> {
    use carepath::db::schema::audit_events;
    use diesel::prelude::*;
    let mut conn = t.state.pool.get().unwrap();
    audit_events::table
        .filter(audit_events::action.eq("document.create"))
        .filter(audit_events::patient_id.eq(patient))
        .select((audit_events::outcome, audit_events::status))
        .order(audit_events::seq)
        .load(&mut *conn)
        .unwrap()
}

#[actix_web::test]
async fn a_bundle_about_another_patient_is_refused_naming_what_differs() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (org, physician, patient) = world(&t, &app).await;
    let other = send(
        &app,
        TestRequest::post().uri("/v1/patients").insert_header(auth(&physician)).set_json(json!({
            "name": "佐藤 一郎", "name_kana": "サトウ イチロウ", "birth_date": "1941-02-03", "sex": "male",
            "managing_organization": org
        })),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out =
        send(&app, TestRequest::get().uri(&format!("/v1/patients/{patient}/fhir")).insert_header(auth(&physician)))
            .await;
    let bundle = document_bundle(&out.body, "urn:uuid:6f1c1a9e-0000-4000-8000-0000000000a1");
    // Patient A's summary posted to patient B: before, 201 and filed in B's record.
    let res = send(&app, import_to(&other, &physician, &bundle)).await;
    let errors = res.problem(422)["errors"].as_array().unwrap().clone();
    let at: Vec<String> = errors.iter().map(|e| e["pointer"].as_str().unwrap().to_owned()).collect();
    let i =
        bundle["entry"].as_array().unwrap().iter().position(|e| e["resource"]["resourceType"] == "Patient").unwrap();
    for field in ["name", "birthDate", "gender", "identifier"] {
        assert!(at.contains(&format!("Bundle.entry[{i}].resource.{field}")), "{field} not named: {at:?}");
    }
    assert_eq!(create_events(&t, &other), [("rejected".to_owned(), 422)], "the refusal is audited");
    let docs =
        send(&app, TestRequest::get().uri(&format!("/v1/patients/{other}/documents")).insert_header(auth(&physician)))
            .await;
    assert_eq!(docs.body["items"].as_array().map(Vec::len), Some(0), "nothing filed under B: {}", docs.body);

    // Only the birth date wrong: named alone.
    let mut wrong_day = bundle.clone();
    wrong_day["entry"][i]["resource"]["birthDate"] = json!("1939-04-02");
    let res = send(&app, import_to(&patient, &physician, &wrong_day)).await;
    assert_eq!(
        res.problem(422)["errors"],
        json!([{"pointer": format!("Bundle.entry[{i}].resource.birthDate"),
        "message": "the birth date differs from the patient's record"}])
    );
    // No patient named at all: refused, not filed under whoever the URL names.
    let mut nameless = bundle.clone();
    nameless["entry"][0]["resource"].as_object_mut().unwrap().remove("subject");
    let res = send(&app, import_to(&patient, &physician, &nameless)).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "Bundle.entry[0].resource.subject");
    // Names compare without their spaces; the right patient is filed.
    let mut spaced = bundle.clone();
    spaced["entry"][i]["resource"]["name"][0]["text"] = json!("山田　花子");
    let res = send(&app, import_to(&patient, &physician, &spaced)).await;
    assert_eq!(res.status, 201, "{}", res.body);
}

#[actix_web::test]
async fn a_hostile_bundle_is_capped_before_any_mapping() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (org, physician, patient) = world(&t, &app).await;
    let out =
        send(&app, TestRequest::get().uri(&format!("/v1/patients/{patient}/fhir")).insert_header(auth(&physician)))
            .await;
    let bundle = document_bundle(&out.body, "urn:uuid:6f1c1a9e-0000-4000-8000-0000000000b1");
    // 4,000 entries (the review's outage): a 422 naming the entries, at once.
    let mut big = bundle.clone();
    let filler = json!({"fullUrl": "urn:uuid:x", "resource": {"resourceType": "Basic", "id": "x"}});
    big["entry"].as_array_mut().unwrap().extend(std::iter::repeat_n(filler, 4000));
    let res = send(&app, import_to(&patient, &physician, &big)).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "Bundle.entry");
    // 2,500 references from one section: capped too.
    let mut refs = bundle.clone();
    let many: Vec<Value> = (0..2500).map(|_| json!({"reference": "Condition/none"})).collect();
    refs["entry"][0]["resource"]["section"][0]["entry"] = json!(many);
    let res = send(&app, import_to(&patient, &physician, &refs)).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "Bundle.entry[0].resource.section");
    // Unresolvable references stop at the error cap rather than listing thousands.
    let mut unresolved = bundle.clone();
    let some: Vec<Value> = (0..1500).map(|k| json!({"reference": format!("Condition/none-{k}")})).collect();
    let dx = unresolved["entry"][0]["resource"]["section"]
        .as_array()
        .unwrap()
        .iter()
        .position(|s| s["title"] == "diagnoses" || s["code"]["coding"][0]["code"] == "diagnoses")
        .unwrap();
    unresolved["entry"][0]["resource"]["section"][dx]["entry"] = json!(some);
    let res = send(&app, import_to(&patient, &physician, &unresolved)).await;
    let n = res.problem(422)["errors"].as_array().unwrap().len();
    assert!(n <= 51, "{n} errors");
    // A stranger's hostile Bundle is a 404 like any other of theirs.
    let other = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": "elsewhere", "kind": "clinic"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stranger = t.token("physician", &other);
    send(&app, import_to(&patient, &stranger, &big)).await.problem(404);
    let _ = org;
}
