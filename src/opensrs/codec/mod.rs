//! The OPS envelope codec: `<OPS_envelope>` XML to and from [`Value`] trees.
//!
//! The parser accepts what real servers and clients send (see the protocol reference,
//! §2.5): any quote style, with or without DOCTYPE (never loaded: no external entities),
//! `msg_id`/`msg_type` in the header, any whitespace, keys in any order, self-closing
//! empty items, the five predefined entities and character references, `class`
//! attributes, `dt_scalar` wrappers, structured keys sent as empty leaves, and duplicate
//! keys (the last wins). Leaf text is kept raw; callers trim when they parse numbers.
//!
//! The writer escapes every key and value, so no value can change the document's
//! structure: `<`, `&`, `>` (hence `]]>`), quotes, and characters XML would alter (`\r`,
//! control characters) are written as references.

use std::collections::BTreeMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::value::Value;

mod write;
pub use write::write;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("not UTF-8: {0}")]
    Encoding(String),
    #[error("malformed XML at byte {position}: {message}")]
    Xml { position: u64, message: String },
    #[error("not an OPS envelope: {0}")]
    Structure(String),
}

/// The envelope header (`version` is `0.9` in every known message).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    pub version: String,
    pub msg_id: Option<String>,
    pub msg_type: Option<String>,
}

/// A whole OPS message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub header: Header,
    pub body: Value,
    /// Keys that appeared twice in one assoc (the last one was kept).
    pub duplicate_keys: Vec<String>,
}

impl Envelope {
    pub fn new(body: Value) -> Self {
        Envelope {
            header: Header {
                version: "0.9".into(),
                msg_id: None,
                msg_type: None,
            },
            body,
            duplicate_keys: Vec::new(),
        }
    }
}

type Xml<'a> = Reader<&'a [u8]>;

struct Parser<'a> {
    reader: Xml<'a>,
    duplicates: Vec<String>,
    /// Containers open around the one being read.
    depth: usize,
}

/// The deepest nesting of containers accepted. The deepest real OPS message (a contact
/// set inside attributes inside the data block) needs 6; recursion on a hostile
/// document must stop long before the stack does.
pub const MAX_DEPTH: usize = 32;

/// The largest message parsed. A page of GET_DOMAINS_BY_EXPIREDATE is well under 1 MiB.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

