//! Language identification for chunks and customer questions.
//!
//! Long texts are identified with `whatlang` (trigram profiles, restricted to
//! the languages we stem: [`SUPPORTED`]); short ones — a five-word question,
//! a heading — mostly by function words and letters that only some languages
//! use, with `whatlang` as one more vote. Codes are ISO 639-1, `"und"` when
//! the text does not tell.

use frontdesk_core::text::words;
use std::collections::HashMap;
use std::sync::OnceLock;
use whatlang::{Detector, Lang as WLang};

/// Languages we tell apart (and stem), as ISO 639-1 codes.
pub const SUPPORTED: [&str; 8] = ["en", "it", "es", "fr", "de", "pt", "sv", "nl"];

/// The code for an unknown language.
pub const UND: &str = "und";

const WHATLANG: [WLang; 8] =
    [WLang::Eng, WLang::Ita, WLang::Spa, WLang::Fra, WLang::Deu, WLang::Por, WLang::Swe, WLang::Nld];

/// `code` as one of the `'static` codes of [`SUPPORTED`], or `"und"`.
pub fn normalize(code: &str) -> &'static str {
    let code = code.trim();
    SUPPORTED.iter().copied().find(|c| c.eq_ignore_ascii_case(code)).unwrap_or(UND)
}

/// Function words (accent-folded, lowercase) typical of each language, in
/// [`SUPPORTED`] order. A word listed for several languages counts as a
/// fraction of a vote for each.
const MARKERS: [&[&str]; 8] = [
    // en
    &[
        "the", "is", "are", "was", "were", "my", "i", "you", "your", "what", "how", "can", "do", "does", "did", "with",
        "and", "to", "of", "it", "this", "that", "please", "want", "need", "where", "when", "why", "have", "has",
        "get", "there", "an", "for", "on", "from", "be", "will", "would", "should", "could", "our", "we", "not", "don",
        "which", "who", "any", "after", "before", "still", "just", "if", "or", "hello", "hi", "thanks", "there",
        "they", "been", "but", "into", "about", "much", "many", "am", "im", "its", "all", "out", "some", "than",
        "them", "their", "these", "those", "also", "only", "does", "doesn", "isn", "cant", "dont", "without",
        "between", "same", "every", "each",
    ],
    // it
    &[
        "il",
        "lo",
        "gli",
        "di",
        "del",
        "della",
        "dei",
        "delle",
        "degli",
        "che",
        "non",
        "sono",
        "mio",
        "mia",
        "miei",
        "mie",
        "come",
        "posso",
        "vorrei",
        "per",
        "con",
        "una",
        "uno",
        "un",
        "ho",
        "ha",
        "hanno",
        "perche",
        "grazie",
        "ciao",
        "cosa",
        "su",
        "quanto",
        "quanti",
        "quando",
        "dove",
        "voglio",
        "mi",
        "ci",
        "e",
        "nel",
        "nella",
        "nei",
        "sul",
        "sulla",
        "questo",
        "questa",
        "anche",
        "ancora",
        "piu",
        "gia",
        "dopo",
        "ogni",
        "fare",
        "si",
        "puo",
        "essere",
        "stato",
        "alla",
        "al",
        "dal",
        "dalla",
        "agli",
        "io",
        "abbiamo",
        "nostro",
        "nostra",
        "tutti",
        "tutte",
        "tutto",
        "solo",
        "senza",
        "ma",
        "se",
        "o",
        "qual",
        "quale",
        "quali",
        "devo",
        "riesco",
        "buongiorno",
        "sto",
        "hai",
        "vostro",
        "vostra",
        "li",
        "ne",
        "c",
        "l",
        "all",
        "dell",
        "nell",
        "sull",
        "un",
        "po",
        "allora",
        "quindi",
        "pero",
        "fino",
        "tra",
        "fra",
        "dopo",
        "prima",
        "molto",
        "sempre",
        "adesso",
        "ora",
        "salve",
    ],
    // es
    &[
        "el", "los", "las", "la", "de", "del", "que", "mi", "mis", "como", "puedo", "quiero", "para", "con", "una",
        "un", "es", "por", "hola", "gracias", "donde", "cuanto", "cuantos", "tengo", "esta", "estan", "y", "se",
        "necesito", "cual", "usted", "su", "sus", "pero", "tambien", "hay", "ya", "muy", "al", "lo", "nuestro",
        "nuestra", "nos", "cuando", "si", "puede", "hacer", "tiene", "son", "estoy", "desde", "hasta", "sin", "mas",
        "esto", "este", "eso", "ese", "porque", "pasa", "tenemos", "podemos", "hace", "todos", "todas", "todo",
        "despues", "antes", "buenas", "buenos", "dias", "ahora", "otro", "otra", "mucho", "fue", "le", "les", "yo",
        "tu", "ni", "o", "aunque", "entre", "sobre", "hemos", "han", "he",
    ],
    // fr
    &[
        "le", "les", "la", "des", "de", "du", "je", "j", "est", "mon", "ma", "mes", "comment", "pour", "avec", "une",
        "un", "et", "vous", "votre", "vos", "bonjour", "merci", "ou", "quoi", "puis", "ai", "pas", "ne", "au", "aux",
        "quel", "quelle", "quels", "quelles", "suis", "qu", "d", "l", "c", "n", "s", "nous", "notre", "nos", "sur",
        "dans", "ce", "cette", "ces", "il", "elle", "on", "peux", "peut", "faire", "mais", "plus", "tout", "tous",
        "sont", "avez", "avoir", "ete", "y", "qui", "que", "est", "sans", "aussi", "encore", "apres", "avant",
        "depuis", "chez", "leur", "leurs", "doit", "dois", "faut", "etre", "fait", "veux", "voudrais", "bien", "tres",
        "alors", "donc", "ca", "cela", "ceci", "entre", "si", "en",
    ],
    // de
    &[
        "der", "die", "das", "den", "dem", "des", "und", "ist", "ich", "mein", "meine", "meinen", "meinem", "wie",
        "kann", "konnen", "nicht", "mit", "fur", "ein", "eine", "einen", "einem", "zu", "von", "auf", "es", "sie",
        "wir", "ihr", "was", "wo", "wann", "warum", "sind", "habe", "hat", "haben", "bitte", "danke", "hallo", "auch",
        "noch", "oder", "aber", "wenn", "mir", "mich", "sich", "werden", "wird", "kein", "keine", "bei", "aus", "nach",
        "im", "am", "zum", "zur", "dass", "nur", "ihre", "ihren", "unser", "unsere", "schon", "wieder", "gibt", "man",
        "welche", "welcher", "muss", "mochte", "durch", "uber", "ohne", "sehr", "jetzt", "dann", "guten", "tag",
    ],
    // pt
    &[
        "o", "os", "a", "as", "de", "do", "da", "dos", "das", "que", "nao", "e", "meu", "minha", "meus", "minhas",
        "como", "posso", "quero", "para", "com", "uma", "um", "em", "no", "na", "nos", "nas", "por", "ola", "obrigado",
        "obrigada", "onde", "quanto", "tenho", "esta", "se", "voce", "voces", "preciso", "qual", "seu", "sua", "mas",
        "tambem", "ja", "mais", "ao", "aos", "pelo", "pela", "isso", "isto", "ser", "fazer", "foi", "sao", "tem",
        "consigo", "ainda", "quando", "porque", "depois", "antes", "todos", "todas", "nosso", "nossa", "estou", "ele",
        "ela", "eu", "muito", "sem", "ate", "bom", "dia", "entre", "sobre", "ou",
    ],
    // sv
    &[
        "och", "att", "det", "ar", "jag", "du", "en", "ett", "som", "pa", "for", "med", "inte", "har", "kan", "vill",
        "hur", "vad", "var", "min", "mitt", "mina", "den", "av", "till", "om", "hej", "tack", "eller", "men", "ocksa",
        "vi", "ni", "de", "ska", "skulle", "hade", "fran", "far", "varfor", "nar", "nagot", "nagon", "mig", "dig",
        "sig", "vara", "finns", "efter", "innan", "utan", "alla", "bara", "mycket", "kan", "kunna", "hos", "vart",
        "vara", "era", "er", "sitt", "sin", "sina", "dem",
    ],
    // nl
    &[
        "de", "het", "een", "en", "van", "is", "ik", "mijn", "hoe", "kan", "niet", "met", "voor", "op", "te", "dat",
        "die", "wat", "waar", "wanneer", "waarom", "zijn", "heb", "heeft", "hebben", "je", "jij", "u", "uw", "we",
        "wij", "ook", "nog", "maar", "of", "als", "er", "naar", "bij", "graag", "bedankt", "hallo", "kunt", "kunnen",
        "wil", "moet", "dit", "geen", "om", "onze", "ons", "worden", "wordt", "zou", "mij", "jullie", "hun", "al",
        "alle", "na", "dan", "nu", "deze", "welke", "zonder", "tussen", "veel", "goed", "dag",
    ],
];

