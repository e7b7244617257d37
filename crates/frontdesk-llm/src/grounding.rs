//! Whether a drafted reply says only what its sources say: every figure (amounts,
//! prices, durations, dates, times, versions), link, email address and name in the
//! reply must appear in the passages it cites (or in the visitor's own question).
//! Pure: no I/O.
//!
//! Tolerant of how a fact is written: `1,000` = `1000` = `1.000` = `1 000`,
//! `€9` = `9 €` = `9 euros` = `EUR 9`, `9.99` = `9,99`, `30.00` = `30`,
//! `2024-03-01` = `1 March 2024` = `March 1, 2024`, `08:00` = `8 am`,
//! `https://www.x.example/help/` = `x.example/help`; English number words in the
//! sources (`thirty days`) support the digits. Strict where it matters: `$9` is not
//! supported by `€9`, a name the sources never use is a claim even when it is a real
//! one. A capitalised word is taken for a name inside a sentence; at the start of a
//! sentence only when it cannot be an ordinary word there (an acronym, inner capitals
//! or digits like `OneDrive`, or the first word of a run of capitalised words like
//! `Google Drive`).

use std::collections::HashSet;

use frontdesk_core::text::fold;

/// The figures, links and names of `reply` that neither `cited` (the texts the reply
/// cites, plus anything else it may rely on: tool results, the agent's own name) nor
/// `question` contain, as written in the reply, each once, in order.
pub fn unsupported_claims<S: AsRef<str>>(reply: &str, cited: &[S], question: &str) -> Vec<String> {
    let mut support = Support::default();
    for text in cited.iter().map(AsRef::as_ref).chain(std::iter::once(question)) {
        support.add(text);
    }
    let mut out: Vec<String> = Vec::new();
    for claim in claims(reply) {
        if !claim.alts.iter().any(|alt| alt.iter().all(|f| support.has(f))) && !out.contains(&claim.raw) {
            out.push(claim.raw);
        }
    }
    out
}

/// One checkable fact, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Fact {
    /// A number, canonical (`1000`, `9.99`).
    Value(String),
    /// A number with its currency (`€`, `$`, `£`, `¥`, `₹`, `CHF`).
    Money(String, &'static str),
    Date {
        year: Option<u32>,
        month: u32,
        day: u32,
    },
    /// `h:mm`, 24-hour.
    Time(String),
    /// Three or more dotted parts (`2.3.1`).
    Version(String),
    /// A URL, domain or email, lowercased, without scheme, `www.` and trailing `/`.
    Link(String),
    /// A name, folded.
    Word(String),
}

/// A claim of the reply: supported when every fact of one of its readings is.
#[derive(Debug, Clone)]
struct Claim {
    /// Where it starts in the text, for the order of the report.
    pos: usize,
    raw: String,
    alts: Vec<Vec<Fact>>,
}

#[derive(Default)]
struct Support {
    values: HashSet<String>,
    /// Values written without a currency (they support any currency).
    plain: HashSet<String>,
    money: HashSet<(String, &'static str)>,
    dates: Vec<(Option<u32>, u32, u32)>,
    times: HashSet<String>,
    versions: HashSet<String>,
    words: HashSet<String>,
    /// Lowercased text, for links.
    text: String,
}

impl Support {
    fn add(&mut self, text: &str) {
        self.text.push_str(&text.to_lowercase());
        self.text.push('\n');
        for w in fold(text).split(' ').filter(|w| !w.is_empty()) {
            if let Some(n) = number_word(w) {
                self.values.insert(n.to_string());
                self.plain.insert(n.to_string());
            }
            self.words.insert(w.to_owned());
        }
        for claim in claims_of(text, true) {
            for fact in claim.alts.into_iter().flatten() {
                self.insert(fact);
            }
        }
    }

