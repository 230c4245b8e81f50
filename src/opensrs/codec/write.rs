//! Writing an envelope: every key and value escaped, so no value can change the
//! document's structure.

use std::fmt::Write as _;

use super::Envelope;
use crate::opensrs::value::Value;

/// Writes an envelope the way OpenSRS writes replies: XML declaration, DOCTYPE, indented.
pub fn write(envelope: &Envelope) -> String {
    // A registration with its four contacts is ~6 KB; most replies are under 1 KB.
    let mut out = String::with_capacity(8 * 1024);
    out.push_str("<?xml version='1.0' encoding=\"UTF-8\" standalone=\"no\" ?>\n");
    out.push_str("<!DOCTYPE OPS_envelope SYSTEM 'ops.dtd'>\n");
    out.push_str("<OPS_envelope>\n <header>\n  <version>");
    escape_into(&mut out, &envelope.header.version);
    out.push_str("</version>\n");
    if let Some(id) = &envelope.header.msg_id {
        out.push_str("  <msg_id>");
        escape_into(&mut out, id);
        out.push_str("</msg_id>\n");
    }
    if let Some(t) = &envelope.header.msg_type {
        out.push_str("  <msg_type>");
        escape_into(&mut out, t);
        out.push_str("</msg_type>\n");
    }
    out.push_str(" </header>\n <body>\n  <data_block>\n");
    write_container(&mut out, &envelope.body, 3);
    out.push_str("  </data_block>\n </body>\n</OPS_envelope>\n");
    out
}

fn indent(out: &mut String, depth: usize) {
    const SPACES: &str = "                                ";
    let mut left = depth;
    while left > 0 {
        let n = left.min(SPACES.len());
        out.push_str(&SPACES[..n]);
        left -= n;
    }
}

fn write_container(out: &mut String, value: &Value, depth: usize) {
    indent(out, depth);
    match value {
        Value::Scalar(s) => {
            out.push_str("<dt_scalar>");
            escape_into(out, s);
            out.push_str("</dt_scalar>\n");
        }
        Value::Assoc(map) => {
            out.push_str("<dt_assoc>\n");
            for (k, v) in map {
                write_item(out, k, v, depth + 1);
            }
            indent(out, depth);
            out.push_str("</dt_assoc>\n");
        }
        Value::Array(items) => {
            out.push_str("<dt_array>\n");
            for (i, v) in items.iter().enumerate() {
                write_item(out, &i.to_string(), v, depth + 1);
            }
            indent(out, depth);
            out.push_str("</dt_array>\n");
        }
    }
}

fn write_item(out: &mut String, key: &str, value: &Value, depth: usize) {
    indent(out, depth);
    out.push_str("<item key=\"");
    escape_into(out, key);
    out.push_str("\">");
    match value {
        Value::Scalar(s) => {
            escape_into(out, s);
            out.push_str("</item>\n");
        }
        container => {
            out.push('\n');
            write_container(out, container, depth + 1);
            indent(out, depth);
            out.push_str("</item>\n");
        }
    }
}

/// Whether a byte of UTF-8 text is written as a reference. Every such byte is ASCII, so
/// the text before it ends on a character boundary.
fn needs_escape(b: u8) -> bool {
    matches!(b, b'<' | b'>' | b'&' | b'"' | b'\'' | b'\r') || (b < 0x20 && b != b'\n' && b != b'\t')
}

/// Escapes text for element content and double-quoted attributes.
fn escape_into(out: &mut String, s: &str) {
    // Most values need nothing escaped: copied at once up to the first byte that does.
    let clean = s.bytes().position(needs_escape).unwrap_or(s.len());
    out.push_str(&s[..clean]);
    for c in s[clean..].chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Parsers normalise CR and would fold other control characters; a
            // reference keeps the value byte for byte.
            '\r' => out.push_str("&#xD;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {
                let _ = write!(out, "&#x{:X};", c as u32);
            }
            c => out.push(c),
        }
    }
}
