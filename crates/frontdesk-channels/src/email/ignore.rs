//! The email ignore list (C3): addresses and domains the agent never answers; their messages go
//! to a human at once.

use super::normalize_address;

/// Validated ignore-list entries: full addresses and domains (a domain also covers its
/// subdomains: `example.com` matches `ann@mail.example.com`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IgnoreList {
    addresses: Vec<String>,
    domains: Vec<String>,
}

impl IgnoreList {
    /// Parses the admin's entries: `ann@example.com`, `example.com`, `@example.com` or
    /// `*.example.com`, any case, surrounding spaces ignored; blank entries are skipped.
    /// The error names the first bad entry and why, for the admin form.
    pub fn parse(entries: &[String]) -> Result<IgnoreList, String> {
        let mut list = IgnoreList::default();
        for (n, raw) in entries.iter().enumerate() {
            let entry = raw.trim();
            if entry.is_empty() {
                continue;
            }
            let bad = |why: &str| format!("entry {} \"{entry}\" is not an email address or a domain: {why}", n + 1);
            let e = normalize_address(entry);
            if let Some(domain) = e.strip_prefix('@').or_else(|| e.strip_prefix("*.")) {
                check_domain(domain).map_err(|w| bad(&w))?;
                push_unique(&mut list.domains, domain);
            } else if let Some((local, domain)) = e.rsplit_once('@') {
                if local.is_empty() || local.len() > 64 {
                    return Err(bad("the part before '@' must be 1 to 64 characters"));
                }
                if local.contains('@') {
                    return Err(bad("more than one '@'"));
                }
                if local.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';')) {
                    return Err(bad("contains spaces or forbidden characters"));
                }
                check_domain(domain).map_err(|w| bad(&w))?;
                push_unique(&mut list.addresses, &e);
            } else {
                check_domain(&e).map_err(|w| bad(&w))?;
                push_unique(&mut list.domains, &e);
            }
        }
        Ok(list)
    }

    /// True when `address` is listed, or its domain is a listed domain or a subdomain of one.
    pub fn matches(&self, address: &str) -> bool {
        let a = normalize_address(address);
        if self.addresses.contains(&a) {
            return true;
        }
        let Some((_, domain)) = a.rsplit_once('@') else { return false };
        let domain = domain.trim_end_matches('.');
        self.domains.iter().any(|d| domain == d || domain.strip_suffix(d.as_str()).is_some_and(|p| p.ends_with('.')))
    }

    /// The entries in canonical form (addresses, then domains), e.g. to store or show them.
    pub fn entries(&self) -> Vec<String> {
        self.addresses.iter().chain(&self.domains).cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty() && self.domains.is_empty()
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_owned());
    }
}

fn check_domain(d: &str) -> Result<(), String> {
    if d.is_empty() {
        return Err("the domain is empty".into());
    }
    if d.len() > 253 {
        return Err("the domain is longer than 253 characters".into());
    }
    let labels: Vec<&str> = d.split('.').collect();
    if labels.len() < 2 {
        return Err("the domain must look like example.com".into());
    }
    for l in labels {
        if l.is_empty() || l.len() > 63 {
            return Err("the domain has an empty or too long part".into());
        }
        if l.starts_with('-') || l.ends_with('-') {
            return Err("a part of the domain starts or ends with '-'".into());
        }
        if !l.chars().all(|c| c.is_alphanumeric() || c == '-') {
            return Err("the domain may only hold letters, digits, '-' and '.'".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Result<IgnoreList, String> {
        IgnoreList::parse(&entries.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn parses_and_matches() {
        let l = list(&[" Boss@Example.com ", "partner.it", "@Vendor.ES", "*.news.fr", "", "partner.it"]).unwrap();
        assert_eq!(l.entries(), vec!["boss@example.com", "partner.it", "vendor.es", "news.fr"]);
        assert!(l.matches("boss@example.com"));
        assert!(l.matches("<BOSS@EXAMPLE.COM>"));
        assert!(!l.matches("other@example.com"));
        assert!(l.matches("anyone@partner.it"));
        assert!(l.matches("anyone@mail.partner.it"));
        assert!(!l.matches("anyone@notpartner.it"));
        assert!(!l.matches("anyone@partner.it.evil.com"));
        assert!(l.matches("x@vendor.es"));
        assert!(l.matches("x@a.b.news.fr"));
        assert!(!l.matches("partner.it"));
        assert!(!IgnoreList::default().matches("a@b.com"));
        assert!(IgnoreList::default().is_empty());
    }

    #[test]
    fn rejects_bad_entries_with_reasons() {
        for (bad, why) in [
            ("localhost", "example.com"),
            ("@", "empty"),
            ("a b@x.com", "spaces"),
            ("@x..com", "empty or too long"),
            ("-x.com", "starts or ends"),
            ("x_y.com", "letters, digits"),
            ("@x.com@y.com", "letters, digits"),
            ("a@@x.com", "more than one"),
        ] {
            let e = list(&["ok.com", bad]).unwrap_err();
            assert!(e.contains("entry 2") && e.contains(why), "{bad}: {e}");
        }
        // Internationalised domains are letters too.
        assert!(list(&["müller.de"]).unwrap().matches("x@müller.de"));
    }
}