    fn insert(&mut self, fact: Fact) {
        match fact {
            Fact::Value(v) => {
                self.values.insert(v.clone());
                self.plain.insert(v);
            }
            Fact::Money(v, c) => {
                self.values.insert(v.clone());
                self.money.insert((v, c));
            }
            Fact::Date { year, month, day } => {
                self.dates.push((year, month, day));
                for n in year.into_iter().chain([month, day]) {
                    self.values.insert(n.to_string());
                    self.plain.insert(n.to_string());
                }
            }
            Fact::Time(t) => {
                if let Some((h, _)) = t.split_once(':') {
                    self.values.insert(h.to_owned());
                    self.plain.insert(h.to_owned());
                }
                self.times.insert(t);
            }
            Fact::Version(v) => {
                self.versions.insert(v);
            }
            Fact::Link(_) => {}
            Fact::Word(w) => {
                self.words.insert(w);
            }
        }
    }

    fn has(&self, fact: &Fact) -> bool {
        match fact {
            Fact::Value(v) => self.values.contains(v),
            Fact::Money(v, c) => self.plain.contains(v) || self.money.contains(&(v.clone(), *c)),
            Fact::Date { year, month, day } => self.dates.iter().any(|(y, m, d)| {
                m == month
                    && d == day
                    && match (year, y) {
                        (Some(a), Some(b)) => a == b,
                        (Some(a), None) => self.values.contains(&a.to_string()),
                        _ => true,
                    }
            }),
            Fact::Time(t) => self.times.contains(t),
            Fact::Version(v) => self.versions.contains(v) || self.text.contains(v.as_str()),
            Fact::Link(l) => self.text.contains(l.as_str()),
            Fact::Word(w) => self.words.contains(w),
        }
    }
}

/// The claims of a reply.
fn claims(text: &str) -> Vec<Claim> {
    claims_of(text, false)
}

/// A piece of text: a word or a number, with its byte span.
#[derive(Debug, Clone)]
struct Tok {
    start: usize,
    end: usize,
    number: bool,
}

/// Every claim of `text`; `all_words` also yields every word as a name (for the
/// support side, where any word may back a name).
fn claims_of(text: &str, all_words: bool) -> Vec<Claim> {
    let mut out = Vec::new();
    // Links and emails first, blanked so their digits and words are not read again.
    let mut rest = text.to_owned();
    for (start, end, fact) in links(text) {
        out.push(Claim { pos: start, raw: text[start..end].to_owned(), alts: vec![vec![fact]] });
        rest.replace_range(start..end, &" ".repeat(end - start));
    }
    let text = rest.as_str();
    let toks = tokens(text);
    let mut used = vec![false; toks.len()];

    // Dates with a month name: "May 3", "3 May 2024", "March 1, 2024", "3 de mayo".
    for (i, t) in toks.iter().enumerate() {
        if t.number {
            continue;
        }
        let Some(month) = month_of(&text[t.start..t.end]) else { continue };
        let day_at = |j: usize| -> Option<u32> {
            let d = toks.get(j).filter(|d| d.number)?;
            let v: u32 = text[d.start..d.end].parse().ok()?;
            (1..=31).contains(&v).then_some(v)
        };
        let glue = |j: usize| toks.get(j).is_some_and(|g| !g.number && is_date_glue(&text[g.start..g.end]));
        // day before the month: "3 May", "3 de mayo", "the 3rd of May"
        let before = if i >= 1 && day_at(i - 1).is_some() {
            Some(i - 1)
        } else if i >= 2 && glue(i - 1) && day_at(i - 2).is_some() {
            Some(i - 2)
        } else {
            None
        };
        let (day_idx, last) = match before {
            Some(d) => (d, i),
            None if day_at(i + 1).is_some() => (i + 1, i + 1),
            None if glue(i + 1) && day_at(i + 2).is_some() => (i + 2, i + 2),
            None => continue,
        };
        if used[day_idx] || used[i] {
            continue;
        }
        let day = day_at(day_idx).unwrap_or(1);
        let mut year = None;
        let mut end_idx = last;
        for j in [last + 1, last + 2] {
            if let Some(y) = toks.get(j) {
                if y.number {
                    let s = &text[y.start..y.end];
                    if s.len() == 4 {
                        if let Ok(v) = s.parse::<u32>() {
                            if (1900..2200).contains(&v) {
                                year = Some(v);
                                end_idx = j;
                            }
                        }
                    }
                    break;
                }
                if !is_date_glue(&text[y.start..y.end]) {
                    break;
                }
            }
        }
        let first = day_idx.min(i);
        for u in &mut used[first..=end_idx] {
            *u = true;
        }
        out.push(Claim {
            pos: toks[first].start,
            raw: text[toks[first].start..toks[end_idx].end].to_owned(),
            alts: vec![vec![Fact::Date { year, month, day }]],
        });
    }

    for (i, t) in toks.iter().enumerate() {
        if used[i] {
            continue;
        }
        let raw = &text[t.start..t.end];
        if t.number {
            if is_list_marker(text, t) {
                continue;
            }
            if let Some(claim) = number_claim(text, t) {
                out.push(claim);
            }
            continue;
        }
        if all_words || is_name(text, &toks, i) {
            out.push(Claim { pos: t.start, raw: raw.to_owned(), alts: vec![vec![Fact::Word(fold(raw))]] });
        }
    }
    out.sort_by_key(|c| c.pos);
    out
}

/// Words and numbers. A number runs over single separators between digits
/// (`1,000.50`, `2024-03-01`, `08:00`, `2.3.1`, `1 000`); a word is a run of letters
/// and digits that starts with a letter.
fn tokens(text: &str) -> Vec<Tok> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if c.is_ascii_digit() {
            let mut j = i;
            loop {
                while j < chars.len() && chars[j].1.is_ascii_digit() {
                    j += 1;
                }
                let sep = chars.get(j).map(|x| x.1);
                let next_digit = chars.get(j + 1).is_some_and(|x| x.1.is_ascii_digit());
                let ok = match sep {
                    Some(',' | '.' | '/' | '-' | ':' | '\'' | '\u{a0}' | '\u{202f}') => next_digit,
                    // "1 000": a space followed by exactly three digits that end the number.
                    Some(' ') => {
                        next_digit
                            && (j + 1..j + 4).all(|k| chars.get(k).is_some_and(|x| x.1.is_ascii_digit()))
                            && !chars.get(j + 4).is_some_and(|x| x.1.is_ascii_digit() || x.1 == '.' || x.1 == ',')
                            && text[start..chars[j].0].chars().all(|c| c.is_ascii_digit() || c == ' ')
                            && text[start..chars[j].0].split(' ').next().is_some_and(|g| g.len() <= 3)
                    }
                    _ => false,
                };
                if !ok {
                    break;
                }
                j += 1;
            }
            let end = chars.get(j).map_or(text.len(), |x| x.0);
            out.push(Tok { start, end, number: true });
            i = j;
        } else if c.is_alphabetic() {
            let mut j = i;
            while j < chars.len() && chars[j].1.is_alphanumeric() {
                j += 1;
            }
            let end = chars.get(j).map_or(text.len(), |x| x.0);
            out.push(Tok { start, end, number: false });
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// `1.` or `2)` at the start of a line: list numbering, not a claim.
fn is_list_marker(text: &str, t: &Tok) -> bool {
    let before = text[..t.start].rsplit('\n').next().unwrap_or("");
    let after = &text[t.end..];
    before.trim().is_empty()
        && (after.starts_with(". ") || after.starts_with(") ") || after == "." || after.starts_with(".\n"))
        && t.end - t.start <= 2
}

/// Canonical form of a number: no leading zeros, no trailing fractional zeros.
fn canonical(int: &str, frac: &str) -> String {
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        int.to_owned()
    } else {
        format!("{int}.{frac}")
    }
}

/// The readings of a number token (each reading: facts that must all be supported).
fn number_claim(text: &str, t: &Tok) -> Option<Claim> {
    let raw = &text[t.start..t.end];
    let parts: Vec<&str> = raw.split(|c: char| !c.is_ascii_digit()).collect();
    let seps: Vec<char> = raw.chars().filter(|c| !c.is_ascii_digit()).collect();
    let value = |v: String| Fact::Value(v);
    let mut alts: Vec<Vec<Fact>> = Vec::new();
    let after = &text[t.end..];
    if seps.is_empty() {
        let v = canonical(raw, "");
        // "8 am", "8pm"
        if let Some(h) = meridian(after, raw, "0") {
            alts.push(vec![Fact::Time(h)]);
        }
        alts.push(vec![money_or_value(text, t, v)]);
    } else if seps.iter().all(|c| *c == ':') {
        let h = parts[0];
        let m = parts.get(1).copied().unwrap_or("0");
        if let Some(t24) = meridian(after, h, m) {
            alts.push(vec![Fact::Time(t24)]);
        } else {
            alts.push(vec![Fact::Time(format!("{}:{m}", canonical(h, "")))]);
        }
        alts.push(parts.iter().map(|p| value(canonical(p, ""))).collect());
    } else if let Some(date) = numeric_date(&parts, &seps) {
        alts.extend(date.into_iter().map(|d| vec![d]));
    } else if seps.iter().all(|c| matches!(c, '/' | '-')) {
        // "24/7", "10-20", "555-1234": each number on its own.
        alts.push(parts.iter().map(|p| value(canonical(p, ""))).collect());
    } else if seps.iter().all(|c| matches!(c, ',' | '.' | '\'' | '\u{a0}' | '\u{202f}' | ' ')) {
        let grouped = |from: usize| parts[from..].iter().all(|g| g.len() == 3) && parts[0].len() <= 3;
        let first = seps[0];
        let same = seps.iter().all(|c| *c == first);
        if same && grouped(1) && !(parts[0] == "0" && matches!(first, '.' | ',')) {
            // 1,000 / 1.000 / 1 000 / 1'000 / 1,000,000
            alts.push(vec![money_or_value(text, t, canonical(&parts.concat(), ""))]);
            if first == ' ' {
                alts.push(parts.iter().map(|p| value(canonical(p, ""))).collect());
            }
        } else if same && parts.len() == 2 && matches!(first, '.' | ',') {
            alts.push(vec![money_or_value(text, t, canonical(parts[0], parts[1]))]);
        } else if same && first == '.' {
            alts.push(vec![Fact::Version(raw.to_owned())]);
        } else if !same && matches!(seps[seps.len() - 1], '.' | ',') && grouped_until_last(&parts) {
            // 1,234.56 / 1.234,56
            let n = parts.len();
            alts.push(vec![money_or_value(text, t, canonical(&parts[..n - 1].concat(), parts[n - 1]))]);
        } else {
            alts.push(parts.iter().map(|p| value(canonical(p, ""))).collect());
        }
    } else {
        alts.push(parts.iter().filter(|p| !p.is_empty()).map(|p| value(canonical(p, ""))).collect());
    }
    let raw = with_currency(text, t);
    Some(Claim { pos: t.start, raw, alts })
}

fn grouped_until_last(parts: &[&str]) -> bool {
    let n = parts.len();
    n >= 3 && parts[0].len() <= 3 && parts[1..n - 1].iter().all(|g| g.len() == 3)
}

/// `3/4/2024`, `2024-03-01`, `03.04.2024`: every valid reading as a date.
fn numeric_date(parts: &[&str], seps: &[char]) -> Option<Vec<Fact>> {
    if parts.len() != 3 || seps[0] != seps[1] || !matches!(seps[0], '/' | '-' | '.') {
        return None;
    }
    let n: Vec<u32> = parts.iter().map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let valid = |m: u32, d: u32| (1..=12).contains(&m) && (1..=31).contains(&d);
    if parts[0].len() == 4 {
        return valid(n[1], n[2]).then(|| vec![Fact::Date { year: Some(n[0]), month: n[1], day: n[2] }]);
    }
    if parts[2].len() != 4 && parts[2].len() != 2 {
        return None;
    }
    if parts[0].len() > 2 || parts[1].len() > 2 {
        return None;
    }
    let year = if parts[2].len() == 2 { 2000 + n[2] } else { n[2] };
    let mut out = Vec::new();
    if valid(n[1], n[0]) {
        out.push(Fact::Date { year: Some(year), month: n[1], day: n[0] });
    }
    if valid(n[0], n[1]) && n[0] != n[1] {
        out.push(Fact::Date { year: Some(year), month: n[0], day: n[1] });
    }
    (!out.is_empty()).then_some(out)
}

/// `8 am` → `8:00`, `8:30 pm` → `20:30`; `None` without am/pm.
fn meridian(after: &str, h: &str, m: &str) -> Option<String> {
    let a = after.trim_start().to_ascii_lowercase();
    let word_end = !a.chars().nth(2).is_some_and(|c| c.is_alphabetic());
    let pm = a.starts_with("p.m") || (a.starts_with("pm") && word_end);
    let am = a.starts_with("a.m") || (a.starts_with("am") && word_end);
    if !(pm || am) {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    if !(1..=12).contains(&h) {
        return None;
    }
    let h = match (pm, h) {
        (true, 12) => 12,
        (true, h) => h + 12,
        (false, 12) => 0,
        (false, h) => h,
    };
    Some(format!("{h}:{}", if m.len() == 1 { format!("{m}0") } else { m.to_owned() }))
}

/// The currency written next to the number, if any.
fn currency(text: &str, t: &Tok) -> Option<&'static str> {
    let before = text[..t.start].trim_end_matches([' ', '\u{a0}', '\u{202f}']);
    let after = text[t.end..].trim_start_matches([' ', '\u{a0}', '\u{202f}']);
    let symbol = |c: char| match c {
        '€' => Some("€"),
        '$' => Some("$"),
        '£' => Some("£"),
        '¥' => Some("¥"),
        '₹' => Some("₹"),
        _ => None,
    };
    if let Some(c) = before.chars().next_back().and_then(symbol) {
        return Some(c);
    }
    if let Some(c) = after.chars().next().and_then(symbol) {
        return Some(c);
    }
    let word_after: String = after.chars().take_while(|c| c.is_alphabetic()).collect::<String>().to_lowercase();
    let word_before: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphabetic())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<String>()
        .to_lowercase();
    for w in [word_after.as_str(), word_before.as_str()] {
        let c = match w {
            "eur" | "euro" | "euros" => Some("€"),
            "usd" | "dollar" | "dollars" | "dollari" | "dólares" | "dolares" => Some("$"),
            "gbp" | "pound" | "pounds" => Some("£"),
            "chf" => Some("CHF"),
            "jpy" | "yen" => Some("¥"),
            "inr" | "rupees" => Some("₹"),
            _ => None,
        };
        if c.is_some() {
            return c;
        }
    }
    None
}

