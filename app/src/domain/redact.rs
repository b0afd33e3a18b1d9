//! Keeps secret values out of everything that is stored or shown: every
//! occurrence of a secret's value in a string becomes `[secret]`.

use serde_json::Value;

pub const MASK: &str = "[secret]";

/// `s` with every secret value replaced (longest first, so a secret that
/// contains another is masked whole).
pub fn redact_str(s: &str, secrets: &[&str]) -> String {
    let mut sorted: Vec<&str> = secrets.iter().copied().filter(|v| !v.is_empty()).collect();
    sorted.sort_by_key(|v| std::cmp::Reverse(v.len()));
    let mut out = s.to_string();
    for v in sorted {
        if out.contains(v) {
            out = out.replace(v, MASK);
        }
    }
    out
}

/// The forms a secret's value may take in what comes back: as it is, and
/// percent-encoded the ways URLs and forms encode it (an error message that
/// quotes a URL, a server that echoes a query). A value transformed in other
/// ways (reversed, hashed) is not recognised; that is why each secret may go
/// only to the hosts it lists.
pub fn variants(value: &str) -> Vec<String> {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let mut out = vec![value.to_string()];
    let strict = utf8_percent_encode(value, NON_ALPHANUMERIC).to_string();
    let unreserved_kept = strict
        .replace("%2D", "-")
        .replace("%2E", ".")
        .replace("%5F", "_")
        .replace("%7E", "~");
    let form = unreserved_kept.replace("%20", "+");
    for v in [strict, unreserved_kept, form] {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// Masks secret values in every string (and object key) of `v`.
pub fn redact(v: &mut Value, secrets: &[&str]) {
    if secrets.is_empty() {
        return;
    }
    match v {
        Value::String(s) => *s = redact_str(s, secrets),
        Value::Array(items) => items.iter_mut().for_each(|i| redact(i, secrets)),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut val) in entries {
                redact(&mut val, secrets);
                map.insert(redact_str(&k, secrets), val);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_values_everywhere() {
        let secrets = ["sk-123", "sk-123-long"];
        assert_eq!(
            redact_str("key=sk-123-long&k2=sk-123", &secrets),
            "key=[secret]&k2=[secret]"
        );
        let mut v = json!({"body": {"echo": "Bearer sk-123", "sk-123": [1, "x sk-123 y"]}, "n": 5});
        redact(&mut v, &secrets);
        assert_eq!(
            v,
            json!({"body": {"echo": "Bearer [secret]", "[secret]": [1, "x [secret] y"]}, "n": 5})
        );
        assert_eq!(redact_str("nothing", &[]), "nothing");
        assert_eq!(redact_str("a", &[""]), "a", "an empty value masks nothing");
    }

    #[test]
    fn percent_encoded_values_are_masked_too() {
        // regression: "error sending request for url (…?k=pa%20ss%C3%A9…)"
        let v = variants("pa ssé-x");
        let refs: Vec<&str> = v.iter().map(String::as_str).collect();
        assert_eq!(
            redact_str(
                "url (http://h/?k=pa%20ss%C3%A9-x) form k=pa+ss%C3%A9-x raw pa ssé-x",
                &refs
            ),
            "url (http://h/?k=[secret]) form k=[secret] raw [secret]"
        );
    }
}
