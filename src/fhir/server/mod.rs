//! The FHIR server under `/v1/fhir`: one table of what it serves (resource types, interactions,
//! search parameters, operations), from which both the routes (`api::fhir::server::routes`) and
//! the CapabilityStatement ([`capability`]) are made, so the two cannot say different things.
//!
//! Every answer is built from a domain read of one patient's record ([`crate::fhir::gather`]):
//! the same access rule, consent decisions, withheld fields and per-patient audit event as
//! `GET /v1/patients/{id}/fhir`. Nothing here reads a table the domain would not.

pub mod capability;
pub mod everything;
pub mod groups;
pub mod outcome;
pub mod params;
pub mod read;
pub mod search;
pub mod stamp;

/// How a search parameter is matched (FHIR's search parameter types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Token,
    Reference,
    Date,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Reference => "reference",
            Self::Date => "date",
        }
    }
}

/// One search parameter of a resource type.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    /// The element a token is matched against (a string code, a CodeableConcept, or a list
    /// of either); unused for references and dates, which have one meaning each.
    pub path: &'static str,
    pub doc: &'static str,
}

/// One resource type the server serves.
#[derive(Debug)]
pub struct Type {
    pub name: &'static str,
    /// The profile its resources claim, when they claim one (JP Core).
    pub profile: Option<&'static str>,
    /// `vread` (`_history/{vid}`): the resource is versioned by the document it comes from.
    pub vread: bool,
    /// Search parameters; empty: no search of this type.
    pub search: &'static [Param],
    /// `_sort` keys this type's search takes (each also as `-key`).
    pub sorts: &'static [&'static str],
}

impl Type {
    pub fn searchable(&self) -> bool {
        !self.search.is_empty()
    }

    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.search.iter().find(|p| p.name == name)
    }
}

const PATIENT: Param = Param {
    name: "patient",
    kind: Kind::Reference,
    path: "subject",
    doc: "The patient (`Patient/{id}` or `{id}`); required: one patient a search",
};
const LAST_UPDATED: Param = Param {
    name: "_lastUpdated",
    kind: Kind::Date,
    path: "meta.lastUpdated",
    doc: "When the source document last changed (ge, gt, le, lt, eq prefixes)",
};
const ID: Param = Param { name: "_id", kind: Kind::Token, path: "id", doc: "The resource id" };
const DOC_TYPE: Param = Param {
    name: "type",
    kind: Kind::Token,
    path: "type",
    doc: "The document type: a LOINC code or ours (`[system|]code`)",
};

/// Every resource type served, in CapabilityStatement order.
pub const TYPES: &[Type] = &[
    Type {
        name: "Patient",
        profile: Some("JP_Patient"),
        vread: false,
        search: &[
            ID,
            Param {
                name: "identifier",
                kind: Kind::Token,
                path: "identifier",
                doc: "`https://carepath.example/fhir/sid/ltc-insured-number|{10 digits}` (the 介護保険 insured number, through its blind index) or `https://carepath.example/fhir/sid/patient|{id}`; a bare value is an insured number",
            },
        ],
        sorts: &[],
    },
    Type { name: "Organization", profile: Some("JP_Organization"), vread: false, search: &[], sorts: &[] },
    Type { name: "Practitioner", profile: Some("JP_Practitioner"), vread: false, search: &[], sorts: &[] },
    Type { name: "PractitionerRole", profile: Some("JP_PractitionerRole"), vread: false, search: &[], sorts: &[] },
    Type { name: "CareTeam", profile: None, vread: false, search: &[PATIENT, ID], sorts: &[] },
    Type {
        name: "Consent",
        profile: None,
        vread: false,
        search: &[
            PATIENT,
            ID,
            Param { name: "status", kind: Kind::Token, path: "status", doc: "`active` or `inactive` (revoked)" },
        ],
        sorts: &[],
    },
    Type {
        name: "CarePlan",
        profile: None,
        vread: true,
        search: &[
            PATIENT,
            ID,
            LAST_UPDATED,
            Param {
                name: "status",
                kind: Kind::Token,
                path: "status",
                doc: "`active` (the current care path) or `completed`",
            },
        ],
        sorts: &["_lastUpdated"],
    },
    Type {
        name: "Composition",
        profile: None,
        vread: true,
        search: &[PATIENT, ID, LAST_UPDATED, DOC_TYPE],
        sorts: &["_lastUpdated"],
    },
    Type {
        name: "DocumentReference",
        profile: None,
        vread: true,
        search: &[PATIENT, ID, LAST_UPDATED, DOC_TYPE],
        sorts: &["_lastUpdated"],
    },
    Type {
        name: "Condition",
        profile: Some("JP_Condition"),
        vread: true,
        search: &[
            PATIENT,
            ID,
            LAST_UPDATED,
            Param {
                name: "category",
                kind: Kind::Token,
                path: "category",
                doc: "`problem-list-item` or `encounter-diagnosis`",
            },
            Param { name: "clinical-status", kind: Kind::Token, path: "clinicalStatus", doc: "`active` or `resolved`" },
            Param {
                name: "code",
                kind: Kind::Token,
                path: "code",
                doc: "An ICD-10 or MEDIS 病名管理番号 (`[system|]code`)",
            },
        ],
        sorts: &["_lastUpdated"],
    },
    Type {
        name: "MedicationStatement",
        profile: Some("JP_MedicationStatement"),
        vread: true,
        search: &[
            PATIENT,
            ID,
            LAST_UPDATED,
            Param { name: "status", kind: Kind::Token, path: "status", doc: "`active`" },
            Param {
                name: "code",
                kind: Kind::Token,
                path: "medicationCodeableConcept",
                doc: "A YJ code (`[system|]code`)",
            },
        ],
        sorts: &["_lastUpdated"],
    },
    Type {
        name: "MedicationRequest",
        profile: Some("JP_MedicationRequest"),
        vread: true,
        search: &[
            PATIENT,
            ID,
            LAST_UPDATED,
            Param { name: "status", kind: Kind::Token, path: "status", doc: "`active`, `completed`, … as sent" },
            Param {
                name: "code",
                kind: Kind::Token,
                path: "medicationCodeableConcept",
                doc: "A YJ or HOT code (`[system|]code`)",
            },
        ],
        sorts: &["_lastUpdated"],
    },
    Type {
        name: "Observation",
        profile: Some("JP_Observation_Common"),
        vread: true,
        search: &[
            PATIENT,
            ID,
            LAST_UPDATED,
            Param { name: "category", kind: Kind::Token, path: "category", doc: "`laboratory`, `exam`, …" },
            Param { name: "code", kind: Kind::Token, path: "code", doc: "A JLAC (or any) code (`[system|]code`)" },
        ],
        sorts: &["_lastUpdated"],
    },
    Type {
        name: "AllergyIntolerance",
        profile: Some("JP_AllergyIntolerance"),
        vread: true,
        search: &[
            PATIENT,
            ID,
            LAST_UPDATED,
            Param { name: "clinical-status", kind: Kind::Token, path: "clinicalStatus", doc: "`active`" },
            Param {
                name: "category",
                kind: Kind::Token,
                path: "category",
                doc: "`medication`, `food` or `environment`",
            },
        ],
        sorts: &["_lastUpdated"],
    },
    Type { name: "Group", profile: None, vread: false, search: &[ID], sorts: &[] },
];

