//! A small language guesser for the languages whose fixed phrases we ship
//! (English, Italian, Spanish, French), based on characteristic function words.

use crate::text::words;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    It,
    Es,
    Fr,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::En, Lang::It, Lang::Es, Lang::Fr];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::It => "it",
            Lang::Es => "es",
            Lang::Fr => "fr",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }
}

const MARKERS: &[(Lang, &[&str])] = &[
    (
        Lang::En,
        &[
            "the", "is", "are", "my", "i", "you", "what", "how", "can", "do", "does", "with", "and", "to", "of", "it",
            "this", "please", "want", "need", "where", "when", "have", "talk", "speak", "account", "hello", "hi",
            "thanks",
        ],
    ),
    (
        Lang::It,
        &[
            "il",
            "lo",
            "gli",
            "di",
            "che",
            "non",
            "sono",
            "mio",
            "mia",
            "come",
            "posso",
            "vorrei",
            "per",
            "con",
            "della",
            "del",
            "una",
            "un",
            "ho",
            "perche",
            "grazie",
            "ciao",
            "parlare",
            "cosa",
            "quanto",
            "dove",
            "voglio",
            "mi",
            "ci",
            "e",
            "buongiorno",
            "operatore",
        ],
    ),
    (
        Lang::Es,
        &[
            "el", "los", "las", "de", "que", "mi", "como", "puedo", "quiero", "para", "con", "una", "un", "es", "por",
            "hola", "gracias", "donde", "cuanto", "hablar", "tengo", "esta", "y", "del", "se", "necesito", "cual",
            "persona", "usted",
        ],
    ),
    (
        Lang::Fr,
        &[
            "le", "les", "des", "de", "je", "est", "mon", "ma", "mes", "comment", "pour", "avec", "une", "un", "et",
            "vous", "bonjour", "merci", "ou", "quoi", "parler", "puis", "ai", "pas", "ne", "du", "au", "quel",
            "quelle", "suis", "j", "d", "l", "c", "qu",
        ],
    ),
];

/// Guesses the language of `text`; falls back to `default` when the text has
/// no telling words (a single product name, an order number, emoji).
pub fn detect(text: &str, default: Lang) -> Lang {
    let ws = words(text);
    let raw = text.to_lowercase();
    let mut best = (default, 0.0f32);
    for (lang, markers) in MARKERS {
        let mut score = ws.iter().filter(|w| markers.contains(&w.as_str())).count() as f32;
        // Characters that only some of these languages use.
        score += match lang {
            Lang::Es => raw.chars().filter(|c| matches!(c, 'ñ' | '¿' | '¡')).count() as f32 * 2.0,
            Lang::Fr => {
                raw.chars().filter(|c| matches!(c, 'ç' | 'ê' | 'è' | 'à' | 'û' | 'ô' | 'î')).count() as f32 * 0.7
            }
            Lang::It => raw.chars().filter(|c| matches!(c, 'ò' | 'ù' | 'ì')).count() as f32 * 1.5,
            Lang::En => 0.0,
        };
        if score > best.1 {
            best = (*lang, score);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_four_languages() {
        assert_eq!(detect("How do I reset my password?", Lang::It), Lang::En);
        assert_eq!(detect("Come posso cambiare il mio piano?", Lang::En), Lang::It);
        assert_eq!(detect("¿Cómo puedo cambiar mi contraseña?", Lang::En), Lang::Es);
        assert_eq!(detect("Comment est-ce que je change mon mot de passe ?", Lang::En), Lang::Fr);
    }

    #[test]
    fn falls_back_without_telling_words() {
        assert_eq!(detect("ORD-12345", Lang::Fr), Lang::Fr);
        assert_eq!(detect("👍", Lang::Es), Lang::Es);
    }
}
