//! The languages the agent speaks — every fixed phrase exists in each of
//! them — and the one language guesser of Frontdesk (the knowledge crate
//! calls it for passages and questions).
//!
//! Texts in Cyrillic, Japanese, Chinese or Korean script are told by their
//! script. Latin-script texts: long ones with `whatlang` (trigram profiles,
//! restricted to the eight Latin languages), short ones — a five-word
//! question — mostly by function words, word endings and letters that only
//! some languages use, with `whatlang` as one more vote that weighs more the
//! longer the text is. A text with nothing telling (an order number, emoji,
//! a product name) gets no guess: the caller's default applies.

use crate::text::words;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;
use whatlang::{Detector, Lang as WLang};

/// A language of the visitor. Stored and exchanged as its ISO 639-1 code
/// (serde, the database, settings JSON): see [`Lang::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    It,
    Es,
    Fr,
    De,
    Pt,
    Nl,
    Sv,
    Ru,
    Ja,
    Zh,
    Ko,
}

impl Lang {
    pub const ALL: [Lang; 12] = [
        Lang::En,
        Lang::It,
        Lang::Es,
        Lang::Fr,
        Lang::De,
        Lang::Pt,
        Lang::Nl,
        Lang::Sv,
        Lang::Ru,
        Lang::Ja,
        Lang::Zh,
        Lang::Ko,
    ];

    /// The ISO 639-1 code, as stored.
    pub const fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::It => "it",
            Lang::Es => "es",
            Lang::Fr => "fr",
            Lang::De => "de",
            Lang::Pt => "pt",
            Lang::Nl => "nl",
            Lang::Sv => "sv",
            Lang::Ru => "ru",
            Lang::Ja => "ja",
            Lang::Zh => "zh",
            Lang::Ko => "ko",
        }
    }

    /// The language of a lowercase code (`"de"`); `None` for any other.
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The language's English name, as the console shows it.
    pub const fn english_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::It => "Italian",
            Lang::Es => "Spanish",
            Lang::Fr => "French",
            Lang::De => "German",
            Lang::Pt => "Portuguese",
            Lang::Nl => "Dutch",
            Lang::Sv => "Swedish",
            Lang::Ru => "Russian",
            Lang::Ja => "Japanese",
            Lang::Zh => "Chinese",
            Lang::Ko => "Korean",
        }
    }

    /// Every code, for error messages: `"en, it, es, …"`.
    pub fn codes() -> String {
        Lang::ALL.iter().map(|l| l.code()).collect::<Vec<_>>().join(", ")
    }
}

/// Guesses the language of a visitor's message; falls back to `default`
/// when the text has no telling words (a single product name, an order
/// number, emoji).
pub fn detect(text: &str, default: Lang) -> Lang {
    guess(text).unwrap_or(default)
}

/// The language of a short message, `None` when nothing in it tells.
pub fn guess(text: &str) -> Option<Lang> {
    // Addresses and links are in no language ("sorry: ada@example.com").
    let kept: Vec<&str> =
        text.split_whitespace().filter(|w| !w.contains('@') && !w.contains("://") && !w.starts_with("www.")).collect();
    let text = kept.join(" ");
    let text = text.as_str();
    if let Some(l) = by_script(text) {
        return Some(l);
    }
    // A code such as "A-12345" has no word to tell by: its lone letter is
    // not the Portuguese or Spanish article.
    if !text.split(|c: char| !c.is_alphabetic()).any(|w| w.chars().count() >= 2) {
        return None;
    }
    let (scores, _) = combined(text);
    let (best, top, second) = argmax(&scores);
    (top >= 0.5 && top > second).then_some(LATIN[best])
}

/// The language of a passage (a chunk, a document), `None` when it is too
/// short or says nothing telling (numbers, codes, a product name). Stricter
/// than [`guess`]: a clear function word and a margin are required.
pub fn guess_passage(text: &str) -> Option<Lang> {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    if letters < 3 {
        return None;
    }
    if let Some(l) = by_script(text) {
        return Some(l);
    }
    // Long text: trust a reliable trigram guess.
    if letters >= 120 {
        if let Some(info) = detector().detect(text) {
            if info.is_reliable() {
                if let Some(i) = WHATLANG.iter().position(|l| *l == info.lang()) {
                    return Some(LATIN[i]);
                }
            }
        }
    }
    let (scores, n_words) = combined(text);
    let (best, top, second) = argmax(&scores);
    let min = if n_words <= 3 { 0.9 } else { 1.0 };
    (top >= min && top > second * 1.15).then_some(LATIN[best])
}