/// word -> (language index, weight) votes, weight = 1 / number of languages listing it.
fn marker_table() -> &'static HashMap<&'static str, Vec<(usize, f32)>> {
    static TABLE: OnceLock<HashMap<&'static str, Vec<(usize, f32)>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut langs_of: HashMap<&'static str, Vec<usize>> = HashMap::new();
        for (i, list) in MARKERS.iter().enumerate() {
            for w in list.iter() {
                let w = w.trim();
                let e = langs_of.entry(w).or_default();
                if !e.contains(&i) {
                    e.push(i);
                }
            }
        }
        langs_of
            .into_iter()
            .map(|(w, ls)| {
                let weight = 1.0 / ls.len() as f32;
                (w, ls.into_iter().map(|l| (l, weight)).collect())
            })
            .collect()
    })
}

/// Votes from letters that only some of the languages use, per character.
fn char_votes(c: char) -> &'static [(usize, f32)] {
    // Indexes into SUPPORTED: en 0, it 1, es 2, fr 3, de 4, pt 5, sv 6, nl 7.
    match c {
        'ñ' | '¿' | '¡' => &[(2, 2.0)],
        'ã' | 'õ' => &[(5, 2.0)],
        'ç' => &[(3, 0.6), (5, 0.6)],
        'ê' => &[(3, 0.5), (5, 0.5)],
        'è' => &[(3, 0.5), (1, 0.5)],
        'à' => &[(3, 0.35), (1, 0.35), (5, 0.3)],
        'ò' | 'ì' => &[(1, 1.5)],
        'ù' => &[(1, 0.5), (3, 0.5)],
        'â' | 'ô' => &[(3, 0.5), (5, 0.5)],
        'î' | 'û' | 'œ' => &[(3, 1.0)],
        'ë' | 'ï' => &[(3, 0.5), (7, 0.5)],
        'ß' => &[(4, 2.0)],
        'ü' => &[(4, 1.0)],
        'ä' | 'ö' => &[(4, 0.5), (6, 0.5)],
        'å' => &[(6, 2.0)],
        'á' | 'í' | 'ó' | 'ú' => &[(2, 0.4), (5, 0.3)],
        _ => &[],
    }
}

