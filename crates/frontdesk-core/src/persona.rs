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
    /// Closing line after an answer (may be empty).
    SignOff,
    /// The message has nothing to answer (emoji only, gibberish).
    Clarify,
    /// The agent will not do what was asked (a topic to avoid, an attempt to
    /// change its rules or reveal its configuration).
    Decline,
}

impl Phrase {
    pub const ALL: [Phrase; 8] = [
        Phrase::Greeting,
        Phrase::AnswerIntro,
        Phrase::HandoffRequested,
        Phrase::CannotAnswer,
        Phrase::Thanks,
        Phrase::SignOff,
        Phrase::Clarify,
        Phrase::Decline,
    ];

    /// The key used for this phrase in brand-voice text (`greeting: …`).
    pub fn key(self) -> &'static str {
        match self {
            Phrase::Greeting => "greeting",
            Phrase::AnswerIntro => "intro",
            Phrase::HandoffRequested => "handoff",
            Phrase::CannotAnswer => "cannot answer",
            Phrase::Thanks => "thanks",
            Phrase::SignOff => "sign-off",
            Phrase::Clarify => "clarify",
            Phrase::Decline => "decline",
        }
    }

    fn from_key(k: &str) -> Option<Phrase> {
        let k: String = k.trim().to_lowercase().chars().map(|c| if c == '_' || c == ' ' { '-' } else { c }).collect();
        let k = match k.as_str() {
            "signoff" | "sign-off" | "closing" | "outro" => "sign-off",
            "hello" | "greeting" => "greeting",
            "intro" | "opening" | "answer-intro" => "intro",
            "cannot-answer" | "cant-answer" | "no-answer" => "cannot answer",
            other => other,
        }
        .to_owned();
        Phrase::ALL.into_iter().find(|p| p.key() == k)
    }
}

/// The workspace's own phrases, written in the brand-voice text as lines
/// `key: text` or `key [it]: text` (keys: greeting, intro, sign-off,
/// handoff, cannot answer, thanks, clarify, decline). Other lines describe the voice for a generative responder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrandPhrases {
    entries: Vec<(Phrase, Option<Lang>, String)>,
}

impl BrandPhrases {
    pub fn parse(text: &str) -> BrandPhrases {
        let mut entries = Vec::new();
        for line in text.lines() {
            let line = line.trim().trim_start_matches(['-', '*']).trim();
            let Some((key, value)) = line.split_once(':') else { continue };
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let (key, lang) = match key.split_once(['[', '(']) {
                Some((k, rest)) => {
                    let code = rest.trim_end_matches([']', ')']).trim().to_lowercase();
                    match Lang::from_code(&code) {
                        Some(l) => (k, Some(l)),
                        None => continue,
                    }
                }
                None => (key, None),
            };
            if let Some(p) = Phrase::from_key(key) {
                entries.push((p, lang, value.to_owned()));
            }
        }
        BrandPhrases { entries }
    }