/// Japanese, Korean, Chinese or Russian when the text is mostly written in
/// their scripts (Latin product names inside are fine); `None` for Latin
/// text, including an English sentence that quotes a word in another script.
fn by_script(text: &str) -> Option<Lang> {
    let (mut kana, mut hangul, mut han) = (0usize, 0usize, 0usize);
    for c in text.chars() {
        match c as u32 {
            0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9D => kana += 1,
            0xAC00..=0xD7AF | 0x1100..=0x11FF | 0x3130..=0x318F => hangul += 1,
            0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF => han += 1,
            _ => {}
        }
    }
    let (mut cyrillic, mut latin) = (0usize, 0usize);
    for w in text.split(|c: char| !c.is_alphanumeric()) {
        if w.chars().filter(|c| matches!(*c as u32, 0x0400..=0x04FF)).count() >= 1 {
            cyrillic += 1;
        } else if w.chars().any(|c| c.is_alphabetic() && (c.is_ascii() || matches!(c as u32, 0x00C0..=0x024F))) {
            latin += 1;
        }
    }
    // Two CJK characters weigh about one word.
    let foreign = (kana + hangul + han) as f32 / 2.0 + cyrillic as f32;
    if foreign == 0.0 || foreign < latin as f32 * 0.5 {
        return None;
    }
    let candidates = [
        (Lang::Ja, if kana > 0 { kana + han } else { 0 }),
        (Lang::Ko, hangul),
        (Lang::Zh, if kana == 0 { han } else { 0 }),
        (Lang::Ru, cyrillic * 2),
    ];
    candidates.into_iter().filter(|(_, n)| *n > 0).max_by_key(|(_, n)| *n).map(|(l, _)| l)
}

/// The Latin-script languages, in the order of the tables below.
const LATIN: [Lang; 8] = [Lang::En, Lang::It, Lang::Es, Lang::Fr, Lang::De, Lang::Pt, Lang::Sv, Lang::Nl];

const WHATLANG: [WLang; 8] =
    [WLang::Eng, WLang::Ita, WLang::Spa, WLang::Fra, WLang::Deu, WLang::Por, WLang::Swe, WLang::Nld];
/// Function words (accent-folded, lowercase) typical of each language, in
/// [`LATIN`] order. A word listed for several languages counts as a
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