/// Votes from word endings typical of one language (on folded words of at
/// least five letters).
const SUFFIXES: &[(&str, usize, f32)] = &[
    ("ing", 0, 0.5),
    ("zione", 1, 0.6),
    ("zioni", 1, 0.6),
    ("cion", 2, 0.5),
    ("ciones", 2, 0.5),
    ("cao", 5, 0.6),
    ("coes", 5, 0.6),
    ("ung", 4, 0.5),
    ("ungen", 4, 0.5),
    ("keit", 4, 0.5),
    ("heit", 4, 0.5),
    ("lich", 4, 0.4),
    ("heid", 7, 0.6),
    ("lijk", 7, 0.6),
];

/// Votes from elisions and contractions (`un'app`, `qu'il`, `don't`).
fn apostrophe_votes(token: &str) -> Option<(usize, f32)> {
    const IT: &[&str] = &["c'è", "un'", "dell'", "nell'", "all'", "sull'", "dall'", "quest'", "quell'", "dev'"];
    const FR: &[&str] = &["qu'", "j'", "n'", "s'", "c'est", "jusqu'", "lorsqu'", "puisqu'"];
    const EN: &[&str] = &["n't", "'s", "'m", "'re", "'ll", "'ve", "'d"];
    if IT.iter().any(|p| token.starts_with(p)) {
        Some((1, 1.0))
    } else if FR.iter().any(|p| token.starts_with(p)) {
        Some((3, 1.0))
    } else if EN.iter().any(|p| token.ends_with(p)) {
        Some((0, 1.0))
    } else {
        None
    }
}

