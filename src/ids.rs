//! Typed ids. A patient id and a document id are both strings in the database and on the wire,
//! but never interchangeable: a function that takes a `PatientId` cannot be handed a document's.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh random id (UUID v4), for a record being created.
            pub fn new_random() -> Self {
                Self(uuid::Uuid::new_v4().to_string())
            }

            /// The id as stored and sent.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as an owned string, for a database row.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A patient (the record's subject).
    PatientId
);
id_type!(
    /// A document (all of its versions).
    DocumentId
);
id_type!(
    /// An organisation of the directory.
    OrganizationId
);
id_type!(
    /// A practitioner of the directory.
    PractitionerId
);