/// Parses an OPS message.
pub fn parse(bytes: &[u8]) -> Result<Envelope, CodecError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(CodecError::Structure(format!(
            "message of {} bytes is larger than the {MAX_MESSAGE_BYTES} bytes OPS ever needs",
            bytes.len()
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| CodecError::Encoding(e.to_string()))?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut p = Parser {
        reader,
        duplicates: Vec::new(),
        depth: 0,
    };
    loop {
        match p.next()? {
            Event::Start(e) if e.local_name().as_ref() == b"OPS_envelope" => {
                let (header, body) = p.envelope()?;
                p.expect_end_of_document()?;
                return Ok(Envelope {
                    header,
                    body,
                    duplicate_keys: p.duplicates,
                });
            }
            Event::Decl(_) | Event::DocType(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Text(t) if is_blank(&t) => {}
            Event::Eof => return Err(CodecError::Structure("no <OPS_envelope> element".into())),
            other => return Err(unexpected("before <OPS_envelope>", &other)),
        }
    }
}

fn is_blank(t: &[u8]) -> bool {
    t.iter().all(u8::is_ascii_whitespace)
}

fn unexpected(context: &str, event: &Event<'_>) -> CodecError {
    let what = match event {
        Event::Start(e) | Event::Empty(e) => {
            format!("<{}>", String::from_utf8_lossy(e.name().as_ref()))
        }
        Event::End(e) => format!("</{}>", String::from_utf8_lossy(e.name().as_ref())),
        Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => "text".into(),
        Event::Eof => "end of document".into(),
        other => format!("{other:?}"),
    };
    CodecError::Structure(format!("unexpected {what} {context}"))
}

impl<'a> Parser<'a> {
    fn next(&mut self) -> Result<Event<'a>, CodecError> {
        let position = self.reader.buffer_position();
        self.reader.read_event().map_err(|e| CodecError::Xml {
            position,
            message: e.to_string(),
        })
    }

    fn skip(&mut self, start: &BytesStart<'_>) -> Result<(), CodecError> {
        let position = self.reader.buffer_position();
        self.reader
            .read_to_end(start.name())
            .map(drop)
            .map_err(|e| CodecError::Xml {
                position,
                message: e.to_string(),
            })
    }

    fn expect_end_of_document(&mut self) -> Result<(), CodecError> {
        loop {
            match self.next()? {
                Event::Eof => return Ok(()),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if is_blank(&t) => {}
                other => return Err(unexpected("after </OPS_envelope>", &other)),
            }
        }
    }

    fn envelope(&mut self) -> Result<(Header, Value), CodecError> {
        let mut header = Header::default();
        let mut body = None;
        loop {
            match self.next()? {
                Event::Start(e) => match e.local_name().as_ref() {
                    b"header" => header = self.header()?,
                    b"body" => body = Some(self.body()?),
                    _ => self.skip(&e)?,
                },
                Event::End(_) => break,
                Event::Empty(_) | Event::Comment(_) => {}
                Event::Text(t) if is_blank(&t) => {}
                other => return Err(unexpected("in <OPS_envelope>", &other)),
            }
        }
        let body = body.ok_or_else(|| CodecError::Structure("no <body>".into()))?;
        Ok((header, body))
    }

    fn header(&mut self) -> Result<Header, CodecError> {
        let mut header = Header::default();
        loop {
            match self.next()? {
                Event::Start(e) => {
                    let text = self.text_until_end()?;
                    match e.local_name().as_ref() {
                        b"version" => header.version = text,
                        b"msg_id" => header.msg_id = Some(text),
                        b"msg_type" => header.msg_type = Some(text),
                        _ => {}
                    }
                }
                Event::End(_) => return Ok(header),
                Event::Empty(_) | Event::Comment(_) => {}
                Event::Text(t) if is_blank(&t) => {}
                other => return Err(unexpected("in <header>", &other)),
            }
        }
    }

    fn body(&mut self) -> Result<Value, CodecError> {
        let mut value = None;
        loop {
            match self.next()? {
                Event::Start(e) if e.local_name().as_ref() == b"data_block" => {
                    value = Some(self.data_block()?);
                }
                Event::Start(e) => self.skip(&e)?,
                Event::End(_) => break,
                Event::Empty(_) | Event::Comment(_) => {}
                Event::Text(t) if is_blank(&t) => {}
                other => return Err(unexpected("in <body>", &other)),
            }
        }
        value.ok_or_else(|| CodecError::Structure("no <data_block> in <body>".into()))
    }

    fn data_block(&mut self) -> Result<Value, CodecError> {
        let mut value = None;
        loop {
            match self.next()? {
                Event::Start(e) => value = Some(self.container(&e)?),
                Event::Empty(e) => value = Some(empty_container(&e)?),
                Event::End(_) => break,
                Event::Comment(_) => {}
                Event::Text(t) if is_blank(&t) => {}
                other => return Err(unexpected("in <data_block>", &other)),
            }
        }
        value.ok_or_else(|| CodecError::Structure("empty <data_block>".into()))
    }

    /// Reads a `dt_assoc`, `dt_array` or `dt_scalar` whose start tag was just read.
    fn container(&mut self, start: &BytesStart<'_>) -> Result<Value, CodecError> {
        if self.depth >= MAX_DEPTH {
            return Err(CodecError::Structure(format!(
                "containers nested deeper than {MAX_DEPTH}; OPS never needs that many"
            )));
        }
        self.depth += 1;
        let value = self.container_body(start);
        self.depth -= 1;
        value
    }

    fn container_body(&mut self, start: &BytesStart<'_>) -> Result<Value, CodecError> {
        match start.local_name().as_ref() {
            b"dt_assoc" => self.assoc(),
            b"dt_array" => self.array(),
            b"dt_scalar" | b"dt_scalarref" => Ok(Value::Scalar(self.text_until_end()?)),
            other => Err(CodecError::Structure(format!(
                "<{}> where dt_assoc, dt_array or dt_scalar was expected",
                String::from_utf8_lossy(other)
            ))),
        }
    }

    fn assoc(&mut self) -> Result<Value, CodecError> {
        let mut map = BTreeMap::new();
        while let Some((key, value)) = self.item("dt_assoc")? {
            match map.entry(key) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                std::collections::btree_map::Entry::Occupied(mut slot) => {
                    self.duplicates.push(slot.key().clone());
                    slot.insert(value);
                }
            }
        }
        Ok(Value::Assoc(map))
    }

    fn array(&mut self) -> Result<Value, CodecError> {
        let mut items = Vec::new();
        while let Some((key, value)) = self.item("dt_array")? {
            let index: usize = key.trim().parse().map_err(|_| {
                CodecError::Structure(format!("array item key {key:?} is not an index"))
            })?;
            items.push((index, value));
        }
        // Stream order is not significant: the key is the position.
        items.sort_by_key(|(i, _)| *i);
        Ok(Value::Array(items.into_iter().map(|(_, v)| v).collect()))
    }

    /// Reads the next `<item>` of a container, or `None` at the container's end.
    fn item(&mut self, container: &str) -> Result<Option<(String, Value)>, CodecError> {
        loop {
            match self.next()? {
                Event::Start(e) if e.local_name().as_ref() == b"item" => {
                    let key = item_key(&e)?;
                    return Ok(Some((key, self.item_content()?)));
                }
                Event::Empty(e) if e.local_name().as_ref() == b"item" => {
                    return Ok(Some((item_key(&e)?, Value::Scalar(String::new()))));
                }
                Event::End(_) => return Ok(None),
                Event::Comment(_) => {}
                Event::Text(t) if is_blank(&t) => {}
                other => return Err(unexpected(&format!("in <{container}>"), &other)),
            }
        }
    }

    /// An item holds text or exactly one container (whitespace around it is ignored).
    fn item_content(&mut self) -> Result<Value, CodecError> {
        let mut text = String::new();
        let mut child = None;
        loop {
            let event = self.next()?;
            if push_text(&mut text, &event)? {
                continue;
            }
            match event {
                Event::Start(e) => child = Some(self.container(&e)?),
                Event::Empty(e) => child = Some(empty_container(&e)?),
                Event::End(_) => break,
                Event::Comment(_) => {}
                other => return Err(unexpected("in <item>", &other)),
            }
        }
        match child {
            Some(value) if text.trim().is_empty() => Ok(value),
            Some(_) => Err(CodecError::Structure(
                "an <item> holds both text and a container".into(),
            )),
            None => Ok(Value::Scalar(text)),
        }
    }

    fn text_until_end(&mut self) -> Result<String, CodecError> {
        let mut text = String::new();
        loop {
            let event = self.next()?;
            if push_text(&mut text, &event)? {
                continue;
            }
            match event {
                Event::End(_) => return Ok(text),
                Event::Comment(_) => {}
                other => return Err(unexpected("in a text element", &other)),
            }
        }
    }
}

