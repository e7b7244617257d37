//! Lead qualification (F3). The admin sets up to five criteria, each a
//! writable CRM property with the question that asks for it and the values
//! that qualify; the agent asks the unanswered questions one at a time, the
//! answers are scored (weights of the accepted answers over all weights, as
//! a percentage) and a lead scoring at least `qualify_score` with every
//! criterion answered is qualified and goes to the sales team.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::crm::{validate_value, CrmField};
use crate::lang::Lang;
use crate::text::{fold, words};
use crate::validate::{bounded_text, ValidationError};
use crate::values::ValueKind;

pub const MAX_CRITERIA: usize = 5;
pub const MAX_WEIGHT: u32 = 10;
pub const MAX_QUESTION: usize = 300;

/// How leads are qualified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeadSettings {
    pub enabled: bool,
    pub criteria: Vec<Criterion>,
    /// The score (0 to 100) from which an answered lead is qualified.
    pub qualify_score: u8,
    /// The team qualified leads are handed to.
    pub sales_team_id: Option<i64>,
}

impl Default for LeadSettings {
    fn default() -> Self {
        LeadSettings { enabled: false, criteria: Vec::new(), qualify_score: 50, sales_team_id: None }
    }
}

/// One qualification criterion: a contact property, how to ask for it, the
/// values that qualify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// The key of a writable CRM field (kind enum, text or boolean).
    pub property: String,
    pub question: Questions,
    /// The answers that qualify (compared without case or accents).
    pub accepted: Vec<String>,
    /// 1 to 10; 1 when left out.
    #[serde(default = "one")]
    pub weight: u32,
}

fn one() -> u32 {
    1
}

/// The question in each language; English is required, the others fall
/// back to a default wording around the property's name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Questions {
    pub en: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub it: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub es: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub de: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nl: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ru: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zh: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ko: Option<String>,
}

impl Criterion {
    /// The question in `lang`: the admin's own text, or a default wording.
    pub fn question_in(&self, lang: Lang) -> String {
        let own = match lang {
            Lang::En => Some(&self.question.en),
            Lang::It => self.question.it.as_ref(),
            Lang::Es => self.question.es.as_ref(),
            Lang::Fr => self.question.fr.as_ref(),
            Lang::De => self.question.de.as_ref(),
            Lang::Pt => self.question.pt.as_ref(),
            Lang::Nl => self.question.nl.as_ref(),
            Lang::Sv => self.question.sv.as_ref(),
            Lang::Ru => self.question.ru.as_ref(),
            Lang::Ja => self.question.ja.as_ref(),
            Lang::Zh => self.question.zh.as_ref(),
            Lang::Ko => self.question.ko.as_ref(),
        };
        if let Some(q) = own.filter(|q| !q.trim().is_empty()) {
            return q.trim().to_owned();
        }
        let name = self.property.replace('_', " ");
        match lang {
            Lang::En => format!("May I ask your {name}?"),
            Lang::It => format!("Posso chiederti anche: {name}?"),
            Lang::Es => format!("¿Puedo preguntarte también: {name}?"),
            Lang::Fr => format!("Puis-je aussi vous demander : {name} ?"),
            Lang::De => format!("Darf ich Sie noch etwas fragen: {name}?"),
            Lang::Pt => format!("Posso perguntar também: {name}?"),
            Lang::Nl => format!("Mag ik je ook vragen: {name}?"),
            Lang::Sv => format!("Får jag också fråga: {name}?"),
            Lang::Ru => format!("Можно уточнить: {name}?"),
            Lang::Ja => format!("{name}についても教えていただけますか？"),
            Lang::Zh => format!("可以再问一下您的{name}吗？"),
            Lang::Ko => format!("{name}도 여쭤봐도 될까요?"),
        }
    }

    /// Every wording of the question (to recognise it in the conversation).
    pub fn all_questions(&self) -> Vec<String> {
        Lang::ALL.iter().map(|&l| self.question_in(l)).collect()
    }

    /// Whether `answer` is one of the accepted values: the same words
    /// (case and accents aside), or for free text an accepted value found
    /// among the answer's words.
    pub fn accepts(&self, answer: &str) -> bool {
        let a = fold(answer);
        let answer_words = words(answer);
        self.accepted.iter().any(|v| {
            let f = fold(v);
            if f == a {
                return true;
            }
            let w = words(v);
            !w.is_empty() && answer_words.windows(w.len()).any(|win| win == w.as_slice())
        })
    }
}

