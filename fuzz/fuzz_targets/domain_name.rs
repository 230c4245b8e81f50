//! Any string as a domain name: a name or a clear error, never a panic; an accepted name
//! is canonical.
#![no_main]

use domreg_events::DomainName;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(name) = DomainName::parse(text) {
            let again = DomainName::parse(name.as_str()).expect("a canonical name parses");
            assert_eq!(again, name);
        }
    }
});
