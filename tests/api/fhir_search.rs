//! The FHIR server's searches of one patient (paging, filters, `_summary`, `_elements`,
//! strict handling), `Patient/$everything`, and Bulk Data at system, patient and group level as
//! the IG v2.0.0 has it (issue 32), through the HTTP stack on either backend.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::test::{TestRequest, init_service};
use common::fhir_world::{get, manifest, of_type, path, post, world};
use common::{TestApp, auth, send};
use serde_json::{Value, json};

#[actix_web::test]
async fn searches_are_of_one_patient_paged_and_filtered() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let bundle = get(&app, &w.physician, &format!("/v1/patients/{}/fhir", w.patient)).await;
    let all = of_type(&bundle.body, "Condition").len();
    assert!(all >= 3, "{all}");
    let uri = format!("/v1/fhir/Condition?patient={}", w.patient);
    let res = get(&app, &w.physician, &uri).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!((res.body["type"].as_str(), res.body["total"].as_u64()), (Some("searchset"), Some(all as u64)));
    assert!(res.body["entry"].as_array().unwrap().iter().all(|e| e["search"]["mode"] == "match"));

    // Pages of two, followed by their next links, hold every match once.
    let mut next = Some(format!("{uri}&_count=2"));
    let mut seen = Vec::new();
    while let Some(url) = next {
        let page = get(&app, &w.physician, path(&url)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body["entry"].as_array().unwrap().len() <= 2);
        seen.extend(of_type(&page.body, "Condition").iter().map(|c| crate::common::id(c)));
        let links = page.body["link"].as_array().unwrap();
        assert!(links.iter().any(|l| l["relation"] == "self"));
        next = links.iter().find(|l| l["relation"] == "next").map(|l| l["url"].as_str().unwrap().to_owned());
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (all, all));

    let problems = get(&app, &w.physician, &format!("{uri}&category=problem-list-item")).await;
    let n = problems.body["total"].as_u64().unwrap() as usize;
    assert!(n > 0 && n < all, "{n} of {all}");
    let coded = get(
        &app,
        &w.physician,
        &format!("{uri}&code=http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full|G30.1"),
    )
    .await;
    let g30 = of_type(&bundle.body, "Condition").iter().filter(|c| c["code"]["coding"][0]["code"] == "G30.1").count();
    assert!(g30 > 0, "the world has a G30.1 diagnosis");
    assert_eq!(coded.body["total"].as_u64(), Some(g30 as u64), "{}", coded.body);
    // HL7's name for ICD-10, which carepath wrote before JP-CLINS, still finds them.
    let older = get(&app, &w.physician, &format!("{uri}&code=http://hl7.org/fhir/sid/icd-10|G30.1")).await;
    assert_eq!(older.body["total"].as_u64(), Some(g30 as u64), "{}", older.body);
    let other = get(&app, &w.physician, &format!("{uri}&code=http://snomed.info/sct|G30.1")).await;
    assert_eq!(other.body["total"].as_u64(), Some(0), "{}", other.body);
    let count = get(&app, &w.physician, &format!("{uri}&_summary=count")).await;
    assert_eq!((count.body["total"].as_u64(), count.body.get("entry")), (Some(all as u64), None));
    let cut = get(&app, &w.physician, &format!("{uri}&_elements=code&_count=1")).await;
    let first = &cut.body["entry"][0]["resource"];
    assert!(first.get("subject").is_none() && first.get("code").is_some(), "{first}");
    assert_eq!(first["meta"]["tag"][0]["code"], "SUBSETTED");
    let future = get(&app, &w.physician, &format!("{uri}&_lastUpdated=gt2999-01-01")).await;
    assert_eq!(future.body["total"], 0);
    let past = get(&app, &w.physician, &format!("{uri}&_lastUpdated=ge2000&_sort=-_lastUpdated")).await;
    assert_eq!(past.body["total"].as_u64(), Some(all as u64));
    // Unknown parameters: ignored, or refused when asked to be strict.
    let lenient = get(&app, &w.physician, &format!("{uri}&colour=blue")).await;
    assert_eq!(lenient.body["total"].as_u64(), Some(all as u64));
    let strict = TestRequest::get().uri(&format!("{uri}&colour=blue")).insert_header(auth(&w.physician));
    let strict = send(&app, strict.insert_header(("prefer", "handling=strict"))).await;
    assert_eq!(strict.outcome(400)["expression"][0], "colour");

    // Every searched type answers from the same record; what the consent does not share is absent.
    for kind in ["AllergyIntolerance", "MedicationStatement", "CarePlan", "CareTeam", "Consent", "Composition"] {
        let q = format!("/v1/fhir/{kind}?patient=Patient/{}", w.patient);
        let res = get(&app, &w.physician, &q).await;
        assert_eq!(res.body["total"].as_u64(), Some(of_type(&bundle.body, kind).len() as u64), "{kind}");
    }
    let loinc = get(
        &app,
        &w.physician,
        &format!("/v1/fhir/DocumentReference?patient={}&type=http://loinc.org|18842-5", w.patient),
    )
    .await;
    assert_eq!(loinc.body["total"], 1, "{}", loinc.body);
    let nurse = get(&app, &w.nurse, &format!("/v1/fhir/DocumentReference?patient={}", w.patient)).await;
    assert_eq!(nurse.body["total"], 0);
    // A stranger finds nothing, as for a patient that does not exist; the refusal is audited.
    let stranger = get(&app, &w.stranger, &uri).await;
    assert_eq!((stranger.status.as_u16(), stranger.body["total"].as_u64()), (200, Some(0)));

    // Patients by identifier: the 介護保険 insured number (blind index) or our id.
    for q in [
        "identifier=https://carepath.example/fhir/sid/ltc-insured-number|9876543210".to_owned(),
        "identifier=9876543210".to_owned(),
        format!("identifier=https://carepath.example/fhir/sid/patient|{}", w.patient),
        format!("_id={}", w.patient),
    ] {
        let res = get(&app, &w.physician, &format!("/v1/fhir/Patient?{q}")).await;
        assert_eq!(res.body["total"], 1, "{q}: {}", res.body);
        assert_eq!(res.body["entry"][0]["resource"]["id"], w.patient.as_str());
        assert_eq!(get(&app, &w.stranger, &format!("/v1/fhir/Patient?{q}")).await.body["total"], 0, "{q}");
    }
    let other = get(&app, &w.physician, "/v1/fhir/Patient?identifier=urn:oid:1.2.3|42").await;
    assert_eq!(
        (other.body["total"].as_u64(), other.body["entry"][0]["search"]["mode"].as_str()),
        (Some(0), Some("outcome"))
    );
    let groups = get(&app, &w.nurse, "/v1/fhir/Group").await;
    let ids: Vec<&str> =
        groups.body["entry"].as_array().unwrap().iter().map(|e| e["resource"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [format!("managed-{}", w.station), format!("team-{}", w.station)]);
}

