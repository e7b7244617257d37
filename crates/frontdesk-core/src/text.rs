//! Text normalisation shared by matching and detection: case folding, accent
//! stripping, punctuation removal and a light, language-agnostic stemmer.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Lowercases, strips accents and turns every non-alphanumeric run into one
/// space. `"¿Dónde  está?"` becomes `"donde esta"`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else if c == '\'' || c == '’' {
            // "l'account" -> "l account": elisions split words in it/fr.
            pending_space = true;
        } else {
            pending_space = true;
        }
    }
    out
}

/// Folded words of `s`.
pub fn words(s: &str) -> Vec<String> {
    fold(s).split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// Function words of English, Italian, Spanish and French that carry no topic.
const STOPWORDS: &[&str] = &[
    // English
    "a", "an", "the", "is", "are", "was", "were", "be", "been", "am", "do", "does", "did", "i", "me", "my", "we", "our",
    "you", "your", "it", "its", "to", "of", "in", "on", "for", "and", "or", "with", "at", "by", "from", "as", "that",
    "this", "there", "can", "could", "would", "should", "will", "what", "how", "when", "where", "which", "who", "why",
    "if", "so", "any", "have", "has", "had", "please", "hi", "hello", "hey", "thanks", "thank", "about", "get", "s",
    "t", "m", "re", "ve", "d", "ll", "not", "no", "yes", "need", "want", "some", "just", // Italian
    "il", "lo", "la", "le", "li", "gli", "un", "uno", "una", "di", "da", "del", "della", "dei", "delle", "al", "alla",
    "ai", "alle", "nel", "nella", "che", "chi", "e", "ed", "o", "per", "con", "su", "sul", "sulla", "mi", "ti", "si",
    "ci", "vi", "non", "come", "cosa", "quando", "dove", "quale", "quali", "quanto", "sono", "ho", "ha", "hanno",
    "mio", "mia", "miei", "posso", "puo", "vorrei", "ciao", "grazie", "l", "un", "c", "e", "anche",
    // Spanish
    "el", "los", "las", "uno", "unos", "unas", "de", "del", "y", "en", "por", "para", "con", "que", "como", "cuando",
    "donde", "cual", "cuanto", "es", "son", "mi", "mis", "tu", "tus", "su", "sus", "me", "te", "se", "nos", "hola",
    "gracias", "puedo", "quiero", "esta", "estoy", "hay", "lo", "al", "yo", // French
    "le", "les", "des", "du", "au", "aux", "et", "ou", "pour", "avec", "sur", "dans", "que", "qui", "quoi", "comment",
    "quand", "est", "sont", "je", "j", "tu", "il", "elle", "nous", "vous", "mon", "ma", "mes", "ton", "votre", "vos",
    "ce", "cette", "ces", "ne", "pas", "bonjour", "merci", "puis", "peux", "peut", "qu", "n", "d", "est", "suis", "ai",
];

pub fn is_stopword(w: &str) -> bool {
    STOPWORDS.contains(&w)
}

/// A light suffix stripper good enough for matching plural and gender
/// variants in en/it/es/fr ("prices" ~ "price", "prezzi" ~ "prezzo").
pub fn stem(w: &str) -> String {
    let chars: Vec<char> = w.chars().collect();
    if chars.len() <= 3 || chars.iter().all(|c| c.is_ascii_digit()) {
        return w.to_owned();
    }
    let s: &str = w;
    for suffix in ["ies", "es", "s", "i", "e", "a", "o"] {
        if let Some(base) = s.strip_suffix(suffix) {
            if base.chars().count() >= 3 {
                return base.to_owned();
            }
        }
    }
    s.to_owned()
}

/// Content terms of `s`: folded, stopwords removed, stemmed.
pub fn terms(s: &str) -> Vec<String> {
    words(s).into_iter().filter(|w| !is_stopword(w)).map(|w| stem(&w)).collect()
}

/// Edit distance counting an adjacent transposition as one edit (optimal
/// string alignment), or `None` when it exceeds `max`. Words of up to 32
/// characters are compared without allocating (three rolling rows).
pub fn edit_distance_within(a: &str, b: &str, max: usize) -> Option<usize> {
    const N: usize = 33;
    let mut ab = ['\0'; N];
    let mut bb = ['\0'; N];
    let (mut la, mut lb) = (0, 0);
    for c in a.chars() {
        if la + 1 == N {
            return slow_edit_distance(a, b, max);
        }
        ab[la] = c;
        la += 1;
    }
    for c in b.chars() {
        if lb + 1 == N {
            return slow_edit_distance(a, b, max);
        }
        bb[lb] = c;
        lb += 1;
    }
    if la.abs_diff(lb) > max {
        return None;
    }
    let (a, b) = (&ab[..la], &bb[..lb]);
    let mut prev2 = [0usize; N];
    let mut prev = [0usize; N];
    let mut cur = [0usize; N];
    for (j, cell) in prev.iter_mut().enumerate().take(lb + 1) {
        *cell = j;
    }
    for i in 1..=la {
        cur[0] = i;
        for j in 1..=lb {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
        }
        prev2 = prev;
        prev = cur;
    }
    let d = prev[lb];
    (d <= max).then_some(d)
}

/// The same distance for long words, with a full matrix.
fn slow_edit_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1).min(rows[i][j - 1] + 1).min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    let d = rows[a.len()][b.len()];
    (d <= max).then_some(d)
}