/// The text value of `key` in the contact (columns and properties as one object).
pub fn answer_of(properties: &Value, key: &str) -> Option<String> {
    match properties.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The kinds a criterion's property may have.
pub const CRITERION_KINDS: &[ValueKind] = &[ValueKind::Enum, ValueKind::Text, ValueKind::Boolean];

impl LeadSettings {
    /// The settings, checked and normalised against the CRM fields; every
    /// problem names its field (`criteria[2].accepted`).
    pub fn parse(self, fields: &[CrmField]) -> Result<LeadSettings, ValidationError> {
        if self.criteria.len() > MAX_CRITERIA {
            return Err(ValidationError::new("criteria", format!("at most {MAX_CRITERIA} criteria")));
        }
        if self.enabled && self.criteria.is_empty() {
            return Err(ValidationError::new("criteria", "lead qualification needs at least one criterion"));
        }
        if self.qualify_score > 100 {
            return Err(ValidationError::new("qualify_score", "must be between 0 and 100"));
        }
        if self.enabled && self.sales_team_id.is_none() {
            return Err(ValidationError::new("sales_team_id", "choose the team that receives qualified leads"));
        }
        let mut criteria: Vec<Criterion> = Vec::with_capacity(self.criteria.len());
        for (i, c) in self.criteria.into_iter().enumerate() {
            let at = |f: &str| format!("criteria[{i}].{f}");
            let property = c.property.trim().to_owned();
            let field = fields
                .iter()
                .find(|f| f.key == property)
                .ok_or_else(|| ValidationError::new(&at("property"), format!("{property:?} is not a CRM field")))?;
            if !field.agent_write {
                return Err(ValidationError::new(&at("property"), "the agent may not update this CRM field"));
            }
            if !CRITERION_KINDS.contains(&field.kind) {
                return Err(ValidationError::new(
                    &at("property"),
                    "the CRM field must be of kind enum, text or boolean",
                ));
            }
            if criteria.iter().any(|o| o.property == property) {
                return Err(ValidationError::new(
                    &at("property"),
                    format!("{property:?} is used by another criterion"),
                ));
            }
            let opt = |name: &str, q: Option<String>| -> Result<Option<String>, ValidationError> {
                match q.filter(|q| !q.trim().is_empty()) {
                    Some(q) => bounded_text(&at(&format!("question.{name}")), &q, 1, MAX_QUESTION).map(Some),
                    None => Ok(None),
                }
            };
            let question = Questions {
                en: bounded_text(&at("question.en"), &c.question.en, 1, MAX_QUESTION)?,
                it: opt("it", c.question.it)?,
                es: opt("es", c.question.es)?,
                fr: opt("fr", c.question.fr)?,
                de: opt("de", c.question.de)?,
                pt: opt("pt", c.question.pt)?,
                nl: opt("nl", c.question.nl)?,
                sv: opt("sv", c.question.sv)?,
                ru: opt("ru", c.question.ru)?,
                ja: opt("ja", c.question.ja)?,
                zh: opt("zh", c.question.zh)?,
                ko: opt("ko", c.question.ko)?,
            };
            if c.accepted.is_empty() {
                return Err(ValidationError::new(&at("accepted"), "list at least one value that qualifies"));
            }
            let mut accepted: Vec<String> = Vec::new();
            for v in &c.accepted {
                let v = validate_value(field, v).map_err(|e| ValidationError::new(&at("accepted"), e.message))?;
                if !accepted.iter().any(|a| fold(a) == fold(&v)) {
                    accepted.push(v);
                }
            }
            if !(1..=MAX_WEIGHT).contains(&c.weight) {
                return Err(ValidationError::new(&at("weight"), format!("must be between 1 and {MAX_WEIGHT}")));
            }
            criteria.push(Criterion { property, question, accepted, weight: c.weight });
        }
        Ok(LeadSettings { criteria, ..self })
    }

    /// The criterion whose question `text` (an agent's message) asks, if any.
    pub fn asked_in(&self, text: &str) -> Option<&Criterion> {
        let t = fold(text);
        self.criteria.iter().find(|c| c.all_questions().iter().any(|q| t.contains(&fold(q))))
    }
}

/// The next question to ask: the first criterion without an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextQuestion<'a> {
    pub index: usize,
    pub criterion: &'a Criterion,
    pub text: String,
}