#[actix_web::test]
async fn everything_takes_since_and_type() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let bundle = get(&app, &w.physician, &format!("/v1/patients/{}/fhir", w.patient)).await;
    let uri = format!("/v1/fhir/Patient/{}/$everything", w.patient);
    let all = get(&app, &w.physician, &format!("{uri}?_count=200")).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["type"], "searchset");
    assert_eq!(all.body["total"].as_u64(), Some(bundle.body["entry"].as_array().unwrap().len() as u64));
    let typed = get(&app, &w.physician, &format!("{uri}?_type=Patient,CarePlan")).await;
    assert_eq!(typed.body["total"], 2, "{}", typed.body);
    let later = get(&app, &w.physician, &format!("{uri}?_since=2999-01-01T00:00:00Z")).await;
    assert_eq!(of_type(&later.body, "Condition").len(), 0);
    assert_eq!(of_type(&later.body, "Patient").len(), 1, "the patient is always there");
    get(&app, &w.physician, &format!("{uri}?_type=Encounter")).await.outcome(400);
    get(&app, &w.physician, &format!("{uri}?_since=yesterday")).await.outcome(400);
    get(&app, &w.stranger, &uri).await.outcome(404);
}

#[actix_web::test]
async fn bulk_data_kicks_off_at_three_levels_as_the_guide_says() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    // A second patient of the clinic, erased: a group holds it, the export leaves it out.
    let second = post(
        &app,
        &w.physician,
        "/v1/patients",
        json!({
            "name": "佐藤 一郎", "birth_date": "1940-01-01", "sex": "male", "managing_organization": w.clinic
        }),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = t.token("admin", &w.clinic);
    let erase = TestRequest::delete().uri(&format!("/v1/patients/{second}")).insert_header(auth(&admin));
    let res = send(&app, erase.set_json(json!({"reason": "the patient's request"}))).await;
    assert!(res.status.is_success(), "{}", res.body);

    let kick = |uri: &str, token: &str| {
        TestRequest::get()
            .uri(uri)
            .insert_header(auth(token))
            .insert_header(("accept", "application/fhir+json"))
            .insert_header(("prefer", "respond-async"))
    };
    for (uri, token) in [
        ("/v1/fhir/$export".to_owned(), &w.physician),
        ("/v1/fhir/Patient/$export?_type=Patient,Condition".to_owned(), &w.physician),
        (format!("/v1/fhir/Group/managed-{}/$export", w.clinic), &w.physician),
        (format!("/v1/fhir/Group/team-{}/$export?_type=Patient,CarePlan", w.station), &w.nurse),
    ] {
        let res = send(&app, kick(&uri, token)).await;
        assert_eq!(res.status, 202, "{uri}: {}", res.body);
        let location = res.header("content-location").unwrap().to_owned();
        assert!(location.starts_with("http://") && location.contains("/v1/fhir/export-jobs/"), "{location}");
        let m = manifest(&app, token, &location).await;
        assert_eq!(m["requiresAccessToken"], true);
        assert!(m["request"].as_str().unwrap().ends_with(&uri), "{m}");
        let patients = m["output"].as_array().unwrap().iter().find(|o| o["type"] == "Patient").unwrap();
        let file = get(&app, token, path(patients["url"].as_str().unwrap())).await;
        let lines: Vec<Value> =
            String::from_utf8(file.raw).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.iter().map(|l| l["id"].as_str().unwrap()).collect::<Vec<_>>(), [w.patient.as_str()], "{uri}");
        if uri.contains("_type") {
            assert_eq!(m["output"].as_array().unwrap().len(), 2, "{uri}: {m}");
        }
        let errors = m["error"].as_array().unwrap();
        if uri.contains("team-") {
            assert!(errors.is_empty(), "{uri}: {m}");
        } else {
            // The erased patient is counted in the error file, never named.
            let url = errors[0]["url"].as_str().unwrap();
            let file = get(&app, token, path(url)).await;
            let outcome: Value = serde_json::from_slice(file.raw.split(|b| *b == b'\n').next().unwrap()).unwrap();
            assert_eq!(outcome["resourceType"], "OperationOutcome");
            assert!(outcome["issue"][0]["diagnostics"].as_str().unwrap().starts_with("1 patients"), "{outcome}");
            assert!(!String::from_utf8_lossy(&file.raw).contains(&second));
        }
        assert_eq!(send(&app, TestRequest::delete().uri(path(&location)).insert_header(auth(token))).await.status, 202);
    }

    // POST with a Parameters body, as the guide has it.
    let body = json!({"resourceType": "Parameters", "parameter": [{"name": "_type", "valueString": "Consent"}]});
    let res = send(
        &app,
        TestRequest::post()
            .uri("/v1/fhir/Patient/$export")
            .insert_header(auth(&w.physician))
            .insert_header(("prefer", "respond-async"))
            .set_json(body),
    )
    .await;
    assert_eq!(res.status, 202, "{}", res.body);
    let m = manifest(&app, &w.physician, res.header("content-location").unwrap()).await;
    assert_eq!(
        m["output"].as_array().unwrap().iter().map(|o| o["type"].as_str().unwrap()).collect::<Vec<_>>(),
        ["Consent"]
    );

    // _typeFilter is not supported: refused, or ignored under Prefer: handling=lenient.
    let uri = "/v1/fhir/$export?_typeFilter=Condition%3Fcategory%3Dproblem-list-item";
    assert_eq!(send(&app, kick(uri, &w.physician)).await.outcome(400)["expression"][0], "_typeFilter");
    let lenient = send(&app, kick(uri, &w.physician).insert_header(("prefer", "handling=lenient"))).await;
    assert_eq!(lenient.status, 202, "{}", lenient.body);
    manifest(&app, &w.physician, lenient.header("content-location").unwrap()).await;

    // Another organisation's group is no group of the caller's.
    send(&app, kick(&format!("/v1/fhir/Group/managed-{}/$export", w.clinic), &w.nurse)).await.outcome(404);
    get(&app, &w.nurse, &format!("/v1/fhir/Group/managed-{}", w.clinic)).await.outcome(404);
    assert_eq!(get(&app, &w.nurse, &format!("/v1/fhir/Group/team-{}", w.station)).await.body["type"], "person");
}

