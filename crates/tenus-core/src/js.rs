//! How the core's option and record types reach JavaScript.
//!
//! Values cross as JSON (serde), one encoding for every call. With the `napi` feature (the
//! addon's build) the same types are also described to napi-rs, which writes them into
//! `index.d.ts`: option structs carry
//!
//! ```ignore
//! #[derive(Debug, Clone, Default, Deserialize)]
//! #[serde(rename_all = "camelCase", deny_unknown_fields)]
//! #[cfg_attr(feature = "napi", napi_derive::napi(object, object_to_js = false, object_from_js = false))]
//! ```
//!
//! (no conversion code is generated: only the TypeScript interface), and string unions are
//! declared with `js_enum!`.

/// A closed set of strings (a macvlan mode, a bond mode, ...): a Rust enum read and written by
/// serde under those strings, and a string-literal union in `index.d.ts`.
///
/// ```ignore
/// js_enum!(MacvlanMode { Private = "private", Bridge = "bridge" });
/// ```
#[macro_export]
macro_rules! js_enum {
    ($name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        #[cfg(feature = "napi")]
        #[napi_derive::napi(string_enum)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
        pub enum $name { $( #[napi(value = $text)] #[serde(rename = $text)] $variant ),* }

        #[cfg(not(feature = "napi"))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
        pub enum $name { $( #[serde(rename = $text)] $variant ),* }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The string JavaScript uses.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