fn money_or_value(text: &str, t: &Tok, v: String) -> Fact {
    match currency(text, t) {
        Some(c) => Fact::Money(v, c),
        None => Fact::Value(v),
    }
}

/// The number as written, with a currency symbol glued to it (`€9`, `9 €`).
fn with_currency(text: &str, t: &Tok) -> String {
    let raw = &text[t.start..t.end];
    let prev = text[..t.start].chars().next_back();
    let next = text[t.end..].chars().next();
    let is_sym = |c: Option<char>| c.is_some_and(|c| "€$£¥₹".contains(c));
    if is_sym(prev) {
        format!("{}{raw}", prev.unwrap_or_default())
    } else if is_sym(next) {
        format!("{raw}{}", next.unwrap_or_default())
    } else {
        raw.to_owned()
    }
}

/// URLs (`http://`, `https://`, `www.`), bare domains (`help.x.example/path`) and
/// email addresses, with trailing punctuation removed.
fn links(text: &str) -> Vec<(usize, usize, Fact)> {
    let mut out = Vec::new();
    let mut pos = 0;
    for piece in text.split_inclusive(|c: char| c.is_whitespace()) {
        let start_of_piece = pos;
        pos += piece.len();
        let word = piece.trim_end_matches(|c: char| c.is_whitespace());
        // Leading wrappers: ( < " « and a markdown link's "](".
        let lead = word.find(|c: char| c.is_alphanumeric()).unwrap_or(word.len());
        let mut start = lead;
        if let Some(i) = word.find("](") {
            start = i + 2;
        }
        let lower_all = word.to_lowercase();
        for scheme in ["https://", "http://", "www."] {
            if let Some(i) = lower_all.find(scheme) {
                start = start.min(i);
                break;
            }
        }
        let w = &word[start..];
        let w = w.trim_end_matches(|c: char| ".,;:!?)]}>'\"»”’*".contains(c));
        if w.is_empty() {
            continue;
        }
        let lower = w.to_lowercase();
        let is_email = lower.contains('@') && {
            let (user, domain) = lower.split_once('@').unwrap_or(("", ""));
            !user.is_empty() && domain_like(domain)
        };
        let is_url = lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www.");
        let is_domain = !is_email && !is_url && domain_like(lower.split(['/', '?', '#']).next().unwrap_or(""));
        if !(is_email || is_url || is_domain) {
            continue;
        }
        let norm = lower
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_start_matches("www.")
            .trim_end_matches('/')
            .to_owned();
        if norm.is_empty() {
            continue;
        }
        let s = start_of_piece + start;
        out.push((s, s + w.len(), Fact::Link(norm)));
    }
    out
}

