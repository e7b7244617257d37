//! Detecting a visitor who asks for a human (E1), in English, Italian,
//! Spanish, French, German, Portuguese, Dutch, Swedish and Russian, tolerant
//! of phrasing and typos, and by set phrases in Japanese, Chinese and Korean.

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
    "mensch",
    "menschen",
    "mitarbeiter",
    "mitarbeiterin",
    "berater",
    "jemand",
    "jemandem",
    "pessoa",
    "atendente",
    "alguem",
    "mens",
    "medewerker",
    "iemand",
    "persoon",
    "manniska",
    "handlaggare",
    "nagon",
    "человек",
    "человеком",
    "оператор",
    "оператором",
    "сотрудник",
    "сотрудником",
    "менеджер",
    "менеджером",
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
    "sprechen",
    "reden",
    "verbinden",
    "mochte",
    "will",
    "brauche",
    "falar",
    "quero",
    "gostaria",
    "preciso",
    "transferir",
    "spreken",
    "praten",
    "wil",
    "prata",
    "tala",
    "vill",
    "koppla",
    "поговорить",
    "говорить",
    "соедините",
    "позовите",
    "переключите",
    "нужен",
    "хочу",
];

/// Verbs that come after the person in German, Dutch and Swedish.
const FINAL_VERBS: &[&str] = &["sprechen", "reden", "verbinden", "spreken", "praten", "prata", "tala"];

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
    "echter mensch",
    "echten menschen",
    "pessoa real",
    "atendente humano",
    "echt persoon",
    "echte medewerker",
    "riktig manniska",
    "живой человек",
    "живым человеком",
    "живого человека",
];

/// Set phrases of languages written without spaces (or whose requests are
/// idiomatic), found anywhere in the text.
const SUBSTRINGS: &[&str] = &[
    "人工客服",
    "转人工",
    "人工服务",
    "真人",
    "客服人员",
    "オペレーター",
    "担当者と話",
    "人と話",
    "有人対応",
    "상담원",
    "상담사",
    "사람과 대화",
    "직원 연결",
];

/// Whether `text` asks to be put through to a human.
pub fn asks_for_human(text: &str) -> bool {
    let folded = fold(text);
    let padded = format!(" {folded} ");
    if PHRASES.iter().any(|p| padded.contains(&format!(" {p} "))) || SUBSTRINGS.iter().any(|p| text.contains(p)) {
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
    // German, Dutch and Swedish put the infinitive last: "kann ich mit
    // jemandem sprechen", "kan ik met iemand praten".
    let is_final_verb = |w: &str| FINAL_VERBS.iter().any(|r| fuzzy_eq(w, r));
    noun_positions.iter().any(|&n| {
        let from = n.saturating_sub(5);
        let to = (n + 3).min(ws.len() - 1);
        ws[from..n].iter().any(|w| is_request(w)) || ws[n + 1..=to].iter().any(|w| is_final_verb(w))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_requests_in_every_language() {
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
            "Ich möchte mit einem Mitarbeiter sprechen",
            "Kann ich mit einem echten Menschen reden?",
            "Quero falar com um atendente",
            "Posso falar com uma pessoa real?",
            "Ik wil een medewerker spreken",
            "Kan ik met iemand praten?",
            "Jag vill prata med en människa",
            "Kan jag få prata med någon?",
            "Хочу поговорить с оператором",
            "Позовите живого человека",
            "人工客服",
            "我要转人工",
            "オペレーターと話したいです",
            "상담원 연결해 주세요",
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
            "Wie kann ich mein Passwort ändern?",
            "Kann eine Person mehrere Konten haben?",
            "Quanto custa o plano para uma pessoa?",
            "Hoe kan ik mijn wachtwoord wijzigen?",
            "Hur ändrar jag mitt lösenord?",
            "Как изменить пароль?",
            "如何修改密码？",
            "パスワードを変更したい",
            "비밀번호를 바꾸고 싶어요",
            "",
        ] {
            assert!(!asks_for_human(t), "{t}");
        }
    }
}
