//! Phone numbers, normalised so that one contact is recognised across channels (a WhatsApp
//! sender, a phone typed in a form, a custom channel's contact). No numbering-plan database:
//! the rules are deliberately simple and documented.

/// Normalises a phone number:
///
/// * `+39 333 123 4567`, `+1 (555) 123-4567`, `tel:+39-333-1234567` → `+393331234567`;
/// * an international prefix `00` (`0039 333 …`) → `+39333…`;
/// * a bare run of 11–15 digits not starting with 0, as WhatsApp's `from`/`wa_id` gives it
///   (`393331234567`) → `+393331234567`;
/// * any other number without country code (`(555) 123-4567`, `333 123 4567`,
///   `07911 123456`) → its digits (`5551234567`): matchable by [`same_phone`], not E.164.
///
/// Accepts spaces, `-`, `.`, `/`, parentheses, a `tel:`/`whatsapp:` prefix and full-width
/// digits; returns `None` for letters, other symbols, or fewer than 5 / more than 15 digits.
pub fn normalize_phone(s: &str) -> Option<String> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let t = ["tel:", "whatsapp:", "wa:", "sms:"]
        .iter()
        .find_map(|p| lower.starts_with(p).then(|| &t[p.len()..]))
        .unwrap_or(t)
        .trim();
    let mut digits = String::new();
    let mut plus = false;
    let mut formatted = false;
    for (i, c) in t.chars().enumerate() {
        match c {
            '+' | '＋' if i == 0 => plus = true,
            '0'..='9' => digits.push(c),
            '０'..='９' => digits.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
            ' ' | '-' | '.' | '/' | '(' | ')' | '\u{A0}' | '\u{2010}' | '\u{2011}' | '\u{2013}' => formatted = true,
            _ => return None,
        }
    }
    let international = if plus {
        Some(digits.as_str())
    } else if let Some(rest) = digits.strip_prefix("00") {
        Some(rest)
    } else if !formatted && (11..=15).contains(&digits.len()) && !digits.starts_with('0') {
        Some(digits.as_str())
    } else {
        None
    };
    match international {
        Some(d) if (7..=15).contains(&d.len()) && !d.starts_with('0') => Some(format!("+{d}")),
        Some(_) => None,
        None if (5..=15).contains(&digits.len()) => Some(digits),
        None => None,
    }
}

/// True when two numbers are the same line: equal after normalisation, or one has no country
/// code and equals the other's last digits (at least 8, a national leading 0 ignored):
/// `+393331234567` and `333 123 4567`, `+447911123456` and `07911 123456`.
pub fn same_phone(a: &str, b: &str) -> bool {
    let (Some(a), Some(b)) = (normalize_phone(a), normalize_phone(b)) else { return false };
    if a == b {
        return true;
    }
    let (intl, national) = match (a.starts_with('+'), b.starts_with('+')) {
        (true, false) => (a, b),
        (false, true) => (b, a),
        _ => return false,
    };
    let national = national.trim_start_matches('0');
    national.len() >= 8 && intl.ends_with(national) && intl.len() - 1 > national.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        for (input, want) in [
            ("+39 333 123 4567", Some("+393331234567")),
            ("0039 333 123 4567", Some("+393331234567")),
            ("+1 (555) 123-4567", Some("+15551234567")),
            ("tel:+39-333-1234567", Some("+393331234567")),
            ("whatsapp:+14155238886", Some("+14155238886")),
            ("393331234567", Some("+393331234567")),
            ("16505551234", Some("+16505551234")),
            ("(555) 123-4567", Some("5551234567")),
            ("333 123 4567", Some("3331234567")),
            ("07911 123456", Some("07911123456")),
            ("＋３９ ３３３ １２３ ４５６７", Some("+393331234567")),
            ("+39 333 123 4567 ext 2", None),
            ("call me", None),
            ("1234", None),
            ("+0039333", None),
            ("+1234567890123456", None),
            ("", None),
            ("12+34", None),
        ] {
            assert_eq!(normalize_phone(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn matches_across_formats() {
        assert!(same_phone("393331234567", "+39 333 123 4567"));
        assert!(same_phone("+39 333 123 4567", "333 123 4567"));
        assert!(same_phone("+44 7911 123456", "07911 123456"));
        assert!(!same_phone("+39 333 123 4567", "+39 333 123 4568"));
        assert!(!same_phone("+39 333 123 4567", "4567"));
        assert!(!same_phone("555 1234", "+1 555 1234"), "too few digits to trust");
        assert!(!same_phone("x", "+39 333 123 4567"));
    }
}