/// `x.example`, `help.nimbus.example`: labels of letters, digits and hyphens, the
/// last one at least two letters.
fn domain_like(d: &str) -> bool {
    let labels: Vec<&str> = d.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
        && labels.last().is_some_and(|l| l.chars().count() >= 2 && l.chars().all(char::is_alphabetic))
        && labels[0].chars().any(char::is_alphabetic)
}

/// Whether the word at `i` is a name the reply asserts.
fn is_name(text: &str, toks: &[Tok], i: usize) -> bool {
    let t = &toks[i];
    let raw = &text[t.start..t.end];
    let mut chars = raw.chars();
    let Some(first) = chars.next() else { return false };
    if !first.is_uppercase() {
        // "iCloud", "eBay": inner capitals make a name.
        return raw.chars().skip(1).any(char::is_uppercase) && raw.chars().any(char::is_lowercase);
    }
    if ALWAYS_CAPITALISED.contains(&raw) {
        return false;
    }
    let acronym = raw.chars().count() >= 2 && raw.chars().all(|c| c.is_uppercase() || c.is_ascii_digit());
    let inner = raw.chars().skip(1).any(|c| c.is_uppercase() || c.is_ascii_digit()) && !acronym;
    if !sentence_start(text, t.start) {
        return true;
    }
    if acronym || inner {
        return true;
    }
    // "Google Drive is…": a capitalised word followed by another one inside the sentence.
    toks.get(i + 1).is_some_and(|n| {
        !n.number
            && text[n.start..n.end].chars().next().is_some_and(char::is_uppercase)
            && text[t.end..n.start].chars().all(|c| c == ' ')
            && !ALWAYS_CAPITALISED.contains(&&text[n.start..n.end])
    })
}