/// Appends `event` to `text` when it is a piece of text (text, CDATA, an entity or a
/// character reference); false when it is something else.
fn push_text(text: &mut String, event: &Event<'_>) -> Result<bool, CodecError> {
    let encoding = |e: quick_xml::encoding::EncodingError| CodecError::Encoding(e.to_string());
    match event {
        Event::Text(t) => text.push_str(&t.decode().map_err(encoding)?),
        Event::CData(c) => text.push_str(&c.decode().map_err(encoding)?),
        Event::GeneralRef(r) => text.push(resolve_reference(r)?),
        _ => return Ok(false),
    }
    Ok(true)
}

fn empty_container(e: &BytesStart<'_>) -> Result<Value, CodecError> {
    match e.local_name().as_ref() {
        b"dt_assoc" => Ok(Value::assoc()),
        b"dt_array" => Ok(Value::Array(Vec::new())),
        b"dt_scalar" | b"dt_scalarref" => Ok(Value::Scalar(String::new())),
        other => Err(CodecError::Structure(format!(
            "<{}/> where a container was expected",
            String::from_utf8_lossy(other)
        ))),
    }
}

fn item_key(e: &BytesStart<'_>) -> Result<String, CodecError> {
    if let Some(key) = plain_key(e.attributes_raw()) {
        return Ok(key);
    }
    for attr in e.attributes() {
        let attr = attr.map_err(|err| CodecError::Structure(format!("bad attribute: {err}")))?;
        if attr.key.as_ref() == b"key" {
            return attr
                .unescape_value()
                .map(|v| v.into_owned())
                .map_err(|err| CodecError::Structure(format!("bad key attribute: {err}")));
        }
    }
    Err(CodecError::Structure(
        "an <item> has no key attribute".into(),
    ))
}

/// The key of an `<item>` whose only attribute is a `key` with nothing to unescape, as
/// OPS writes every item: read from the tag's bytes, without the attribute iterator's
/// allocation (~80 items a registration). Anything else takes the general path.
fn plain_key(attributes: &[u8]) -> Option<String> {
    let rest = attributes.trim_ascii_start().strip_prefix(b"key=")?;
    let (&quote, rest) = rest.split_first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let end = rest.iter().position(|&b| b == quote)?;
    let (value, after) = (&rest[..end], &rest[end + 1..]);
    if !after.trim_ascii().is_empty() || value.iter().any(|&b| b == b'&' || b == b'<') {
        return None;
    }
    std::str::from_utf8(value).ok().map(str::to_owned)
}

/// The five predefined entities and character references; nothing else (a DTD is never read).
fn resolve_reference(r: &quick_xml::events::BytesRef<'_>) -> Result<char, CodecError> {
    if let Some(c) = r
        .resolve_char_ref()
        .map_err(|e| CodecError::Structure(format!("bad character reference: {e}")))?
    {
        return Ok(c);
    }
    match r.as_ref() {
        b"amp" => Ok('&'),
        b"lt" => Ok('<'),
        b"gt" => Ok('>'),
        b"quot" => Ok('"'),
        b"apos" => Ok('\''),
        other => Err(CodecError::Structure(format!(
            "unknown entity &{};: only the five XML entities and character references are accepted",
            String::from_utf8_lossy(other)
        ))),
    }
}

#[cfg(test)]
mod tests;
