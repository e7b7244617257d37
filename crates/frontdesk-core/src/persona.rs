//! The agent's fixed phrases, per personality (A2) and language (A5).
//! The facts of a reply never change with the personality; only its framing.

use crate::lang::Lang;
use crate::model::Personality;

/// The occasions on which the agent speaks a fixed phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phrase {
    /// Answer to a greeting; `{name}` is the agent's name.
    Greeting,
    /// Opening placed before an answer (may be empty).
    AnswerIntro,
    /// The visitor asked for a human.
    HandoffRequested,
    /// The agent has no answer and passes the conversation on.
    CannotAnswer,
    /// Answer to "thanks".
    Thanks,
}

/// The phrase for `personality` in `lang`, with `{name}` replaced.
pub fn phrase(personality: Personality, lang: Lang, which: Phrase, name: &str) -> String {
    let p = match personality {
        // Brand voice uses professional fixed phrases; its own text frames
        // answers once the generative responder is configured.
        Personality::BrandVoice => Personality::Professional,
        p => p,
    };
    table(p, lang, which).replace("{name}", name)
}

fn table(p: Personality, lang: Lang, which: Phrase) -> &'static str {
    use Lang::*;
    use Personality::*;
    use Phrase::*;
    match (which, lang, p) {
        (Greeting, En, Friendly) => "Hi there! I'm {name}. How can I help you today?",
        (Greeting, En, Casual) => "Hey! {name} here. What's up?",
        (Greeting, En, Empathetic) => "Hello, I'm {name}. I'm here for you. What can I help with?",
        (Greeting, En, Witty) => "Hello! {name} at your service, fully caffeinated. What can I do for you?",
        (Greeting, En, _) => "Hello, I'm {name}. How may I assist you?",
        (Greeting, It, Friendly) => "Ciao! Sono {name}. Come posso aiutarti oggi?",
        (Greeting, It, Casual) => "Ehi! Qui {name}. Dimmi tutto!",
        (Greeting, It, Empathetic) => "Ciao, sono {name}. Sono qui per te: di cosa hai bisogno?",
        (Greeting, It, Witty) => "Ciao! {name} al tuo servizio, caffè già preso. Cosa posso fare per te?",
        (Greeting, It, _) => "Buongiorno, sono {name}. Come posso esserle utile?",
        (Greeting, Es, Friendly) => "¡Hola! Soy {name}. ¿En qué puedo ayudarte hoy?",
        (Greeting, Es, Casual) => "¡Hey! Aquí {name}. ¿Qué tal?",
        (Greeting, Es, Empathetic) => "Hola, soy {name}. Estoy aquí para ayudarte. ¿Qué necesitas?",
        (Greeting, Es, Witty) => "¡Hola! {name} a tu servicio, con el café ya tomado. ¿Qué puedo hacer por ti?",
        (Greeting, Es, _) => "Buenos días, soy {name}. ¿En qué puedo ayudarle?",
        (Greeting, Fr, Friendly) => "Bonjour ! Je suis {name}. Comment puis-je vous aider aujourd'hui ?",
        (Greeting, Fr, Casual) => "Salut ! C'est {name}. Je t'écoute !",
        (Greeting, Fr, Empathetic) => "Bonjour, je suis {name}. Je suis là pour vous : de quoi avez-vous besoin ?",
        (Greeting, Fr, Witty) => "Bonjour ! {name} à votre service, café déjà avalé. Que puis-je faire pour vous ?",
        (Greeting, Fr, _) => "Bonjour, je suis {name}. En quoi puis-je vous aider ?",

        (AnswerIntro, En, Friendly) => "Happy to help! ",
        (AnswerIntro, En, Casual) => "Sure thing: ",
        (AnswerIntro, En, Empathetic) => "I understand, let me help. ",
        (AnswerIntro, En, Witty) => "Good question, and I've got the answer: ",
        (AnswerIntro, It, Friendly) => "Volentieri! ",
        (AnswerIntro, It, Casual) => "Certo: ",
        (AnswerIntro, It, Empathetic) => "Capisco, ti aiuto subito. ",
        (AnswerIntro, It, Witty) => "Bella domanda, e ho la risposta: ",
        (AnswerIntro, Es, Friendly) => "¡Con gusto! ",
        (AnswerIntro, Es, Casual) => "Claro: ",
        (AnswerIntro, Es, Empathetic) => "Entiendo, te ayudo enseguida. ",
        (AnswerIntro, Es, Witty) => "Buena pregunta, y tengo la respuesta: ",
        (AnswerIntro, Fr, Friendly) => "Avec plaisir ! ",
        (AnswerIntro, Fr, Casual) => "Bien sûr : ",
        (AnswerIntro, Fr, Empathetic) => "Je comprends, je vous aide tout de suite. ",
        (AnswerIntro, Fr, Witty) => "Bonne question, et j'ai la réponse : ",
        (AnswerIntro, _, _) => "",

        (HandoffRequested, En, Casual) => "No problem, grabbing someone from the team for you now.",
        (HandoffRequested, En, Empathetic) => {
            "Of course. I'm bringing in a member of our team who can help you personally."
        }
        (HandoffRequested, En, Witty) => "Say no more: summoning a genuine human now.",
        (HandoffRequested, En, _) => "Of course. I'm connecting you with a member of our team.",
        (HandoffRequested, It, Casual) => "Nessun problema, chiamo subito qualcuno del team.",
        (HandoffRequested, It, _) => "Certo. La metto in contatto con un membro del nostro team.",
        (HandoffRequested, Es, Casual) => "Sin problema, aviso ahora a alguien del equipo.",
        (HandoffRequested, Es, _) => "Por supuesto. Le pongo en contacto con un miembro de nuestro equipo.",
        (HandoffRequested, Fr, Casual) => "Pas de souci, je fais venir quelqu'un de l'équipe.",
        (HandoffRequested, Fr, _) => "Bien sûr. Je vous mets en relation avec un membre de notre équipe.",

        (CannotAnswer, En, Casual) => "Hmm, I don't have that one. Let me get someone from the team who does.",
        (CannotAnswer, En, Empathetic) => {
            "I'm sorry, I don't have an answer for that. I'm bringing in a member of our team to help you."
        }
        (CannotAnswer, En, Witty) => "That one's beyond my notes. Calling in a human expert.",
        (CannotAnswer, En, _) => "I can't answer that. I'm passing your question to a member of our team.",
        (CannotAnswer, It, _) => "Non posso rispondere a questa domanda. La passo a un membro del nostro team.",
        (CannotAnswer, Es, _) => "No puedo responder a eso. Paso su pregunta a un miembro de nuestro equipo.",
        (CannotAnswer, Fr, _) => {
            "Je ne peux pas répondre à cette question. Je la transmets à un membre de notre équipe."
        }

        (Thanks, En, Casual) => "Anytime!",
        (Thanks, En, Witty) => "My pleasure. I'll be here, answering things.",
        (Thanks, En, _) => "You're welcome! Anything else I can help with?",
        (Thanks, It, _) => "Prego! Posso aiutarti con altro?",
        (Thanks, Es, _) => "¡De nada! ¿Puedo ayudarte con algo más?",
        (Thanks, Fr, _) => "Avec plaisir ! Puis-je vous aider pour autre chose ?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phrase_exists_in_every_language_and_names_the_agent() {
        for p in Personality::ALL {
            for l in Lang::ALL {
                let g = phrase(*p, l, Phrase::Greeting, "Luma");
                assert!(g.contains("Luma"), "{p:?} {l:?}");
                assert!(!phrase(*p, l, Phrase::CannotAnswer, "Luma").is_empty());
                assert!(!phrase(*p, l, Phrase::HandoffRequested, "Luma").is_empty());
            }
        }
    }

    #[test]
    fn personality_changes_the_tone() {
        let a = phrase(Personality::Friendly, Lang::En, Phrase::Greeting, "Luma");
        let b = phrase(Personality::Professional, Lang::En, Phrase::Greeting, "Luma");
        assert_ne!(a, b);
    }
}
