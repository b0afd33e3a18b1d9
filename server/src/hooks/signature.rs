//! Proving a delivery comes from who holds the webhook's secret.
//!
//! HMAC: the sender puts `t=<unix seconds>,v1=<hex>` in the signature
//! header, where the hex is HMAC-SHA256 with the key over `"<t>.<raw
//! body>"`. A request is accepted when its timestamp is within five
//! minutes of the server's clock and one `v1` matches the current or (during
//! a rotation) the previous key. A sender may put several `v1=` entries
//! (one per key) while it switches keys. Comparisons are constant-time.
//!
//! Token: the secret itself in the configured header (or, when that header
//! is `Authorization`, as `Bearer <secret>`), compared in constant time.

use app::domain::triggers::SIGNATURE_WINDOW_MS;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The hex signature of `body` sent at `t` (unix seconds) with `key`.
pub fn sign(key: &str, t: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The header value a sender puts: `t=<t>,v1=<signature>`.
pub fn header_value(key: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", sign(key, t, body))
}

/// Checks a signature header against `keys`; the error says why, in
/// words for the sender's developer (never which key was close).
pub fn verify(header: Option<&str>, keys: &[&str], body: &[u8], now_ms: i64) -> Result<(), String> {
    let header = header.ok_or("the request is not signed: the signature header is missing")?;
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',').take(16) {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.extend(hex::decode(v).ok().filter(|b| b.len() == 32)),
            _ => {}
        }
    }
    let t = t.ok_or("the signature header has no timestamp: send t=<unix seconds>,v1=<hex>")?;
    if sigs.is_empty() {
        return Err("the signature header has no v1=<hex HMAC-SHA256>".into());
    }
    let age = now_ms.saturating_sub(t.saturating_mul(1000));
    if age.abs() > SIGNATURE_WINDOW_MS {
        return Err(format!(
            "the signature's timestamp is {} minutes {} the server's clock (at most 5 are accepted): sign each request when it is sent",
            age.abs() / 60_000,
            if age > 0 { "behind" } else { "ahead of" }
        ));
    }
    for key in keys {
        let mut mac = HmacSha256::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let expected = mac.finalize().into_bytes();
        // every candidate is compared in full (no early exit on a match)
        let mut ok = subtle::Choice::from(0);
        for s in &sigs {
            ok |= expected.as_slice().ct_eq(s);
        }
        if bool::from(ok) {
            return Ok(());
        }
    }
    Err("the signature does not match: sign \"<t>.<raw body>\" with HMAC-SHA256 and the webhook's key".into())
}

/// Checks a token against `keys` in constant time (over their digests, so
/// the length of the secret does not show either).
pub fn verify_token(sent: Option<&str>, keys: &[&str]) -> Result<(), String> {
    let sent = sent.ok_or("the request has no token: the token header is missing")?;
    let sent = sent.strip_prefix("Bearer ").unwrap_or(sent).trim();
    let got = Sha256::digest(sent.as_bytes());
    let mut ok = subtle::Choice::from(0);
    for key in keys {
        ok |= Sha256::digest(key.as_bytes()).ct_eq(&got);
    }
    if bool::from(ok) {
        Ok(())
    } else {
        Err("the token is wrong".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn a_signature_made_with_either_key_within_five_minutes_is_accepted() {
        let body = br#"{"amount": 10}"#;
        let t = NOW / 1000 - 60;
        let h = header_value("new", t, body);
        assert_eq!(verify(Some(&h), &["new", "old"], body, NOW), Ok(()));
        let h = header_value("old", t, body);
        assert_eq!(verify(Some(&h), &["new", "old"], body, NOW), Ok(()));
        // a sender switching keys may send both
        let both = format!(
            "t={t},v1={},v1={}",
            sign("gone", t, body),
            sign("new", t, body)
        );
        assert_eq!(verify(Some(&both), &["new"], body, NOW), Ok(()));
    }

    #[test]
    fn a_wrong_late_or_missing_signature_is_refused_with_why() {
        let body = b"{}";
        let t = NOW / 1000;
        let err = |h: Option<&str>| verify(h, &["key"], body, NOW).unwrap_err();
        assert!(err(None).contains("missing"));
        assert!(err(Some(&header_value("other", t, body))).contains("does not match"));
        assert!(err(Some(&header_value("key", t - 301, body))).contains("behind"));
        assert!(err(Some(&header_value("key", t + 400, body))).contains("ahead"));
        assert!(err(Some("v1=00")).contains("no timestamp"));
        assert!(err(Some(&format!("t={t}"))).contains("no v1"));
        // the body is part of what is signed
        let h = header_value("key", t, b"{\"a\":1}");
        assert!(verify(Some(&h), &["key"], b"{\"a\":2}", NOW).is_err());
        // absurd timestamps do not overflow
        assert!(err(Some(&format!("t={},v1={}", i64::MAX, "00".repeat(32)))).contains("ahead"));
        assert!(err(Some(&format!("t={},v1={}", i64::MIN, "00".repeat(32)))).contains("behind"));
    }

    #[test]
    fn a_token_matches_only_itself_with_or_without_bearer() {
        assert_eq!(verify_token(Some("abc"), &["abc"]), Ok(()));
        assert_eq!(verify_token(Some("Bearer abc"), &["x", "abc"]), Ok(()));
        assert!(verify_token(Some("abcd"), &["abc"]).is_err());
        assert!(verify_token(Some(""), &["abc"]).is_err());
        assert!(
            verify_token(None, &["abc"])
                .unwrap_err()
                .contains("missing")
        );
    }
}
