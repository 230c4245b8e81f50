//! The OPS value tree: what an `<OPS_envelope>` carries, independent of XML.

use std::collections::BTreeMap;

/// A node of an OPS data block. Leaves are always strings (numbers, flags and dates too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Scalar(String),
    /// `dt_assoc`: keys are field names (any order on the wire).
    Assoc(BTreeMap<String, Value>),
    /// `dt_array`: placed by each item's integer key.
    Array(Vec<Value>),
}

impl Value {
    pub fn assoc() -> Self {
        Value::Assoc(BTreeMap::new())
    }

    pub fn scalar(s: impl Into<String>) -> Self {
        Value::Scalar(s.into())
    }

    /// Builder: inserts `key` into an assoc (no-op on other variants).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        if let Value::Assoc(map) = &mut self {
            map.insert(key.to_string(), value.into());
        }
        self
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Assoc(map) => map.get(key),
            _ => None,
        }
    }

    /// Follows a path of assoc keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Value> {
        keys.iter().try_fold(self, |v, k| v.get(k))
    }

    /// The raw text of a leaf.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// A leaf's text, trimmed, if it is non-empty.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// A leaf flag: `1`/`Y` true, `0`/`N` false (OpenSRS writes both).
    pub fn flag(&self, key: &str) -> Option<bool> {
        match self.text(key)? {
            "1" | "Y" | "y" => Some(true),
            "0" | "N" | "n" => Some(false),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_assoc(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Assoc(map) => Some(map),
            _ => None,
        }
    }

    /// Converts to JSON for `--json` output and stored evidence (leaves stay strings).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Scalar(s) => serde_json::Value::String(s.clone()),
            Value::Assoc(map) => map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
            Value::Array(items) => items.iter().map(Value::to_json).collect(),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Scalar(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Scalar(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::Array(items)
    }
}
