//! Detecting a visitor who asks for a human (E1), in English, Italian,
//! Spanish and French, tolerant of phrasing and typos.

use crate::text::{fold, fuzzy_eq, words};

/// Nouns that name a person on the team.
const PERSON_NOUNS: &[&str] = &[
    "human",
    "humans",
    "person",
    "agent",
    "operator",
    "representative",
    "rep",
    "someone",
    "somebody",
    "staff",
    "employee",
    "advisor",
    "adviser",
    "assistant",
    "people",
    "colleague",
    "operatore",
    "operatrice",
    "persona",
    "umano",
    "qualcuno",
    "addetto",
    "consulente",
    "humano",
    "agente",
    "operador",
    "operadora",
    "alguien",
    "asesor",
    "asesora",
    "empleado",
    "humain",
    "personne",
    "conseiller",
    "conseillere",
    "operateur",
    "operatrice",
    "quelqu",
];

/// Verbs and phrases of asking to be put through.
const REQUEST_WORDS: &[&str] = &[
    "talk",
    "speak",
    "chat",
    "connect",
    "transfer",
    "want",
    "need",
    "get",
    "give",
    "put",
    "escalate",
    "reach",
    "contact",
    "call",
    "prefer",
    "let",
    "through",
    "parlare",
    "parlarne",
    "passare",
    "passi",
    "passami",
    "voglio",
    "vorrei",
    "contattare",
    "mettere",
    "chiamare",
    "serve",
    "parlo",
    "hablar",
    "quiero",
    "quisiera",
    "pasar",
    "pasame",
    "comunicar",
    "contactar",
    "necesito",
    "comunicarme",
    "hablo",
    "parler",
    "veux",
    "voudrais",
    "passer",
    "mettre",
    "contacter",
    "joindre",
    "besoin",
    "parle",
];

/// Phrases that alone are a request for a human.
const PHRASES: &[&str] = &[
    "real person",
    "human being",
    "live agent",
    "live person",
    "customer service",
    "customer support agent",
    "not a bot",
    "not a robot",
    "no bot",
    "stop bot",
    "persona vera",
    "persona reale",
    "essere umano",
    "operatore umano",
    "servizio clienti",
    "persona real",
    "ser humano",
    "agente humano",
    "atencion al cliente",
    "vraie personne",
    "etre humain",
    "service client",
    "conseiller humain",
    "un humain",
];

/// Whether `text` asks to be put through to a human.
pub fn asks_for_human(text: &str) -> bool {
    let folded = fold(text);
    let padded = format!(" {folded} ");
    if PHRASES.iter().any(|p| padded.contains(&format!(" {p} "))) {
        return true;
    }
    let ws = words(text);
    let is_noun = |w: &str| PERSON_NOUNS.iter().any(|n| fuzzy_eq(w, n));
    let is_request = |w: &str| REQUEST_WORDS.iter().any(|r| fuzzy_eq(w, r));
    let noun_positions: Vec<usize> = ws.iter().enumerate().filter(|(_, w)| is_noun(w)).map(|(i, _)| i).collect();
    if noun_positions.is_empty() {
        return false;
    }
    // A bare "human please", "operatore!", "agent?".
    let content = ws.iter().filter(|w| !crate::text::is_stopword(w)).count();
    if ws.len() <= 3 && content <= 2 {
        return true;
    }
    // A request word shortly before a person noun: "can I talk to a human",
    // "voglio parlare con un operatore", "je veux parler à quelqu'un".
    noun_positions.iter().any(|&n| {
        let from = n.saturating_sub(5);
        ws[from..n].iter().any(|w| is_request(w))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_requests_in_four_languages() {
        for t in [
            "Can I talk to a human?",
            "i want to speak with a real person please",
            "Connect me to an agent",
            "human",
            "AGENT!!",
            "let me talk to someone",
            "can i tlak to a humna",
            "Voglio parlare con un operatore",
            "Mi passi una persona vera per favore?",
            "operatore",
            "Quiero hablar con una persona",
            "¿Puedo hablar con un agente humano?",
            "Je voudrais parler à un conseiller",
            "je veux parler à quelqu'un",
            "Un humain s'il vous plaît",
        ] {
            assert!(asks_for_human(t), "{t}");
        }
    }

    #[test]
    fn ordinary_questions_are_not_requests() {
        for t in [
            "How do I reset my password?",
            "Can a person share a folder with two teams?",
            "What is the refund policy?",
            "Come posso cambiare il piano?",
            "¿Cuánto cuesta el plan Business?",
            "Personne ne peut voir mes fichiers ?",
            "",
        ] {
            assert!(!asks_for_human(t), "{t}");
        }
    }
}
