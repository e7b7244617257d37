//! Asking the visitor for their email (C2), pure: when to ask, how to read
//! the answer, and what to say, per language.
//!
//! A conversation's state is a short string stored with it: `none`,
//! `asked`, `asked_again`, `done`; while a handoff waits for the address
//! (mode "before handing off") the trigger is appended (`asked:visitor_asked`).
//! An invalid address is asked for again once; the second time the agent
//! goes on without it. A visitor who writes something that contains no
//! address at all is not nagged: the agent answers (or hands off) as usual.

use crate::lang::Lang;
use crate::model::HandoffTrigger;
use crate::validate::EmailAddress;

/// Where a conversation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AskState {
    None,
    /// Asked once (or twice), perhaps holding a handoff until the answer.
    Asked {
        again: bool,
        pending: Option<HandoffTrigger>,
    },
    Done,
}

impl AskState {
    pub fn parse(s: &str) -> AskState {
        let (head, pending) = match s.split_once(':') {
            Some((h, t)) => (h, HandoffTrigger::parse(t)),
            None => (s, None),
        };
        match head {
            "asked" => AskState::Asked { again: false, pending },
            "asked_again" => AskState::Asked { again: true, pending },
            "done" => AskState::Done,
            _ => AskState::None,
        }
    }

    pub fn as_string(&self) -> String {
        match self {
            AskState::None => "none".into(),
            AskState::Done => "done".into(),
            AskState::Asked { again, pending } => {
                let head = if *again { "asked_again" } else { "asked" };
                match pending {
                    Some(t) => format!("{head}:{}", t.as_str()),
                    None => head.into(),
                }
            }
        }
    }
}

/// What the visitor's message means while an answer is awaited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A valid address.
    Email(String),
    /// Something that looks like an attempt at an address but is not valid.
    Invalid,
    /// No address in the message.
    Nothing,
}

/// Reads an address out of the visitor's message.
pub fn read_answer(text: &str) -> Answer {
    let mut attempted = false;
    for token in text.split_whitespace() {
        let t = token
            .trim_matches(|c: char| !(c.is_alphanumeric() || c == '@' || c == '.' || c == '_' || c == '-' || c == '+'));
        let t = t.trim_end_matches('.');
        if !t.contains('@') {
            continue;
        }
        attempted = true;
        if let Ok(e) = EmailAddress::parse("email", t) {
            return Answer::Email(e.as_str().to_owned());
        }
    }
    if attempted {
        Answer::Invalid
    } else {
        Answer::Nothing
    }
}

/// "What's your email?" at the start of a conversation.
pub fn ask_at_start(lang: Lang) -> &'static str {
    match lang {
        Lang::It => "Per poterti ricontattare se serve: qual è il tuo indirizzo email?",
        Lang::Es => "Para poder contactarte si hace falta: ¿cuál es tu correo electrónico?",
        Lang::Fr => "Pour pouvoir vous recontacter si besoin : quelle est votre adresse e-mail ?",
        Lang::En => "So we can follow up if needed: what's your email address?",
        Lang::De => "Damit wir uns bei Bedarf bei Ihnen melden können: Wie lautet Ihre E-Mail-Adresse?",
        Lang::Pt => "Para podermos entrar em contato se for preciso: qual é o seu e-mail?",
        Lang::Nl => "Zodat we contact met je kunnen opnemen als dat nodig is: wat is je e-mailadres?",
        Lang::Sv => "Så att vi kan höra av oss vid behov: vilken är din e-postadress?",
        Lang::Ru => "Чтобы мы могли связаться с вами при необходимости: какой у вас адрес электронной почты?",
        Lang::Ja => "必要に応じてご連絡できるよう、メールアドレスを教えていただけますか？",
        Lang::Zh => "为了在需要时与您联系，请问您的电子邮箱地址是什么？",
        Lang::Ko => "필요할 때 연락드릴 수 있도록 이메일 주소를 알려 주시겠어요?",
    }
}

