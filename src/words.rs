//! Coded words: enums whose serde name, stored word and `FromStr` agree, declared once with
//! [`words!`]. A leaf (it imports nothing of the crate) so that any floor may declare its words
//! with it: the domain's coded values and auth's `Role` alike.

/// A word (stored, or sent in a query) that names no value of a coded enum. Stored words come
/// from `as_str`, so meeting one is a fault of the database, not of the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{word}'")]
pub struct UnknownWord {
    /// What the word should have named, e.g. `care level`.
    pub kind: &'static str,
    /// The word as met.
    pub word: String,
}

/// Finds the value of `all` whose word is `word`: the shared body of the coded enums' `FromStr`.
pub fn from_word<T: Copy>(
    all: &[T],
    as_str: impl Fn(T) -> &'static str,
    kind: &'static str,
    word: &str,
) -> Result<T, UnknownWord> {
    all.iter().copied().find(|v| as_str(*v) == word).ok_or_else(|| UnknownWord { kind, word: word.to_owned() })
}

/// A coded value: an enum whose serde name, stored word (`as_str`) and `FromStr` agree, with
/// `ALL` in declaration order. Every coded enum of the domain is declared with it.
macro_rules! words {
    (@enum $(#[$meta:meta])* $name:ident, [$($(#[$vmeta:meta])* $variant:ident = $word:literal),+]) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, ::serde::Serialize, ::serde::Deserialize, ::utoipa::ToSchema, PartialEq, Eq, Hash)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored word; identical to the serde name (a test keeps them equal).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }
        }
    };
    // A coded enum whose `FromStr` is its own (a refusal that lists the words, say).
    ($(#[$meta:meta])* $name:ident, own from_str, [$($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)?]) => {
        $crate::words::words!(@enum $(#[$meta])* $name, [$($(#[$vmeta])* $variant = $word),+]);
    };
    ($(#[$meta:meta])* $name:ident, $kind:literal, [$($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)?]) => {
        $crate::words::words!(@enum $(#[$meta])* $name, [$($(#[$vmeta])* $variant = $word),+]);

        impl ::std::str::FromStr for $name {
            type Err = $crate::words::UnknownWord;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::words::from_word(Self::ALL, Self::as_str, $kind, s)
            }
        }
    };
}
pub(crate) use words;