/// The first criterion the contact has not answered, with its question in `lang`.
pub fn next_question<'a>(settings: &'a LeadSettings, properties: &Value, lang: Lang) -> Option<NextQuestion<'a>> {
    settings
        .criteria
        .iter()
        .enumerate()
        .find(|(_, c)| answer_of(properties, &c.property).is_none())
        .map(|(index, criterion)| NextQuestion { index, criterion, text: criterion.question_in(lang) })
}

/// A lead's score from the contact's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LeadScore {
    /// The accepted answers' weights over all weights, 0 to 100.
    pub score: u8,
    /// Every criterion answered and the score at least `qualify_score`.
    pub qualified: bool,
    pub answered_all: bool,
}

pub fn score(settings: &LeadSettings, properties: &Value) -> LeadScore {
    let total: u32 = settings.criteria.iter().map(|c| c.weight).sum();
    let mut got = 0;
    let mut answered_all = true;
    for c in &settings.criteria {
        match answer_of(properties, &c.property) {
            Some(a) if c.accepts(&a) => got += c.weight,
            Some(_) => {}
            None => answered_all = false,
        }
    }
    let score = (got * 100 + total / 2).checked_div(total).unwrap_or(0) as u8;
    LeadScore { score, qualified: answered_all && score >= settings.qualify_score, answered_all }
}

/// The note for the sales team: the score and each criterion's answer.
pub fn summary(settings: &LeadSettings, properties: &Value) -> String {
    let s = score(settings, properties);
    let verdict = if s.qualified {
        "qualified"
    } else if s.answered_all {
        "not qualified"
    } else {
        "in progress"
    };
    let mut out = format!("Lead score {}/100 ({verdict}; qualifies from {}).", s.score, settings.qualify_score);
    for c in &settings.criteria {
        let line = match answer_of(properties, &c.property) {
            Some(a) if c.accepts(&a) => format!("\n- {}: {a} (accepted)", c.property),
            Some(a) => format!("\n- {}: {a} (not accepted; qualifies: {})", c.property, c.accepted.join(", ")),
            None => format!("\n- {}: not answered", c.property),
        };
        out.push_str(&line);
    }
    out
}

/// The visitor's message as a bare answer to a question about `field`: the
/// whole message as a valid value, or for an enum one of its options named
/// in a short message ("we are 11-50 people"). A question (`?`) is never an
/// answer.
pub fn bare_answer(field: &CrmField, text: &str) -> Option<String> {
    let t = text.trim().trim_end_matches(['.', '!']).trim();
    if t.is_empty() || t.contains('?') || t.chars().count() > 100 {
        return None;
    }
    if let Ok(v) = validate_value(field, t) {
        return Some(v);
    }
    match field.kind {
        ValueKind::Enum if words(t).len() <= 8 => crate::values::find_option(t, &field.values),
        _ => None,
    }
}

/// "By the way, how many people are on your team?" after an answer.
pub fn by_the_way(lang: Lang, question: &str) -> String {
    let mut chars = question.chars();
    let q = match (chars.next(), chars.next()) {
        // Keep acronyms ("CRM …") as written.
        (Some(a), Some(b)) if a.is_uppercase() && !b.is_uppercase() => {
            a.to_lowercase().chain(question[a.len_utf8()..].chars()).collect()
        }
        _ => question.to_owned(),
    };
    match lang {
        Lang::En => format!("By the way, {q}"),
        Lang::It => format!("A proposito, {q}"),
        Lang::Es => format!("Por cierto, {q}"),
        Lang::Fr => format!("Au fait, {q}"),
        // German nouns keep their capital: after a colon the question stands whole.
        Lang::De => format!("Übrigens: {question}"),
        Lang::Pt => format!("A propósito, {q}"),
        Lang::Nl => format!("Trouwens, {q}"),
        Lang::Sv => format!("Förresten, {q}"),
        Lang::Ru => format!("Кстати, {q}"),
        Lang::Ja => format!("ところで、{question}"),
        Lang::Zh => format!("顺便问一下，{question}"),
        Lang::Ko => format!("그런데 {question}"),
    }
}