/// Words written with a capital in the middle of a sentence that name nothing.
/// (Currency codes are checked with their amount.)
const ALWAYS_CAPITALISED: &[&str] =
    &["I", "OK", "Ok", "AM", "PM", "Mr", "Mrs", "Ms", "Dr", "EUR", "USD", "GBP", "CHF", "JPY", "INR"];

/// Whether a word starting at `at` opens a sentence, a line, a list item or a quote
/// after a colon.
fn sentence_start(text: &str, at: usize) -> bool {
    let before = &text[..at];
    let trimmed =
        before.trim_end_matches(|c: char| c == ' ' || c == '\t' || "\"'“”‘’«»([*-•¿¡#>_`".contains(c) || c == '\u{a0}');
    let Some(last) = trimmed.chars().next_back() else { return true };
    if ".!?:;\n…".contains(last) {
        return true;
    }
    // "1) Open…", "a) Open…"
    if last == ')' {
        let inner = trimmed[..trimmed.len() - 1].rsplit(|c: char| c.is_whitespace()).next().unwrap_or("");
        return inner.chars().count() <= 2;
    }
    // A line break inside the trimmed run ("…\n- Open").
    before[trimmed.len()..].contains('\n')
}

/// A month name (English, Italian, Spanish, French; English abbreviations).
fn month_of(word: &str) -> Option<u32> {
    const MONTHS: [&[&str]; 12] = [
        &["january", "jan", "gennaio", "enero", "janvier"],
        &["february", "feb", "febbraio", "febrero", "fevrier"],
        &["march", "mar", "marzo", "mars"],
        &["april", "apr", "aprile", "abril", "avril"],
        &["may", "maggio", "mayo", "mai"],
        &["june", "jun", "giugno", "junio", "juin"],
        &["july", "jul", "luglio", "julio", "juillet"],
        &["august", "aug", "agosto", "aout"],
        &["september", "sep", "sept", "settembre", "septiembre", "septembre"],
        &["october", "oct", "ottobre", "octubre", "octobre"],
        &["november", "nov", "novembre", "noviembre"],
        &["december", "dec", "dicembre", "diciembre", "decembre"],
    ];
    let w = fold(word);
    MONTHS.iter().position(|names| names.contains(&w.as_str())).map(|i| i as u32 + 1)
}