/// A type a client may post to (the `create` interaction, `POST /v1/fhir/{name}`).
#[derive(Debug)]
pub struct Create {
    pub name: &'static str,
    /// What a post of it does, for the CapabilityStatement.
    pub doc: &'static str,
}

/// Every type that takes a post. A Bundle is not kept as a Bundle resource: it is imported as
/// the carepath document it is (`fhir::door`), so it has no read or search.
pub const CREATES: &[Create] = &[Create {
    name: "Bundle",
    doc: "Import a JP-CLINS document Bundle (eReferral 57133-1, eDischargeSummary 18842-5, ePCS 56447-6) or a \
          collection of clinical information, its patient found by the Patient's health-insurance card \
          (JP_Insurance_memberID) with the name in kana and the birth date; idempotent on Bundle.identifier. \
          Any patient not found, not matching or not open to the caller is the same 422",
}];

/// The type of this name, when served.
pub fn type_named(name: &str) -> Option<&'static Type> {
    TYPES.iter().find(|t| t.name == name)
}

/// Where an operation is invoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `/v1/fhir/$name`
    System,
    /// `/v1/fhir/{Type}/$name`
    Type(&'static str),
    /// `/v1/fhir/{Type}/{id}/$name`
    Instance(&'static str),
}

/// One operation.
#[derive(Debug)]
pub struct Operation {
    pub name: &'static str,
    pub level: Level,
    /// Its definition (the OperationDefinition's canonical URL).
    pub definition: &'static str,
    /// Whether `POST` kicks it off as well as `GET`.
    pub post: bool,
}

impl Operation {
    /// The route, relative to `/v1/fhir`.
    pub fn path(&self) -> String {
        match self.level {
            Level::System => format!("/${}", self.name),
            Level::Type(t) => format!("/{t}/${}", self.name),
            Level::Instance(t) => format!("/{t}/{{id}}/${}", self.name),
        }
    }
}

const BULK_EXPORT: &str = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export";

/// Every operation served.
pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "everything",
        level: Level::Instance("Patient"),
        definition: "http://hl7.org/fhir/OperationDefinition/Patient-everything",
        post: false,
    },
    Operation {
        name: "document",
        level: Level::Instance("Composition"),
        definition: "http://hl7.org/fhir/OperationDefinition/Composition-document",
        post: false,
    },
    Operation { name: "export", level: Level::System, definition: BULK_EXPORT, post: true },
    Operation {
        name: "export",
        level: Level::Type("Patient"),
        definition: "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
        post: true,
    },
    Operation {
        name: "export",
        level: Level::Instance("Group"),
        definition: "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
        post: true,
    },
];

/// A search answers at most this many entries a page (`_count` above it is lowered to it).
pub const MAX_COUNT: usize = 200;
/// A search's page size when `_count` is not given.
pub const DEFAULT_COUNT: usize = 50;