/// The reply to a bare answer.
pub fn noted(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Thanks, noted.",
        Lang::It => "Grazie, ne ho preso nota.",
        Lang::Es => "Gracias, lo he anotado.",
        Lang::Fr => "Merci, c'est noté.",
        Lang::De => "Danke, ist notiert.",
        Lang::Pt => "Obrigado, anotado.",
        Lang::Nl => "Bedankt, genoteerd.",
        Lang::Sv => "Tack, det är noterat.",
        Lang::Ru => "Спасибо, записано.",
        Lang::Ja => "ありがとうございます。承知しました。",
        Lang::Zh => "谢谢，已记下。",
        Lang::Ko => "감사합니다, 기록해 두었어요.",
    }
}

/// What a qualified lead is told when it goes to the sales team.
pub fn to_sales(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Thanks for your answers! I'm passing your details to our sales team, who will be in touch shortly.",
        Lang::It => "Grazie per le risposte! Passo i tuoi dati al nostro team commerciale, che ti contatterà a breve.",
        Lang::Es => {
            "¡Gracias por tus respuestas! Paso tus datos a nuestro equipo comercial, que se pondrá en contacto contigo en breve."
        }
        Lang::Fr => {
            "Merci pour vos réponses ! Je transmets vos coordonnées à notre équipe commerciale, qui vous contactera rapidement."
        }
        Lang::De => {
            "Danke für Ihre Antworten! Ich gebe Ihre Angaben an unser Vertriebsteam weiter, das sich in Kürze bei Ihnen meldet."
        }
        Lang::Pt => {
            "Obrigado pelas respostas! Vou passar seus dados para nossa equipe comercial, que entrará em contato em breve."
        }
        Lang::Nl => {
            "Bedankt voor je antwoorden! Ik geef je gegevens door aan ons salesteam, dat binnenkort contact met je opneemt."
        }
        Lang::Sv => "Tack för dina svar! Jag skickar dina uppgifter vidare till vårt säljteam, som hör av sig inom kort.",
        Lang::Ru => "Спасибо за ответы! Передаю ваши данные нашему отделу продаж — с вами скоро свяжутся.",
        Lang::Ja => {
            "ご回答ありがとうございます。いただいた情報を営業チームにお伝えしますので、近日中に担当者よりご連絡いたします。"
        }
        Lang::Zh => "感谢您的回答！我会把您的信息转给我们的销售团队，他们会尽快与您联系。",
        Lang::Ko => "답변해 주셔서 감사합니다! 입력하신 정보를 영업팀에 전달해 드릴게요. 곧 연락드릴 거예요.",
    }
}