/// Words that may stand between a day and its month or year ("3 de mayo", "the 3rd of May").
fn is_date_glue(word: &str) -> bool {
    matches!(fold(word).as_str(), "de" | "del" | "of" | "the" | "st" | "nd" | "rd" | "th" | "er" | "le")
}

/// English number words in the sources support the digits.
fn number_word(w: &str) -> Option<u32> {
    const WORDS: &[&str] = &[
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    if let Some(i) = WORDS.iter().position(|x| *x == w) {
        return Some(i as u32);
    }
    let tens = ["thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred"];
    tens.iter().position(|x| *x == w).map(|i| (i as u32 + 3) * 10)
}

#[cfg(test)]
mod tests {
    use super::unsupported_claims;

    fn check(reply: &str, cited: &[&str]) -> Vec<String> {
        unsupported_claims(reply, cited, "")
    }

    #[test]
    fn figures_written_differently_are_the_same_figure() {
        let ok: &[(&str, &str)] = &[
            ("Up to 1,000 files.", "You can upload 1000 files."),
            ("Up to 1000 files.", "You can upload 1,000 files."),
            ("Up to 1.000 file.", "Puoi caricare 1000 file."),
            ("Up to 1 000 files.", "Up to 1,000 files."),
            ("It costs €9 a month.", "Starter: 9 € per month."),
            ("It costs 9 € a month.", "Starter costs €9."),
            ("It costs EUR 9.", "Starter costs 9 euros."),
            ("It costs €9.99.", "Prezzo: 9,99 € al mese."),
            ("It costs 30 euros.", "It costs €30.00."),
            ("Since 2024-03-01.", "Since 1 March 2024."),
            ("Since March 1, 2024.", "Since 2024-03-01."),
            ("It arrives on May 3.", "Your order will arrive on May 3."),
            ("Open 08:00–20:00.", "Live chat: 8 am to 8 pm."),
            ("Open 8:00 to 20:00.", "Live chat is open 08:00-20:00."),
            ("Kept for 30 days.", "Files stay thirty days in the Trash."),
            ("1. Open Settings.\n2. Click Export.", "Open Settings and click Export."),
            ("Version 2.3.1 fixes it.", "Fixed in version 2.3.1."),
            ("You need Windows 11 22H2.", "Requires Windows 11, version 22H2 or later."),
            ("Uptime is 99.9%.", "We guarantee 99,9 % uptime."),
            ("Total: 1,234.56 €.", "Totale: 1.234,56 €."),
        ];
        for (reply, source) in ok {
            assert_eq!(check(reply, &[source]), Vec::<String>::new(), "{reply:?} from {source:?}");
        }
    }

    #[test]
    fn invented_figures_are_claims() {
        let bad: &[(&str, &str, &[&str])] = &[
            ("It costs $9 a month.", "Starter costs €9 a month.", &["$9"]),
            ("It costs €12 a month.", "Starter costs €9 a month.", &["€12"]),
            ("Up to 10,000 files.", "Up to 1,000 files.", &["10,000"]),
            ("Up to 1,000 files.", "Up to 1 file.", &["1,000"]),
            ("It costs €9.90.", "It costs €9.", &["€9.90"]),
            ("Kept for 60 days.", "Kept for 30 days.", &["60"]),
            ("Since 2024-03-02.", "Since 1 March 2024.", &["2024-03-02"]),
            ("Since March 1, 2025.", "Since 1 March 2024.", &["March 1, 2025"]),
            ("Open 09:00 to 20:00.", "Open 8 am to 8 pm.", &["09:00"]),
            ("Version 2.4.0 fixes it.", "Fixed in version 2.3.1.", &["2.4.0"]),
        ];
        for (reply, source, want) in bad {
            assert_eq!(check(reply, &[source]), want.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{reply:?}");
        }
    }

    #[test]
    fn links_and_emails_must_be_in_the_sources() {
        let src = "Write to billing@nimbus.example or see https://help.nimbus.example/billing/refunds.";
        assert!(check("See https://help.nimbus.example/billing/refunds.", &[src]).is_empty());
        assert!(check("See (https://help.nimbus.example/billing/refunds).", &[src]).is_empty());
        assert!(check("See help.nimbus.example/billing/refunds/, then reply.", &[src]).is_empty());
        assert!(check("See [refunds](https://www.help.nimbus.example/billing/refunds)!", &[src]).is_empty());
        assert!(check("Write to Billing@Nimbus.example.", &[src]).is_empty());
        assert_eq!(check("See https://nimbus.example/pricing.", &[src]), vec!["https://nimbus.example/pricing"]);
        assert_eq!(check("Write to support@nimbus.example!", &[src]), vec!["support@nimbus.example"]);
        assert_eq!(check("Go to nimbus-help.example, e.g. today.", &[src]), vec!["nimbus-help.example"]);
        // Digits inside a link are not read as figures.
        assert!(check("See https://help.nimbus.example/billing/refunds?id=42.", &[src]).len() == 1);
    }

    #[test]
    fn names_must_be_in_the_sources_or_the_question() {
        let src = "Nimbus Drive syncs with Dropbox. The Starter plan includes 3 users.";
        // Ordinary words at the start of a sentence are not names.
        assert!(check("Yes. The Starter plan includes 3 users.", &[src]).is_empty());
        assert!(check("Sure! Nimbus Drive syncs with Dropbox.", &[src]).is_empty());
        assert_eq!(check("It also syncs with Google Drive.", &[src]), vec!["Google"]);
        assert_eq!(check("It also syncs with Google Photos.", &[src]), vec!["Google", "Photos"]);
        assert!(check("It syncs with dropbox and DROPBOX.", &[src]).is_empty());
        // At a sentence start: a run of capitalised words, an acronym or inner capitals.
        assert_eq!(check("Google Drive works too.", &[src]), vec!["Google"]);
        assert_eq!(check("OneDrive works too.", &[src]), vec!["OneDrive"]);
        assert_eq!(check("SAML is supported.", &[src]), vec!["SAML"]);
        assert_eq!(check("Unfortunately not. Contact us.", &[src]), Vec::<String>::new());
        // I, OK are not names; the question's words are supported.
        assert!(check("I think it is OK.", &[src]).is_empty());
        assert!(unsupported_claims("Yes, Nimbus Notes works offline.", &[src], "Does Nimbus Notes work offline?")
            .is_empty());
        assert_eq!(
            unsupported_claims(
                "The capital of France is Paris.",
                &["Nimbus Drive help"],
                "What is the capital of France?"
            ),
            vec!["Paris"]
        );
        // Accents and case do not matter; list items and quotes start sentences.
        assert!(check("- Starter includes 3 users\n- \"Nimbus\" works", &[src]).is_empty());
        assert!(check("Ça marche avec Dropbox.", &["ca marche avec dropbox"]).is_empty());
    }

    #[test]
    fn a_story_with_nothing_in_common_is_all_claims() {
        let claims = unsupported_claims(
            "Nimbus Notes was founded in 1998 by John Smith in Seattle and costs $4.99 per month.",
            &["Nimbus Drive plans: Free, Starter (€6), Business (€12)."],
            "How much does Nimbus Notes cost?",
        );
        assert_eq!(claims, vec!["1998", "John", "Smith", "Seattle", "$4.99"]);
    }
}
