//! `event_union!`: an enum over event structs with stable type names, schema versions,
//! JSON encoding and upcasting decode.

macro_rules! event_union {
    ($(#[$doc:meta])* $name:ident, $types:ident; $( $variant:ident = $version:literal ),* $(,)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            $( $variant($variant), )*
        }

        /// Each event type with its current schema version.
        pub const $types: &[(&str, u32)] = &[ $( (stringify!($variant), $version), )* ];

        impl $name {
            /// The stable type name stored beside the payload.
            pub fn event_type(&self) -> &'static str {
                match self { $( $name::$variant(_) => stringify!($variant), )* }
            }

            /// The schema version this build writes for the event's type.
            pub fn schema_version(&self) -> u32 {
                match self { $( $name::$variant(_) => $version, )* }
            }

            /// The JSON payload (without type or version).
            pub fn encode(&self) -> Vec<u8> {
                // Serialising these plain structs cannot fail: every field is a string,
                // number, bool, or a map with string keys.
                let result = match self { $( $name::$variant(e) => serde_json::to_vec(e), )* };
                result.unwrap_or_default()
            }

            /// Reads a stored payload, upcasting older schema versions first.
            pub fn decode(event_type: &str, version: u32, data: &[u8]) -> Result<Self, $crate::event::DecodeError> {
                let json_err = |source| $crate::event::DecodeError::Json {
                    event_type: event_type.to_string(), version, source,
                };
                match event_type {
                    $( stringify!($variant) => {
                        if version == $version {
                            return serde_json::from_slice::<$variant>(data)
                                .map($name::$variant).map_err(json_err);
                        }
                        if version > $version {
                            return Err($crate::event::DecodeError::FutureVersion {
                                event_type: event_type.to_string(), version, supported: $version,
                            });
                        }
                        let old: serde_json::Value = serde_json::from_slice(data).map_err(json_err)?;
                        let current = crate::upcast::upcast(event_type, version, $version, old)?;
                        serde_json::from_value::<$variant>(current)
                            .map($name::$variant).map_err(json_err)
                    } )*
                    _ => Err($crate::event::DecodeError::UnknownType {
                        event_type: event_type.to_string(),
                        version,
                        known: $types.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(", "),
                    }),
                }
            }
        }

        $( impl From<$variant> for $name {
            fn from(e: $variant) -> Self { $name::$variant(e) }
        } )*
    };
}