/// What an unqualified lead is told after its last answer.
pub fn thanks(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Thanks for your answers! Is there anything else I can help you with?",
        Lang::It => "Grazie per le risposte! Posso aiutarti in altro?",
        Lang::Es => "¡Gracias por tus respuestas! ¿Puedo ayudarte en algo más?",
        Lang::Fr => "Merci pour vos réponses ! Puis-je vous aider pour autre chose ?",
        Lang::De => "Danke für Ihre Antworten! Kann ich Ihnen sonst noch helfen?",
        Lang::Pt => "Obrigado pelas respostas! Posso ajudar com mais alguma coisa?",
        Lang::Nl => "Bedankt voor je antwoorden! Kan ik je nog ergens anders mee helpen?",
        Lang::Sv => "Tack för dina svar! Finns det något mer jag kan hjälpa dig med?",
        Lang::Ru => "Спасибо за ответы! Могу ли я ещё чем-нибудь помочь?",
        Lang::Ja => "ご回答ありがとうございます。ほかにお手伝いできることはありますか？",
        Lang::Zh => "感谢您的回答！还有什么可以帮您的吗？",
        Lang::Ko => "답변해 주셔서 감사합니다! 더 도와드릴 일이 있을까요?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_its_own_texts_and_questions() {
        let c = Criterion {
            property: "team_size".into(),
            question: Questions {
                en: "How many are you?".into(),
                de: Some("Wie viele seid ihr?".into()),
                ..Default::default()
            },
            accepted: vec![],
            weight: 1,
        };
        assert_eq!(c.question_in(Lang::De), "Wie viele seid ihr?");
        for l in Lang::ALL.into_iter().filter(|l| *l != Lang::En) {
            assert_ne!(noted(l), noted(Lang::En), "{l:?}");
            assert_ne!(to_sales(l), to_sales(Lang::En), "{l:?}");
            assert_ne!(thanks(l), thanks(Lang::En), "{l:?}");
            assert_ne!(by_the_way(l, "Q?"), by_the_way(Lang::En, "Q?"), "{l:?}");
            assert!(c.question_in(l).contains("team size") || l == Lang::De, "{l:?}");
        }
        assert_eq!(by_the_way(Lang::De, "Wie groß ist Ihr Team?"), "Übrigens: Wie groß ist Ihr Team?");
        // Stored criteria name their languages by code; an unknown code is refused.
        let q: Questions =
            serde_json::from_value(json!({"en": "Team?", "ko": "팀 규모는요?", "pt": "Equipe?"})).unwrap();
        assert_eq!(q.ko.as_deref(), Some("팀 규모는요?"));
        assert_eq!(serde_json::to_value(&q).unwrap(), json!({"en": "Team?", "pt": "Equipe?", "ko": "팀 규모는요?"}));
        assert!(serde_json::from_value::<Questions>(json!({"en": "Team?", "xx": "?"})).is_err());
    }
    use serde_json::json;

    fn fields() -> Vec<CrmField> {
        vec![
            CrmField {
                key: "team_size".into(),
                label: "Team size".into(),
                kind: ValueKind::Enum,
                values: vec!["1-10".into(), "11-50".into(), "51+".into()],
                agent_read: true,
                agent_write: true,
            },
            CrmField {
                key: "budget".into(),
                label: "Budget".into(),
                kind: ValueKind::Text,
                values: vec![],
                agent_read: true,
                agent_write: true,
            },
            CrmField {
                key: "plan".into(),
                label: "Plan".into(),
                kind: ValueKind::Text,
                values: vec![],
                agent_read: true,
                agent_write: false,
            },
            CrmField {
                key: "seats".into(),
                label: "Seats".into(),
                kind: ValueKind::Integer,
                values: vec![],
                agent_read: true,
                agent_write: true,
            },
        ]
    }

    fn criterion(property: &str, en: &str, accepted: &[&str], weight: u32) -> Criterion {
        Criterion {
            property: property.into(),
            question: Questions { en: en.into(), ..Questions::default() },
            accepted: accepted.iter().map(|s| s.to_string()).collect(),
            weight,
        }
    }

    fn settings() -> LeadSettings {
        LeadSettings {
            enabled: true,
            criteria: vec![
                criterion("team_size", "How many people are on your team?", &["11-50", "51+"], 2),
                criterion("budget", "What is your monthly budget?", &["over 1000"], 1),
            ],
            qualify_score: 60,
            sales_team_id: Some(3),
        }
    }

    #[test]
    fn parses_and_normalises() {
        let mut s = settings();
        s.criteria[0].accepted = vec!["51+".into(), "11-50".into(), "51+".into()];
        s.criteria[0].question.it = Some("  ".into());
        let p = s.parse(&fields()).unwrap();
        assert_eq!(p.criteria[0].accepted, vec!["51+", "11-50"]);
        assert_eq!(p.criteria[0].question.it, None);
    }

    #[test]
    fn errors_name_their_field() {
        let err = |f: &dyn Fn(&mut LeadSettings)| {
            let mut s = settings();
            f(&mut s);
            s.parse(&fields()).unwrap_err().field
        };
        assert_eq!(err(&|s| s.criteria[1].accepted = vec![]), "criteria[1].accepted");
        assert_eq!(err(&|s| s.criteria[0].accepted = vec!["200+".into()]), "criteria[0].accepted");
        assert_eq!(err(&|s| s.criteria[1].property = "plan".into()), "criteria[1].property");
        assert_eq!(err(&|s| s.criteria[1].property = "nope".into()), "criteria[1].property");
        assert_eq!(err(&|s| s.criteria[1].property = "seats".into()), "criteria[1].property");
        assert_eq!(err(&|s| s.criteria[1].property = "team_size".into()), "criteria[1].property");
        assert_eq!(err(&|s| s.criteria[0].question.en = " ".into()), "criteria[0].question.en");
        assert_eq!(err(&|s| s.criteria[0].weight = 0), "criteria[0].weight");
        assert_eq!(err(&|s| s.qualify_score = 101), "qualify_score");
        assert_eq!(err(&|s| s.sales_team_id = None), "sales_team_id");
        assert_eq!(err(&|s| s.criteria.clear()), "criteria");
        let c = settings().criteria[1].clone();
        assert_eq!(
            err(&|s| s.criteria = (0..6).map(|i| Criterion { property: format!("p{i}"), ..c.clone() }).collect()),
            "criteria"
        );
        // Disabled with nothing set is fine.
        assert!(LeadSettings::default().parse(&fields()).is_ok());
    }

    #[test]
    fn asks_the_first_unanswered_question_in_the_visitors_language() {
        let mut s = settings();
        s.criteria[1].question.fr = Some("Quel est votre budget mensuel ?".into());
        let q = next_question(&s, &json!({}), Lang::En).unwrap();
        assert_eq!((q.index, q.text.as_str()), (0, "How many people are on your team?"));
        let q = next_question(&s, &json!({"team_size": "1-10"}), Lang::Fr).unwrap();
        assert_eq!((q.index, q.text.as_str()), (1, "Quel est votre budget mensuel ?"));
        let q = next_question(&s, &json!({}), Lang::It).unwrap();
        assert_eq!(q.text, "Posso chiederti anche: team size?");
        assert!(next_question(&s, &json!({"team_size": "1-10", "budget": "none"}), Lang::En).is_none());
    }

    #[test]
    fn scores_by_weight_and_qualifies_when_all_answered() {
        let s = settings();
        let all = score(&s, &json!({"team_size": "11-50", "budget": "Over 1000 euros"}));
        assert_eq!(all, LeadScore { score: 100, qualified: true, answered_all: true });
        let two_thirds = score(&s, &json!({"team_size": "51+", "budget": "500"}));
        assert_eq!(two_thirds, LeadScore { score: 67, qualified: true, answered_all: true });
        let low = score(&s, &json!({"team_size": "1-10", "budget": "over 1000"}));
        assert_eq!(low, LeadScore { score: 33, qualified: false, answered_all: true });
        let partial = score(&s, &json!({"team_size": "51+"}));
        assert_eq!(partial, LeadScore { score: 67, qualified: false, answered_all: false });
    }

    #[test]
    fn recognises_the_question_asked() {
        let s = settings();
        let asked = s.asked_in("Our plans start at 10 €. By the way, how many people are on your team?");
        assert_eq!(asked.map(|c| c.property.as_str()), Some("team_size"));
        assert!(s.asked_in("Our plans start at 10 €.").is_none());
    }

    #[test]
    fn takes_a_bare_answer_for_the_field_asked() {
        let f = fields();
        assert_eq!(bare_answer(&f[0], "11-50").as_deref(), Some("11-50"));
        assert_eq!(bare_answer(&f[0], "We are about 51+ people.").as_deref(), Some("51+"));
        assert_eq!(bare_answer(&f[0], "about twelve"), None);
        assert_eq!(bare_answer(&f[0], "is 11-50 too many?"), None);
        assert_eq!(bare_answer(&f[1], "Over 1000 a month").as_deref(), Some("Over 1000 a month"));
    }

    #[test]
    fn phrases_follow_the_language() {
        assert_eq!(
            by_the_way(Lang::En, "How many people are on your team?"),
            "By the way, how many people are on your team?"
        );
        assert_eq!(by_the_way(Lang::Fr, "CRM utilisé ?"), "Au fait, CRM utilisé ?");
        assert!(to_sales(Lang::It).contains("commerciale"));
    }

    #[test]
    fn summary_lists_each_answer() {
        let s = summary(&settings(), &json!({"team_size": "51+", "budget": "small"}));
        assert!(s.starts_with("Lead score 67/100 (qualified; qualifies from 60)."), "{s}");
        assert!(s.contains("- team_size: 51+ (accepted)"), "{s}");
        assert!(s.contains("- budget: small (not accepted; qualifies: over 1000)"), "{s}");
        let s = summary(&settings(), &json!({}));
        assert!(s.contains("in progress") && s.contains("- budget: not answered"), "{s}");
    }
}
