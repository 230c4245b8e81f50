//! The parser's private fast paths; the codec's behaviour is tested in tests/opensrs_codec.rs.

use super::*;

#[test]
fn a_plain_key_is_read_from_the_tag_and_anything_else_takes_the_general_path() {
    let read = |raw: &str| plain_key(raw.as_bytes());
    assert_eq!(read(r#" key="domain""#).as_deref(), Some("domain"));
    assert_eq!(read(" key='a b' ").as_deref(), Some("a b"));
    assert_eq!(read(r#" key="""#).as_deref(), Some(""));
    for general in [
        r#" key="a&amp;b""#,
        r#" key="a" class="x""#,
        r#" key="a" key="b""#,
        r#" class="x" key="a""#,
        r#" keyx="a""#,
        r#" key = "a""#,
        r#" key="a"#,
        "",
    ] {
        assert_eq!(read(general), None, "{general:?}");
    }
    assert_eq!(plain_key(b" key=\"\xff\""), None, "not UTF-8");
}
