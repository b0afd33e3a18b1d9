//! Ids as types: a run id cannot be passed where an approval item's id is
//! wanted, and an id that arrives from outside (a URL, a request) is parsed
//! once at the edge. Each reads as its text (`Deref<Target = str>`), so
//! storing, showing and comparing it stays plain.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
        #[serde(transparent)]
        #[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new id: the prefix and a time-ordered UUID.
            #[cfg(feature = "ssr")]
            pub fn generate() -> Self {
                $name(format!("{}{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            /// The id `s` if it has this kind's shape (prefix and 32 hex
            /// digits); anything else names nothing of this kind.
            pub fn parse(s: &str) -> Option<Self> {
                let hex = s.strip_prefix($prefix)?;
                (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                    .then(|| $name(s.to_string()))
            }

            /// An id read from the store or a trusted record, as it is.
            pub fn from_stored(s: impl Into<String>) -> Self {
                $name(s.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        #[cfg(feature = "ssr")]
        impl<'a> crate::store::conn::Bind<'a> for &'a $name {
            fn arg(self) -> crate::store::conn::Arg<'a> {
                crate::store::conn::Arg::Text(Some(std::borrow::Cow::Borrowed(self.0.as_str())))
            }
            fn null() -> crate::store::conn::Arg<'a> {
                crate::store::conn::Arg::Text(None)
            }
        }

        #[cfg(feature = "ssr")]
        impl<'a> crate::store::conn::Bind<'a> for $name {
            fn arg(self) -> crate::store::conn::Arg<'a> {
                crate::store::conn::Arg::Text(Some(std::borrow::Cow::Owned(self.0)))
            }
            fn null() -> crate::store::conn::Arg<'a> {
                crate::store::conn::Arg::Text(None)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

id_type!(
    /// A run: `run_<32 hex>`.
    RunId,
    "run_"
);
id_type!(
    /// An approval item: `apv_<32 hex>`.
    ItemId,
    "apv_"
);
id_type!(
    /// A trigger (webhook or schedule): `trg_<32 hex>`.
    TriggerId,
    "trg_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_only_their_own_shape() {
        let run = "run_0123456789abcdef0123456789abcdef";
        assert_eq!(RunId::parse(run).unwrap(), run);
        assert!(RunId::parse("apv_0123456789abcdef0123456789abcdef").is_none());
        assert!(ItemId::parse(run).is_none());
        assert!(RunId::parse("run_123").is_none());
        assert!(RunId::parse("run_0123456789abcdef0123456789abcdeg").is_none());
        assert!(RunId::parse("../etc/passwd").is_none());
        let id = RunId::parse(run).unwrap();
        assert_eq!(serde_json::to_value(&id).unwrap(), serde_json::json!(run));
        assert_eq!(format!("/runs/{id}"), format!("/runs/{run}"));
    }
}