    /// The workspace's phrase for `which` in `lang`: an exact language match
    /// first, then one written without a language when `lang` is the
    /// workspace's default language.
    pub fn get(&self, which: Phrase, lang: Lang, default_lang: Lang) -> Option<&str> {
        let exact = self.entries.iter().find(|(p, l, _)| *p == which && *l == Some(lang));
        let plain = || self.entries.iter().find(|(p, l, _)| *p == which && l.is_none() && lang == default_lang);
        exact.or_else(plain).map(|(_, _, t)| t.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// How the agent speaks: its name, personality and the workspace's phrases.
#[derive(Debug, Clone, PartialEq)]
pub struct Voice {
    pub name: String,
    pub personality: Personality,
    pub brand: BrandPhrases,
    pub default_lang: Lang,
}

impl Voice {
    pub fn new(name: &str, personality: Personality, brand_voice: &str, default_lang: Lang) -> Voice {
        let brand = if personality == Personality::BrandVoice {
            BrandPhrases::parse(brand_voice)
        } else {
            BrandPhrases::default()
        };
        Voice { name: name.to_owned(), personality, brand, default_lang }
    }

    /// The phrase in `lang`: the workspace's own when it wrote one, the
    /// personality's otherwise.
    pub fn say(&self, lang: Lang, which: Phrase) -> String {
        match self.brand.get(which, lang, self.default_lang) {
            Some(own) => own.replace("{name}", &self.name),
            None => phrase(self.personality, lang, which, &self.name),
        }
    }

    /// An answer framed by the personality: opening, the facts, sign-off.
    pub fn frame_answer(&self, lang: Lang, body: &str) -> String {
        let intro = self.say(lang, Phrase::AnswerIntro);
        let sign = self.say(lang, Phrase::SignOff);
        let mut out = String::with_capacity(intro.len() + body.len() + sign.len() + 2);
        out.push_str(&intro);
        if !intro.is_empty() && !intro.ends_with(' ') {
            out.push(' ');
        }
        out.push_str(body.trim());
        if !sign.is_empty() {
            out.push_str("\n\n");
            out.push_str(&sign);
        }
        out
    }
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

        (SignOff, En, Friendly) => "Anything else I can help with?",
        (SignOff, En, Casual) => "Shout if you need anything else!",
        (SignOff, En, Empathetic) => "I hope this helps. I'm here if you need anything else.",
        (SignOff, En, Witty) => "Anything else? I have answers to spare.",
        (SignOff, En, _) => "Please let me know if you need further assistance.",
        (SignOff, It, Friendly) => "Posso aiutarti con altro?",
        (SignOff, It, Casual) => "Se ti serve altro, chiedi pure!",
        (SignOff, It, Empathetic) => "Spero di esserti stato d'aiuto. Sono qui se hai bisogno d'altro.",
        (SignOff, It, Witty) => "Altro? Ho risposte in abbondanza.",
        (SignOff, It, _) => "Resto a disposizione per qualsiasi altra necessità.",
        (SignOff, Es, Friendly) => "¿Puedo ayudarte con algo más?",
        (SignOff, Es, Casual) => "¡Si necesitas algo más, avísame!",
        (SignOff, Es, Empathetic) => "Espero que te ayude. Estoy aquí si necesitas algo más.",
        (SignOff, Es, Witty) => "¿Algo más? Me sobran respuestas.",
        (SignOff, Es, _) => "Quedo a su disposición para cualquier otra consulta.",
        (SignOff, Fr, Friendly) => "Puis-je vous aider pour autre chose ?",
        (SignOff, Fr, Casual) => "Si tu as besoin d'autre chose, fais-moi signe !",
        (SignOff, Fr, Empathetic) => "J'espère que cela vous aide. Je reste là si vous avez besoin d'autre chose.",
        (SignOff, Fr, Witty) => "Autre chose ? J'ai des réponses à revendre.",
        (SignOff, Fr, _) => "N'hésitez pas à me solliciter pour toute autre question.",

        (Clarify, En, Casual) => "Hmm, I didn't quite get that. Could you say it another way?",
        (Clarify, En, _) => "Sorry, I didn't understand. Could you rephrase your question?",
        (Clarify, It, _) => "Scusa, non ho capito. Puoi riformulare la domanda?",
        (Clarify, Es, _) => "Perdona, no lo he entendido. ¿Puedes reformular la pregunta?",
        (Clarify, Fr, _) => "Désolé, je n'ai pas compris. Pouvez-vous reformuler votre question ?",

        (Decline, En, Empathetic) => {
            "I'm sorry, that isn't something I can help with here. I'm happy to answer questions about our products and services."
        }
        (Decline, En, _) => "That isn't something I can help with. I can answer questions about our products and services.",
        (Decline, It, _) => "Non posso aiutarti con questo. Posso rispondere a domande sui nostri prodotti e servizi.",
        (Decline, Es, _) => "No puedo ayudarte con eso. Puedo responder preguntas sobre nuestros productos y servicios.",
        (Decline, Fr, _) => {
            "Je ne peux pas vous aider sur ce point. Je peux répondre aux questions sur nos produits et services."
        }


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
    fn new_phrases_exist_everywhere_and_personalities_differ() {
        for l in Lang::ALL {
            for which in Phrase::ALL {
                if which != Phrase::AnswerIntro {
                    assert!(!phrase(Personality::Professional, l, which, "Luma").is_empty(), "{which:?} {l:?}");
                }
            }
            let signs: std::collections::HashSet<String> = [
                Personality::Friendly,
                Personality::Professional,
                Personality::Casual,
                Personality::Empathetic,
                Personality::Witty,
            ]
            .iter()
            .map(|p| phrase(*p, l, Phrase::SignOff, "Luma"))
            .collect();
            assert_eq!(signs.len(), 5, "{l:?}: every personality signs off differently");
        }
    }

    #[test]
    fn brand_voice_supplies_the_workspaces_own_phrases() {
        let text = "We are warm but brief. Never use slang.\n\
                    greeting: Welcome to Nimbus, I'm {name}!\n\
                    sign-off: Happy filing!\n\
                    sign-off [it]: Buona archiviazione!\n\
                    unknown key: ignored";
        let v = Voice::new("Luma", Personality::BrandVoice, text, Lang::En);
        assert_eq!(v.say(Lang::En, Phrase::Greeting), "Welcome to Nimbus, I'm Luma!");
        assert_eq!(v.say(Lang::It, Phrase::SignOff), "Buona archiviazione!");
        // Not written for French: the professional phrase in French, never English.
        assert_eq!(
            v.say(Lang::Fr, Phrase::Greeting),
            phrase(Personality::Professional, Lang::Fr, Phrase::Greeting, "Luma")
        );
        let framed = v.frame_answer(Lang::En, "Versions are kept 60 days.");
        assert!(framed.starts_with("Versions are kept 60 days."), "{framed}");
        assert!(framed.ends_with("Happy filing!"));
        // Other personalities ignore brand phrases.
        let f = Voice::new("Luma", Personality::Friendly, text, Lang::En);
        assert!(f.say(Lang::En, Phrase::Greeting).starts_with("Hi there!"));
    }

    #[test]
    fn personality_changes_the_tone() {
        let a = phrase(Personality::Friendly, Lang::En, Phrase::Greeting, "Luma");
        let b = phrase(Personality::Professional, Lang::En, Phrase::Greeting, "Luma");
        assert_ne!(a, b);
    }
}