/// Whether two folded terms are the same word allowing for a typo: for words
/// of 4 characters only swapped letters ("tlak"), one edit for 5 to 8
/// characters, two for 9 or more.
pub fn fuzzy_eq(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    // Cheap rejects first: this runs for every pair of terms.
    if a.len().abs_diff(b.len()) > 4 {
        return false;
    }
    let n = if a.is_ascii() && b.is_ascii() { a.len().min(b.len()) } else { a.chars().count().min(b.chars().count()) };
    match n {
        0..=3 => false,
        4 => {
            if a.len() != b.len() {
                return false;
            }
            let (mut x, mut y) = ([0u8; 4], [0u8; 4]);
            if a.is_ascii() && b.is_ascii() {
                x.copy_from_slice(a.as_bytes());
                y.copy_from_slice(b.as_bytes());
                x.sort_unstable();
                y.sort_unstable();
                x == y && edit_distance_within(a, b, 1).is_some()
            } else {
                false
            }
        }
        5..=8 => {
            // One edit leaves the first or the last character in place.
            let same_end = a.chars().next() == b.chars().next() || a.chars().next_back() == b.chars().next_back();
            same_end && edit_distance_within(a, b, 1).is_some()
        }
        _ => edit_distance_within(a, b, 2).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_strips_case_accents_and_punctuation() {
        assert_eq!(fold("¿Dónde  ESTÁ mi pedido?!"), "donde esta mi pedido");
        assert_eq!(fold("l'opérateur"), "l operateur");
        assert_eq!(fold("  "), "");
    }

    #[test]
    fn terms_drop_stopwords_and_stem() {
        assert_eq!(terms("What are the prices?"), vec!["pric"]);
        assert_eq!(terms("Quali sono i prezzi"), vec!["prezz"]);
    }

    #[test]
    fn fuzzy_allows_typos_by_length() {
        assert!(fuzzy_eq("password", "pasword"));
        assert!(fuzzy_eq("subscription", "subscirption"));
        assert!(!fuzzy_eq("plan", "plen"));
        assert!(!fuzzy_eq("refund", "rebind"));
        assert!(fuzzy_eq("tlak", "talk"));
        assert!(fuzzy_eq("humna", "human"));
        assert!(!fuzzy_eq("cost", "host"));
        assert!(fuzzy_eq("xassword", "password"), "a typo in the first letter");
        assert!(fuzzy_eq("passworx", "password"), "a typo in the last letter");
        assert!(!fuzzy_eq("xasswory", "password"));
    }

    #[test]
    fn edit_distance_matches_the_full_matrix() {
        let words = [
            "", "a", "ab", "ba", "abc", "acb", "kitten", "sitting", "passwrod", "password", "humna", "human", "àccent",
            "accent",
        ];
        for a in words {
            for b in words {
                for max in 0..4 {
                    assert_eq!(edit_distance_within(a, b, max), slow_edit_distance(a, b, max), "{a} {b} {max}");
                }
            }
        }
        let long = "x".repeat(40);
        assert_eq!(edit_distance_within(&long, &long, 0), Some(0));
    }
}