/// Function-word, word-ending and letter cues, per language of [`SUPPORTED`].
fn cue_scores(text: &str) -> [f32; 8] {
    let table = marker_table();
    let mut scores = [0.0f32; 8];
    for w in words(text) {
        if let Some(votes) = table.get(w.as_str()) {
            for &(l, weight) in votes {
                scores[l] += weight;
            }
        } else if w.len() >= 5 && w.chars().all(char::is_alphabetic) {
            if let Some(&(_, l, weight)) = SUFFIXES.iter().find(|(s, _, _)| w.ends_with(s)) {
                scores[l] += weight;
            }
        }
    }
    let lower = text.to_lowercase().replace('\u{2019}', "'");
    for token in lower.split_whitespace() {
        let token = token.trim_start_matches(|c: char| !c.is_alphanumeric());
        if token.contains('\'') {
            if let Some((l, weight)) = apostrophe_votes(token) {
                scores[l] += weight;
            }
        }
    }
    for c in lower.chars() {
        for &(l, weight) in char_votes(c) {
            scores[l] += weight;
        }
    }
    scores
}

fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| Detector::with_allowlist(WHATLANG.to_vec()))
}

/// whatlang's guess among [`SUPPORTED`]: (language index, confidence 0..1).
fn trigram_guess(text: &str) -> Option<(usize, f32)> {
    let info = detector().detect(text)?;
    let i = WHATLANG.iter().position(|l| *l == info.lang())?;
    Some((i, info.confidence() as f32))
}

fn argmax(scores: &[f32; 8]) -> (usize, f32, f32) {
    let mut best = (0, f32::MIN);
    let mut second = f32::MIN;
    for (i, &s) in scores.iter().enumerate() {
        if s > best.1 {
            second = best.1;
            best = (i, s);
        } else if s > second {
            second = s;
        }
    }
    (best.0, best.1, second)
}

/// Combined evidence for each language: cue scores plus whatlang's vote,
/// which weighs more the longer the text is.
fn combined(text: &str) -> ([f32; 8], usize) {
    let n_words = words(text).len();
    let mut scores = cue_scores(text);
    if let Some((l, confidence)) = trigram_guess(text) {
        // A confident guess is worth about one function word on a 3-word
        // text and as much as the function words themselves (a third of any
        // text) on long ones; whatlang's confidence is low when it is wrong.
        let weight = (n_words as f32 * 0.3).clamp(1.0, 400.0);
        scores[l] += weight * confidence;
    }
    (scores, n_words)
}

/// The language of a passage (a chunk, a document): ISO 639-1 among
/// [`SUPPORTED`], or `"und"` when it is too short or says nothing telling
/// (numbers, codes, a product name).
pub fn detect(text: &str) -> &'static str {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    if letters < 3 {
        return UND;
    }
    // Long text: trust a reliable trigram guess.
    if letters >= 120 {
        if let Some(info) = detector().detect(text) {
            if info.is_reliable() {
                if let Some(i) = WHATLANG.iter().position(|l| *l == info.lang()) {
                    return SUPPORTED[i];
                }
            }
        }
    }
    let (scores, n_words) = combined(text);
    let (best, top, second) = argmax(&scores);
    // At least one clear function word (or telling letter) and a margin.
    let min = if n_words <= 3 { 0.9 } else { 1.0 };
    if top >= min && top > second * 1.15 {
        SUPPORTED[best]
    } else {
        UND
    }
}

