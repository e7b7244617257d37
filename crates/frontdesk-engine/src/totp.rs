//! Time-based one-time passwords (RFC 6238) for the optional second factor:
//! HMAC-SHA-1, 6 digits, 30-second steps, one step of clock drift either way
//! (what every authenticator app uses by default). Secrets are 20 random
//! bytes shown to the user in base32 (RFC 4648, no padding).

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

/// Seconds per time step.
pub const STEP_SECS: i64 = 30;
/// Digits in a code.
pub const DIGITS: u32 = 6;
/// Steps of clock drift accepted on either side of the current one.
pub const DRIFT_STEPS: i64 = 1;
/// The issuer authenticator apps show next to the account.
pub const ISSUER: &str = "Frontdesk";

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new random secret, base32.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut bytes);
    base32_encode(&bytes)
}

pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes base32, ignoring case, spaces, dashes and `=` padding; `None` for
/// any other character.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !matches!(c, ' ' | '-' | '=')) {
        let c = c.to_ascii_uppercase();
        let v = ALPHABET.iter().position(|&a| a as char == c)? as u32;
        buffer = ((buffer << 5) | v) & 0xFFFF;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The time step `unix_secs` falls in.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The HOTP value (RFC 4226) of `key` at `counter`, with `digits` digits.
fn hotp(key: &[u8], counter: u64, digits: u32) -> u32 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[h.len() - 1] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[offset] & 0x7f, h[offset + 1], h[offset + 2], h[offset + 3]]);
    bin % 10u32.pow(digits)
}

/// The 6-digit code of `key` at time step `step`, zero-padded.
pub fn code_at(key: &[u8], step: i64) -> String {
    format!("{:0width$}", hotp(key, step.max(0) as u64, DIGITS), width = DIGITS as usize)
}

/// Checks `code` (spaces ignored) against the base32 `secret` at `unix_secs`,
/// one step either way; returns the matching step. A malformed code or
/// secret is simply not valid.
pub fn verify(secret: &str, code: &str, unix_secs: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let key = base32_decode(secret).filter(|k| !k.is_empty())?;
    let now = step_at(unix_secs);
    // Every candidate is computed and compared in full, whichever matches.
    let mut found = None;
    for step in (now - DRIFT_STEPS)..=(now + DRIFT_STEPS) {
        let candidate = code_at(&key, step);
        let same = candidate.bytes().zip(code.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if same && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` URI authenticator apps import (as a QR code or pasted).
pub fn otpauth_uri(account: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        issuer = enc(ISSUER),
        account = enc(account),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (the 8-digit values' last 6 digits).
    #[test]
    fn rfc_6238_test_vectors() {
        let key = b"12345678901234567890";
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(code_at(key, step_at(t)), code, "t = {t}");
        }
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("MZXW6YTBOI======").unwrap(), b"foobar");
        assert_eq!(base32_decode("mzxw 6ytb-oi").unwrap(), b"foobar");
        assert_eq!(base32_decode("MZX1"), None);
        let s = generate_secret();
        assert_eq!(s.len(), 32);
        assert_eq!(base32_decode(&s).unwrap().len(), 20);
        assert_ne!(generate_secret(), s);
    }

    #[test]
    fn codes_are_accepted_one_step_either_way_and_no_further() {
        let secret = base32_encode(b"12345678901234567890");
        let t = 1_111_111_111;
        let now = step_at(t);
        assert_eq!(verify(&secret, "050471", t), Some(now));
        assert_eq!(verify(&secret, "050 471", t), Some(now));
        let key = base32_decode(&secret).unwrap();
        assert_eq!(verify(&secret, &code_at(&key, now - 1), t), Some(now - 1));
        assert_eq!(verify(&secret, &code_at(&key, now + 1), t), Some(now + 1));
        assert_eq!(verify(&secret, &code_at(&key, now - 2), t), None);
        assert_eq!(verify(&secret, &code_at(&key, now + 2), t), None);
        for bad in ["", "12345", "1234567", "abcdef", "05047١"] {
            assert_eq!(verify(&secret, bad, t), None, "{bad:?}");
        }
        assert_eq!(verify("not base32!", "050471", t), None);
        assert_eq!(verify("", "050471", t), None);
    }

    #[test]
    fn the_uri_names_issuer_account_and_parameters() {
        let u = otpauth_uri("ann+ops@example.com", "JBSWY3DPEHPK3PXP");
        assert_eq!(
            u,
            "otpauth://totp/Frontdesk:ann%2Bops%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Frontdesk\
             &algorithm=SHA1&digits=6&period=30"
        );
    }
}