/// Words customers use all the time (orders, billing, accounts), folded, in
/// [`LATIN`] order: on a two-word question ("refund policy?", "abonnement
/// opzeggen") they are often the only telling words. They vote like
/// function words, shared ones by a fraction.
const SERVICE_WORDS: [&[&str]; 8] = [
    // en
    &[
        "thank",
        "thanks",
        "hey",
        "no",
        "refund",
        "refunds",
        "policy",
        "cancel",
        "cancellation",
        "subscription",
        "change",
        "email",
        "address",
        "password",
        "order",
        "orders",
        "shipping",
        "delivery",
        "invoice",
        "account",
        "login",
        "charged",
        "twice",
        "price",
        "pricing",
        "trial",
        "free",
        "receipt",
        "billing",
        "payment",
        "reset",
        "upgrade",
        "downgrade",
        "tracking",
        "package",
        "returns",
        "discount",
        "working",
        "broken",
        "help",
        "sign",
        "log",
        "ship",
        "shipped",
        "arrived",
        "delivered",
        "cost",
        "costs",
        "pay",
        "paid",
        "available",
        "link",
        "support",
        "plan",
        "never",
        "again",
        "yet",
        "anymore",
        "because",
        "until",
        "while",
        "since",
    ],
    // it
    &[
        "buonasera",
        "salve",
        "grazie",
        "ciao",
        "fattura",
        "fatture",
        "ordine",
        "ordini",
        "spedizione",
        "spedizioni",
        "rimborso",
        "abbonamento",
        "consegna",
        "reso",
        "pagamento",
        "prezzo",
        "prezzi",
        "costa",
        "accesso",
        "accedere",
        "disdire",
        "disdetta",
        "addebitato",
        "addebito",
        "prova",
        "gratuita",
        "gratuito",
        "spedite",
        "funziona",
        "arrivato",
        "indirizzo",
        "carrello",
        "account",
        "piano",
        "la",
        "della",
        "nella",
    ],
    // es
    &[
        "buenas",
        "buenos",
        "tardes",
        "gracias",
        "muchas",
        "no",
        "pedido",
        "pedidos",
        "envio",
        "envios",
        "factura",
        "facturas",
        "contrasena",
        "cobraron",
        "cobro",
        "devolucion",
        "devoluciones",
        "suscripcion",
        "cuesta",
        "llegado",
        "todavia",
        "reembolso",
        "cuenta",
        "iniciar",
        "sesion",
        "pago",
        "pagos",
        "veces",
        "vez",
        "me",
        "gratis",
        "prueba",
        "cancelar",
        "direccion",
        "plan",
    ],
    // fr
    &[
        "bonsoir",
        "salut",
        "coucou",
        "beaucoup",
        "remboursement",
        "commande",
        "commandes",
        "livraison",
        "facture",
        "factures",
        "abonnement",
        "mot",
        "passe",
        "compte",
        "connecter",
        "paiement",
        "essai",
        "gratuit",
        "gratuite",
        "annuler",
        "prix",
        "livrez",
        "coute",
        "delai",
        "adresse",
        "panier",
        "debite",
        "forfait",
    ],
    // de
    &[
        "guten",
        "morgen",
        "moin",
        "servus",
        "vielen",
        "dank",
        "tschuss",
        "bestellung",
        "bestellungen",
        "rechnung",
        "rechnungen",
        "passwort",
        "lieferung",
        "ruckerstattung",
        "kundigen",
        "kundigung",
        "konto",
        "anmelden",
        "zahlung",
        "bezahlen",
        "kostenlos",
        "kostenlose",
        "kostet",
        "versand",
        "lieferzeit",
        "abo",
        "tarif",
        "angekommen",
        "abgebucht",
        "adresse",
        "funktioniert",
        "geld",
    ],
    // pt
    &[
        "oi",
        "bom",
        "boa",
        "tarde",
        "valeu",
        "pedido",
        "pedidos",
        "senha",
        "fatura",
        "faturas",
        "cobrado",
        "cobranca",
        "assinatura",
        "entrega",
        "reembolso",
        "conta",
        "custa",
        "suporte",
        "inclui",
        "duas",
        "vezes",
        "fui",
        "frete",
        "gratis",
        "cancelar",
        "trocar",
        "endereco",
        "prazo",
        "me",
        "chegou",
        "plano",
        "pagamento",
        "teste",
    ],
    // sv
    &[
        "hejsan",
        "god",
        "morgon",
        "bestallning",
        "faktura",
        "losenord",
        "leverans",
        "aterbetalning",
        "prenumeration",
        "prenumerationen",
        "logga",
        "betala",
        "kostar",
        "gratis",
        "konto",
        "fungerar",
        "levererar",
        "leveranstid",
        "pengar",
        "adress",
        "kommit",
    ],
    // nl
    &[
        "hoi",
        "goedemorgen",
        "goedemiddag",
        "goedenavond",
        "dankjewel",
        "dankuwel",
        "doei",
        "bestelling",
        "bestellingen",
        "factuur",
        "wachtwoord",
        "levering",
        "opzeggen",
        "terugbetaling",
        "verzending",
        "inloggen",
        "betalen",
        "gratis",
        "abonnement",
        "kost",
        "levertijd",
        "afgeschreven",
        "retour",
        "geld",
        "adres",
        "aangekomen",
        "werkt",
    ],
];