/// The language of a short customer message, `default` (normalized to a
/// supported code, else `"und"`) when nothing in it tells.
pub fn detect_query(text: &str, default: &str) -> &'static str {
    let (scores, _) = combined(text);
    let (best, top, second) = argmax(&scores);
    if top >= 0.5 && top > second {
        SUPPORTED[best]
    } else {
        normalize(default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_paragraphs_in_every_supported_language() {
        let cases = [
            ("en", "To restore a deleted file, open the Trash from the sidebar, select the file and click Restore. Files stay in the Trash for 30 days before they are removed for good."),
            ("it", "Per ripristinare un file eliminato, apri il Cestino dalla barra laterale, seleziona il file e fai clic su Ripristina. I file restano nel Cestino per 30 giorni prima di essere eliminati definitivamente."),
            ("es", "Para restaurar un archivo eliminado, abre la Papelera desde la barra lateral, selecciona el archivo y haz clic en Restaurar. Los archivos permanecen en la Papelera durante 30 días."),
            ("fr", "Pour restaurer un fichier supprimé, ouvrez la Corbeille depuis la barre latérale, sélectionnez le fichier et cliquez sur Restaurer. Les fichiers restent dans la Corbeille pendant 30 jours."),
            ("de", "Um eine gelöschte Datei wiederherzustellen, öffnen Sie den Papierkorb in der Seitenleiste, wählen Sie die Datei aus und klicken Sie auf Wiederherstellen. Dateien bleiben 30 Tage im Papierkorb."),
            ("pt", "Para restaurar um arquivo excluído, abra a Lixeira na barra lateral, selecione o arquivo e clique em Restaurar. Os arquivos ficam na Lixeira por 30 dias antes de serem apagados."),
            ("sv", "För att återställa en raderad fil öppnar du papperskorgen i sidofältet, markerar filen och klickar på Återställ. Filer ligger kvar i papperskorgen i 30 dagar innan de tas bort."),
            ("nl", "Om een verwijderd bestand te herstellen, open je de prullenbak in de zijbalk, selecteer je het bestand en klik je op Herstellen. Bestanden blijven 30 dagen in de prullenbak."),
        ];
        for (want, text) in cases {
            assert_eq!(detect(text), want, "{text}");
        }
    }

    #[test]
    fn too_short_or_neutral_text_is_und() {
        assert_eq!(detect(""), "und");
        assert_eq!(detect("42"), "und");
        assert_eq!(detect("ERR-429 / 22H2"), "und");
        assert_eq!(detect("Nimbus Drive"), "und");
    }

    #[test]
    fn detects_short_questions() {
        let cases = [
            ("en", "how do I reset my password?"),
            ("en", "api keeps returning 429"),
            ("it", "come recupero un file cancellato?"),
            ("it", "posso avere la fattura elettronica?"),
            ("es", "¿cómo cambio mi plan?"),
            ("es", "no puedo iniciar sesión en la app"),
            ("fr", "comment changer mon adresse e-mail ?"),
            ("fr", "je ne peux pas partager le dossier"),
            ("de", "wie kann ich mein Passwort ändern?"),
            ("pt", "não consigo entrar na minha conta"),
            ("sv", "hur ändrar jag mitt lösenord?"),
            ("nl", "hoe kan ik mijn wachtwoord wijzigen?"),
        ];
        for (want, text) in cases {
            assert_eq!(detect_query(text, "und"), want, "{text}");
        }
    }

    #[test]
    fn query_falls_back_to_the_default() {
        assert_eq!(detect_query("ORD-12345", "fr"), "fr");
        assert_eq!(detect_query("👍", "es"), "es");
        assert_eq!(detect_query("429", "xx"), "und");
        assert_eq!(detect_query("", "EN"), "en");
    }

    #[test]
    fn normalizes_codes() {
        assert_eq!(normalize("IT"), "it");
        assert_eq!(normalize(" sv "), "sv");
        assert_eq!(normalize("ru"), "und");
    }
}
