//! The `X-Signature` header: `md5_hex(md5_hex(body ‖ key) ‖ key)`, lowercase hex, over the
//! exact bytes sent.

use md5::{Digest, Md5};

fn md5_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Md5::new();
    for p in parts {
        hasher.update(p);
    }
    crate::hex::hex(&hasher.finalize())
}

/// The signature of `body` under `key` (the private key's ASCII text, not hex-decoded).
pub fn sign(body: &[u8], key: &str) -> String {
    let inner = md5_hex(&[body, key.as_bytes()]);
    md5_hex(&[inner.as_bytes(), key.as_bytes()])
}

/// Compares a received signature with the expected one in constant time. Uppercase hex is
/// refused, as the sandbox's strict mode requires (the live server's behaviour is unknown).
pub fn verify(body: &[u8], key: &str, signature: &str) -> bool {
    let expected = sign(body, key);
    let got = signature.trim().as_bytes();
    got.len() == expected.len()
        && got
            .iter()
            .zip(expected.as_bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_sanity_vector_from_the_guide() {
        assert_eq!(
            md5_hex(&[b"ConnecttoOpenSRSviaSSL"]),
            "e787cc1d1951dfec4827cede7b1a0933"
        );
    }

    #[test]
    fn full_signature_vector_from_yola() {
        // yola's LOOKUP of jerith.org: three lines joined by LF, no trailing newline.
        let body = concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\" ?>\n",
            "<!DOCTYPE OPS_envelope SYSTEM \"ops.dtd\">\n",
            "<OPS_envelope><header><version>0.9</version></header><body><data_block><dt_assoc>",
            "<item key=\"action\">LOOKUP</item><item key=\"attributes\"><dt_assoc>",
            "<item key=\"domain\">jerith.org</item></dt_assoc></item>",
            "<item key=\"object\">DOMAIN</item><item key=\"protocol\">XCP</item>",
            "</dt_assoc></data_block></body></OPS_envelope>"
        );
        assert_eq!(
            sign(body.as_bytes(), "somekey"),
            "001806d5425a40aaaec238ffe23bc8f2"
        );
    }

    #[test]
    fn independently_computed_vectors() {
        // Computed with Python: hashlib.md5((hashlib.md5(b + k).hexdigest() + k).encode()).hexdigest()
        assert_eq!(sign(b"", ""), "74be16979710d4c4e7c6647856088456");
        assert_eq!(sign(b"<x/>", "abc"), "5a4106d54b66eaa7cd6d0eddc1966635");
    }

    #[test]
    fn verify_is_strict() {
        let s = sign(b"body", "key");
        assert!(verify(b"body", "key", &s));
        assert!(!verify(b"body ", "key", &s));
        assert!(!verify(b"body", "key", &s.to_uppercase()));
        assert!(!verify(b"body", "other", &s));
        assert!(!verify(b"body", "key", ""));
    }
}