/// word -> (language index, weight) votes, weight = 1 / number of languages listing it.
fn marker_table() -> &'static HashMap<&'static str, Vec<(usize, f32)>> {
    static TABLE: OnceLock<HashMap<&'static str, Vec<(usize, f32)>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut langs_of: HashMap<&'static str, Vec<usize>> = HashMap::new();
        for (i, list) in MARKERS.iter().chain(SERVICE_WORDS.iter()).enumerate() {
            let i = i % LATIN.len();
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
    // Indexes into LATIN: en 0, it 1, es 2, fr 3, de 4, pt 5, sv 6, nl 7.
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
    ("erar", 6, 0.6),
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

/// Function-word, word-ending and letter cues, per language of [`LATIN`].
fn cue_scores(text: &str) -> [f32; 8] {
    let table = marker_table();
    let mut scores = [0.0f32; 8];
    let ws = words(text);
    // "O Nimbus Drive funciona?": a sentence opening with the article "o"
    // is Portuguese ("o" alone is "or" in Italian and Spanish).
    if ws.len() >= 3 && matches!(ws[0].as_str(), "o" | "os") && text.trim_start().starts_with(['O', 'o']) {
        scores[5] += 1.0;
    }
    for w in ws {
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

/// whatlang's guess among [`LATIN`]: (language index, confidence 0..1).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_serde_uses_them() {
        for l in Lang::ALL {
            assert_eq!(Lang::from_code(l.code()), Some(l));
            assert_eq!(serde_json::to_value(l).unwrap(), serde_json::json!(l.code()));
            assert_eq!(serde_json::from_value::<Lang>(serde_json::json!(l.code())).unwrap(), l);
            assert!(!l.english_name().is_empty());
        }
        assert_eq!(Lang::from_code("xx"), None);
        assert_eq!(Lang::from_code(""), None);
        assert!(serde_json::from_value::<Lang>(serde_json::json!("xx")).is_err());
        assert_eq!(Lang::codes(), "en, it, es, fr, de, pt, nl, sv, ru, ja, zh, ko");
    }

    #[test]
    fn detects_every_language() {
        let cases = [
            (Lang::En, "How do I reset my password?"),
            (Lang::It, "Come posso cambiare il mio piano?"),
            (Lang::Es, "¿Cómo puedo cambiar mi contraseña?"),
            (Lang::Fr, "Comment est-ce que je change mon mot de passe ?"),
            (Lang::De, "Wie kann ich mein Passwort ändern?"),
            (Lang::Pt, "Não consigo entrar na minha conta"),
            (Lang::Nl, "Hoe kan ik mijn wachtwoord wijzigen?"),
            (Lang::Sv, "Hur ändrar jag mitt lösenord?"),
            (Lang::Ru, "Как изменить пароль?"),
            (Lang::Ja, "パスワードを変更するには？"),
            (Lang::Zh, "如何修改密码？"),
            (Lang::Ko, "비밀번호를 바꾸려면 어떻게 하나요?"),
        ];
        for (want, text) in cases {
            let other = if want == Lang::En { Lang::It } else { Lang::En };
            assert_eq!(detect(text, other), want, "{text}");
        }
    }

    #[test]
    fn other_scripts_win_over_latin_product_names_but_not_over_an_english_sentence() {
        assert_eq!(guess("Nimbus Drive Pro のパスワード"), Some(Lang::Ja));
        assert_eq!(guess("Nimbus Drive 密码"), Some(Lang::Zh));
        assert_eq!(guess("Nimbus Drive 비밀번호"), Some(Lang::Ko));
        assert_eq!(guess("Nimbus Drive пароль"), Some(Lang::Ru));
        assert_eq!(guess("What does 你好 mean on the welcome screen?"), Some(Lang::En));
    }

    #[test]
    fn a_code_with_a_lone_letter_keeps_the_default() {
        assert_eq!(detect("A-12345", Lang::It), Lang::It);
        assert_eq!(detect("sorry: ada@example.com", Lang::En), Lang::En);
        assert_eq!(detect("ada@example.com", Lang::It), Lang::It);
        assert_eq!(detect("e 42", Lang::Fr), Lang::Fr);
    }

    #[test]
    fn falls_back_without_telling_words() {
        assert_eq!(detect("ORD-12345", Lang::Fr), Lang::Fr);
        assert_eq!(detect("👍", Lang::Es), Lang::Es);
        assert_eq!(detect("", Lang::De), Lang::De);
        assert_eq!(detect("Nimbus Drive", Lang::Sv), Lang::Sv);
        assert_eq!(guess_passage("ERR-429 / 22H2"), None);
        assert_eq!(guess_passage("42"), None);
    }
}