/// Before a handoff: the team will write to this address.
pub fn ask_before_handoff(lang: Lang) -> &'static str {
    match lang {
        Lang::It => "Prima di passarti al team: qual è il tuo indirizzo email, così possono risponderti?",
        Lang::Es => "Antes de pasarte al equipo: ¿cuál es tu correo electrónico, para que puedan responderte?",
        Lang::Fr => "Avant de vous mettre en relation avec l'équipe : quelle est votre adresse e-mail, pour qu'elle puisse vous répondre ?",
        Lang::En => "Before I connect you with the team: what's your email address, so they can get back to you?",
        Lang::De => "Bevor ich Sie mit dem Team verbinde: Wie lautet Ihre E-Mail-Adresse, damit man Ihnen antworten kann?",
        Lang::Pt => "Antes de transferir você para a equipe: qual é o seu e-mail, para que possam responder?",
        Lang::Nl => "Voordat ik je doorverbind met het team: wat is je e-mailadres, zodat ze je kunnen antwoorden?",
        Lang::Sv => "Innan jag kopplar dig till teamet: vilken är din e-postadress, så att de kan svara dig?",
        Lang::Ru => "Прежде чем передать вас команде: укажите, пожалуйста, адрес электронной почты, чтобы вам могли ответить.",
        Lang::Ja => "担当チームにおつなぎする前に、ご返信先のメールアドレスを教えていただけますか？",
        Lang::Zh => "在为您转接团队之前，请问您的电子邮箱地址是什么？以便他们回复您。",
        Lang::Ko => "팀에 연결해 드리기 전에, 답변을 받으실 이메일 주소를 알려 주시겠어요?",
    }
}

/// The address did not look right: asked once more.
pub fn ask_again(lang: Lang) -> &'static str {
    match lang {
        Lang::It => "Questo indirizzo email non sembra valido: puoi ricontrollarlo?",
        Lang::Es => "Ese correo electrónico no parece válido: ¿puedes revisarlo?",
        Lang::Fr => "Cette adresse e-mail ne semble pas valide : pouvez-vous la vérifier ?",
        Lang::En => "That email address doesn't look right. Could you check it?",
        Lang::De => "Diese E-Mail-Adresse scheint nicht gültig zu sein. Könnten Sie sie bitte überprüfen?",
        Lang::Pt => "Esse e-mail não parece válido. Pode conferir?",
        Lang::Nl => "Dat e-mailadres lijkt niet te kloppen. Kun je het even controleren?",
        Lang::Sv => "Den e-postadressen ser inte rätt ut. Kan du kontrollera den?",
        Lang::Ru => "Похоже, адрес электронной почты указан неверно. Проверьте его, пожалуйста.",
        Lang::Ja => "メールアドレスが正しくないようです。もう一度ご確認いただけますか？",
        Lang::Zh => "这个电子邮箱地址似乎无效，请您再检查一下好吗？",
        Lang::Ko => "이메일 주소가 올바르지 않은 것 같아요. 다시 확인해 주시겠어요?",
    }
}

/// The address was noted.
pub fn thanks(lang: Lang, email: &str) -> String {
    match lang {
        Lang::It => format!("Grazie, ho annotato {email}."),
        Lang::Es => format!("Gracias, he anotado {email}."),
        Lang::Fr => format!("Merci, j'ai noté {email}."),
        Lang::En => format!("Thanks, I've noted {email}."),
        Lang::De => format!("Danke, ich habe {email} notiert."),
        Lang::Pt => format!("Obrigado, anotei {email}."),
        Lang::Nl => format!("Bedankt, ik heb {email} genoteerd."),
        Lang::Sv => format!("Tack, jag har noterat {email}."),
        Lang::Ru => format!("Спасибо, адрес {email} сохранён."),
        Lang::Ja => format!("ありがとうございます。{email} を控えました。"),
        Lang::Zh => format!("谢谢，已记下 {email}。"),
        Lang::Ko => format!("감사합니다. {email} 주소를 기록해 두었어요."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip() {
        for s in [
            AskState::None,
            AskState::Done,
            AskState::Asked { again: false, pending: None },
            AskState::Asked { again: true, pending: Some(HandoffTrigger::VisitorAsked) },
        ] {
            assert_eq!(AskState::parse(&s.as_string()), s);
        }
        assert_eq!(AskState::parse("garbage"), AskState::None);
    }

    #[test]
    fn answers_are_read_from_the_message() {
        assert_eq!(read_answer("sure, it's Ada@Example.com."), Answer::Email("Ada@example.com".into()));
        assert_eq!(read_answer("<bob@shop.io>"), Answer::Email("bob@shop.io".into()));
        assert_eq!(read_answer("ada@"), Answer::Invalid);
        assert_eq!(read_answer("ada at example dot com @ home"), Answer::Invalid);
        assert_eq!(read_answer("how much is the Pro plan?"), Answer::Nothing);
    }

    #[test]
    fn every_language_has_its_own_phrases() {
        let all = Lang::ALL;
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(ask_at_start(*a), ask_at_start(*b));
                assert_ne!(ask_again(*a), ask_again(*b));
                assert_ne!(ask_before_handoff(*a), ask_before_handoff(*b));
            }
        }
        for l in Lang::ALL {
            assert!(thanks(l, "a@b.io").contains("a@b.io"), "{l:?}");
        }
    }
}
