//! One way to build a test's world: organisations, practitioners, a patient with a care team,
//! consents and documents, each made through the API as a client makes them, so a test starts
//! from state the real stack accepted.
//!
//! ```ignore
//! let w = World::new(&t, &app)
//!     .org("clinic", "clinic")
//!     .org("station", "visiting_nurse_station")
//!     .patient(hanako())
//!     .member("station", "nurse", "2025-04-01")
//!     .document("care-path", "1.0.0", content)
//!     .build()
//!     .await;
//! let station = w.org("station");
//! ```
//!
//! Organisations and practitioners are named by a key of the test's choosing; wherever a body
//! the builder sends names an organisation (a patient's `managing_organization`, a consent's
//! `organizations`), a key is replaced by the id it was given.

use std::collections::HashMap;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use serde_json::{Value, json};

use super::{TestApp, call};

/// The standard patient: 山田 花子, managed by the world's first organisation unless the body
/// says otherwise.
pub fn hanako() -> Value {
    json!({"name": "山田 花子", "birth_date": "1939-04-01", "sex": "female"})
}

/// What was built: every id by the key it was asked for, and the token that built it.
#[derive(Debug, Clone)]
pub struct World {
    orgs: HashMap<String, String>,
    practitioners: HashMap<String, String>,
    /// The patient's id (empty when the world has none).
    pub patient: String,
    /// The documents' ids, in the order they were asked for.
    pub documents: Vec<String>,
    /// The consents' ids, in the order they were asked for.
    pub consents: Vec<String>,
    /// The token that made the patient and its record: a physician of the managing organisation
    /// unless [`Builder::author`] named another.
    pub author: String,
}

impl World {
    /// A builder for a world in `t`, made through `app`.
    #[expect(clippy::new_ret_no_self, reason = "World::new(..)...build() reads as what it makes")]
    pub fn new<'a, S>(t: &'a TestApp, app: &'a S) -> Builder<'a, S> {
        Builder {
            t,
            app,
            orgs: Vec::new(),
            practitioners: Vec::new(),
            patient: None,
            author: None,
            members: Vec::new(),
            consents: Vec::new(),
            documents: Vec::new(),
        }
    }

    /// The id of the organisation made under `key`.
    pub fn org(&self, key: &str) -> String {
        match self.orgs.get(key) {
            Some(id) => id.clone(),
            None => panic!("no organisation {key:?} in this world"),
        }
    }

    /// The directory id of the practitioner made under `key`.
    pub fn practitioner(&self, key: &str) -> String {
        match self.practitioners.get(key) {
            Some(id) => id.clone(),
            None => panic!("no practitioner {key:?} in this world"),
        }
    }

    /// The first (and often only) document's id.
    pub fn document(&self) -> String {
        self.documents.first().cloned().expect("a world with a document")
    }
}

/// A world being described; nothing is sent until [`Builder::build`].
pub struct Builder<'a, S> {
    t: &'a TestApp,
    app: &'a S,
    orgs: Vec<(String, Value)>,
    practitioners: Vec<(String, Value)>,
    patient: Option<Value>,
    author: Option<String>,
    members: Vec<Value>,
    consents: Vec<Value>,
    documents: Vec<Value>,
}

