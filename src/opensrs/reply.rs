//! Replies as the engine reads them, and transport failures.

use super::value::Value;

/// A parsed XCP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub is_success: bool,
    pub code: u16,
    /// As sent (may span lines); compare codes, not texts.
    pub text: String,
    /// `attributes` (an empty assoc when absent or an empty leaf).
    pub attributes: Value,
    /// The whole data block, unknown keys included.
    pub body: Value,
}

impl Reply {
    /// Reads the top-level keys. `object`/`action` are not required: some real error
    /// replies lack them.
    pub fn from_body(body: Value) -> Result<Reply, String> {
        let code = body
            .text("response_code")
            .ok_or("the reply has no response_code")?;
        let code: u16 = code
            .parse()
            .map_err(|_| format!("response_code {code:?} is not a number"))?;
        let attributes = match body.get("attributes") {
            Some(a @ Value::Assoc(_)) => a.clone(),
            _ => Value::assoc(),
        };
        Ok(Reply {
            is_success: body.flag("is_success").unwrap_or(false),
            code,
            text: body
                .get("response_text")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            attributes,
            body,
        })
    }

    /// An attribute's trimmed text.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.text(key)
    }
}

/// Why no reply could be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Nothing was sent: DNS, TCP or TLS failed before the request body went out.
    #[error("could not connect: {0}")]
    Connect(String),
    /// The request went out and no answer came in time.
    #[error("no answer in time: {0}")]
    Timeout(String),
    /// The connection broke after the request went out.
    #[error("connection failed after sending: {0}")]
    Broken(String),
    #[error("HTTP status {0}")]
    HttpStatus(u16),
    #[error("empty reply (is this machine's IP on the OpenSRS allow-list?)")]
    Empty,
    #[error("unreadable reply: {0}")]
    Unparseable(String),
}

impl TransportError {
    /// Whether the request certainly never reached OpenSRS.
    pub fn nothing_sent(&self) -> bool {
        matches!(self, TransportError::Connect(_))
    }
}