#[actix_web::test]
async fn a_group_export_gives_its_pooled_connection_back_between_chunks() {
    // One pooled connection and one patient a chunk: an export that held its connection for its
    // whole run would starve every other read until it ended.
    let t = TestApp::with(|s| {
        s.db_pool_size = 1;
        s.exports.chunk_patients = 1;
    });
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let op = t.operator();
    let clinic = post(&app, &op, "/v1/organizations", json!({"name": "clinic", "kind": "clinic"})).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let physician = t.token("physician", &clinic);
    let mut patients = Vec::new();
    for i in 0..120 {
        let body = json!({"name": format!("患者 {i}"), "birth_date": "1940-01-01", "sex": "female", "managing_organization": clinic});
        patients.push(post(&app, &physician, "/v1/patients", body).await.id());
    }
    let kick = get(&app, &physician, &format!("/v1/fhir/Group/managed-{clinic}/$export?_type=Patient")).await;
    assert_eq!(kick.status, 202, "{}", kick.body);
    let location = kick.header("content-location").unwrap().to_owned();
    let mut reads_while_running = 0;
    loop {
        let read = get(&app, &physician, &format!("/v1/patients/{}", patients[reads_while_running % 120])).await;
        assert_eq!(read.status, 200, "{}", read.body);
        let status = get(&app, &physician, path(&location)).await;
        match status.status.as_u16() {
            202 => reads_while_running += 1,
            200 => {
                assert_eq!(status.body["output"][0]["count"], 120);
                break;
            }
            other => panic!("{other}: {}", status.body),
        }
    }
    assert!(reads_while_running > 0, "the export ended before any read could be made beside it");
}