impl<S, B> Builder<'_, S>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    /// An organisation named `key` of this kind, made by the operator.
    pub fn org(mut self, key: &str, kind: &str) -> Self {
        self.orgs.push((key.to_owned(), json!({"name": key, "kind": kind})));
        self
    }

    /// A practitioner in the directory under `key`, of `profession` at the organisation `org`.
    pub fn practitioner(mut self, key: &str, name: &str, profession: &str, org: &str) -> Self {
        let body = json!({"name": name, "profession": profession, "organization": org});
        self.practitioners.push((key.to_owned(), body));
        self
    }

    /// The patient (see [`hanako`]); `managing_organization` may be a key, and defaults to the
    /// first organisation.
    pub fn patient(mut self, body: Value) -> Self {
        self.patient = Some(body);
        self
    }

    /// The token that makes the patient and its record, instead of a physician of the managing
    /// organisation.
    pub fn author(mut self, token: String) -> Self {
        self.author = Some(token);
        self
    }

    /// A care-team member: an organisation (by key) in a role since a day.
    pub fn member(mut self, org: &str, role: &str, since: &str) -> Self {
        self.members.push(json!({"organization": org, "role": role, "since": since}));
        self
    }

    /// A care-team member named as a practitioner of the directory (by key).
    pub fn member_as(mut self, org: &str, practitioner: &str, role: &str, since: &str) -> Self {
        let member = json!({"organization": org, "practitioner": practitioner, "role": role, "since": since});
        self.members.push(member);
        self
    }

    /// A consent of the patient's, as the API takes it; keys in `organizations` become ids.
    pub fn consent(mut self, body: Value) -> Self {
        self.consents.push(body);
        self
    }

    /// A document of the patient's record.
    pub fn document(mut self, kind: &str, schema_version: &str, content: Value) -> Self {
        self.documents.push(json!({"type": kind, "schema_version": schema_version, "content": content}));
        self
    }

    /// Makes it all, asserting that every request was accepted.
    pub async fn build(self) -> World {
        let Builder { t, app, .. } = self;
        let operator = t.operator();
        let mut orgs = HashMap::new();
        let mut first = None;
        for (key, body) in self.orgs {
            let res = call(app, "POST", "/v1/organizations", &operator, Some(body)).await;
            assert_eq!(res.status, 201, "organisation {key}: {}", res.body);
            if first.is_none() {
                first = Some(res.id());
            }
            orgs.insert(key, res.id());
        }
        let org_id = |key: &Value| match key.as_str().and_then(|k| orgs.get(k)) {
            Some(id) => json!(id),
            None => key.clone(),
        };
        let mut practitioners = HashMap::new();
        for (key, mut body) in self.practitioners {
            body["organization"] = org_id(&body["organization"]);
            let res = call(app, "POST", "/v1/practitioners", &operator, Some(body)).await;
            assert_eq!(res.status, 201, "practitioner {key}: {}", res.body);
            practitioners.insert(key, res.id());
        }
        let mut world = World {
            patient: String::new(),
            documents: Vec::new(),
            consents: Vec::new(),
            author: self.author.unwrap_or_default(),
            orgs: HashMap::new(),
            practitioners: HashMap::new(),
        };
        if let Some(mut patient) = self.patient {
            let managing = match &patient["managing_organization"] {
                Value::Null => json!(first.clone().expect("an organisation to manage the patient")),
                key => org_id(key),
            };
            if world.author.is_empty() {
                world.author = t.token("physician", managing.as_str().unwrap_or_default());
            }
            patient["managing_organization"] = managing;
            let res = call(app, "POST", "/v1/patients", &world.author, Some(patient)).await;
            assert_eq!(res.status, 201, "patient: {}", res.body);
            world.patient = res.id();
            let record = format!("/v1/patients/{}", world.patient);
            if !self.members.is_empty() {
                let members: Vec<Value> = self
                    .members
                    .into_iter()
                    .map(|mut m| {
                        m["organization"] = org_id(&m["organization"]);
                        if let Some(id) = m["practitioner"].as_str().and_then(|k| practitioners.get(k)) {
                            m["practitioner"] = json!(id);
                        }
                        m
                    })
                    .collect();
                let team = json!({"members": members});
                let res = call(app, "PUT", &format!("{record}/care-team"), &world.author, Some(team)).await;
                assert_eq!(res.status, 200, "care team: {}", res.body);
            }
            for body in self.documents {
                let res = call(app, "POST", &format!("{record}/documents"), &world.author, Some(body)).await;
                assert_eq!(res.status, 201, "document: {}", res.body);
                world.documents.push(res.id());
            }
            for mut body in self.consents {
                let named: Option<Value> =
                    body["organizations"].as_array().map(|keys| keys.iter().map(org_id).collect());
                if let Some(ids) = named {
                    body["organizations"] = ids;
                }
                let res = call(app, "POST", &format!("{record}/consents"), &world.author, Some(body)).await;
                assert_eq!(res.status, 201, "consent: {}", res.body);
                world.consents.push(res.id());
            }
        }
        world.orgs = orgs;
        world.practitioners = practitioners;
        world
    }
}
