//! Any bytes as an OPS envelope: an envelope or an error, never a panic; what parses
//! writes out and parses back to the same value.
#![no_main]

use domreg::opensrs::codec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = codec::parse(data) {
        let again = codec::parse(codec::write(&envelope).as_bytes())
            .expect("what the writer writes, the parser reads");
        assert_eq!(again, envelope);
    }
});
