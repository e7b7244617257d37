//! Handoff to humans (E3–E8), pure: the handoff process, who may receive a
//! conversation, the round-robin choice balanced by open load, and the
//! messages the visitor sees. The store applies the choice in the same
//! transaction as the handoff, so two replicas cannot both assign.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::lang::Lang;

/// What happens when the agent hands off (E3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffProcess {
    /// Assign at once to the next available human.
    #[default]
    Live,
    /// Assign to a human who follows up later; the visitor is told when to expect a reply.
    Async,
    /// Nobody takes over: the agent keeps answering; triggers only record the request.
    None,
}

/// After a live handoff that left the conversation unassigned (E7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenUnassigned {
    /// Status stays open; it waits in the Unassigned view.
    #[default]
    KeepOpen,
    Close,
}

/// The messages the visitor sees on a handoff (E6), per language; empty
/// means the default phrase of that language.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HandoffMessages {
    pub team_available: Vec<(String, String)>,
    pub team_unavailable: Vec<(String, String)>,
    pub unassigned: Vec<(String, String)>,
}

/// Which message to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoffMessage {
    TeamAvailable,
    TeamUnavailable,
    Unassigned,
}

impl HandoffMessages {
    /// The admin's text for `which` in `lang`, if they wrote one.
    pub fn custom(&self, which: HandoffMessage, lang: Lang) -> Option<String> {
        let list = match which {
            HandoffMessage::TeamAvailable => &self.team_available,
            HandoffMessage::TeamUnavailable => &self.team_unavailable,
            HandoffMessage::Unassigned => &self.unassigned,
        };
        list.iter().find(|(l, t)| l == lang.code() && !t.trim().is_empty()).map(|(_, t)| t.clone())
    }

    /// The admin's text for `which` in `lang`, else the default phrase.
    pub fn text(&self, which: HandoffMessage, lang: Lang, process: HandoffProcess) -> String {
        self.custom(which, lang).unwrap_or_else(|| default_message(which, lang, process).to_owned())
    }
}

fn default_message(which: HandoffMessage, lang: Lang, process: HandoffProcess) -> &'static str {
    use HandoffMessage::*;
    use Lang::*;
    match (which, process, lang) {
        (TeamAvailable, HandoffProcess::Async, En) => "A member of our team will follow up here as soon as possible, usually within one business day.",
        (TeamAvailable, HandoffProcess::Async, It) => "Un membro del nostro team ti risponderà qui il prima possibile, di solito entro un giorno lavorativo.",
        (TeamAvailable, HandoffProcess::Async, Es) => "Un miembro de nuestro equipo te responderá aquí lo antes posible, normalmente en un día laborable.",
        (TeamAvailable, HandoffProcess::Async, Fr) => "Un membre de notre équipe vous répondra ici dès que possible, en général sous un jour ouvré.",
        (TeamAvailable, HandoffProcess::Async, De) => "Ein Mitglied unseres Teams meldet sich hier so schnell wie möglich, in der Regel innerhalb eines Werktags.",
        (TeamAvailable, HandoffProcess::Async, Pt) => "Um membro da nossa equipe vai responder aqui o mais rápido possível, normalmente em até um dia útil.",
        (TeamAvailable, HandoffProcess::Async, Nl) => "Iemand van ons team reageert hier zo snel mogelijk, meestal binnen één werkdag.",
        (TeamAvailable, HandoffProcess::Async, Sv) => "Någon i vårt team svarar här så snart som möjligt, oftast inom en arbetsdag.",
        (TeamAvailable, HandoffProcess::Async, Ru) => "Сотрудник нашей команды ответит здесь как можно скорее, обычно в течение одного рабочего дня.",
        (TeamAvailable, HandoffProcess::Async, Ja) => "担当スタッフができるだけ早くこちらでご返信します。通常は1営業日以内にご連絡いたします。",
        (TeamAvailable, HandoffProcess::Async, Zh) => "我们团队的工作人员会尽快在这里回复您，通常在一个工作日内。",
        (TeamAvailable, HandoffProcess::Async, Ko) => "저희 팀원이 가능한 한 빨리 이곳으로 답변드릴게요. 보통 영업일 기준 하루 이내에 답변드립니다.",
        (TeamAvailable, _, En) => "I'm connecting you with a member of our team. They'll be with you shortly.",
        (TeamAvailable, _, It) => "Ti metto in contatto con un membro del nostro team. Sarà da te a breve.",
        (TeamAvailable, _, Es) => "Te pongo en contacto con un miembro de nuestro equipo. Estará contigo en breve.",
        (TeamAvailable, _, Fr) => "Je vous mets en relation avec un membre de notre équipe. Il sera avec vous sous peu.",
        (TeamAvailable, _, De) => "Ich verbinde Sie mit einem Mitglied unseres Teams. Gleich ist jemand für Sie da.",
        (TeamAvailable, _, Pt) => "Estou transferindo você para um membro da nossa equipe. Em instantes alguém vai atender você.",
        (TeamAvailable, _, Nl) => "Ik verbind je door met iemand van ons team. Er is zo iemand bij je.",
        (TeamAvailable, _, Sv) => "Jag kopplar dig till någon i vårt team. Någon är med dig inom kort.",
        (TeamAvailable, _, Ru) => "Соединяю вас с сотрудником нашей команды. Он скоро подключится к разговору.",
        (TeamAvailable, _, Ja) => "担当スタッフにおつなぎします。まもなく対応いたしますので、少々お待ちください。",
        (TeamAvailable, _, Zh) => "正在为您转接我们团队的工作人员，请稍候。",
        (TeamAvailable, _, Ko) => "저희 팀원에게 연결해 드릴게요. 곧 응대해 드리겠습니다.",
        (TeamUnavailable, _, En) => "Our team isn't available right now. We've received your message and will reply here as soon as we're back.",
        (TeamUnavailable, _, It) => "Il nostro team non è disponibile in questo momento. Abbiamo ricevuto il tuo messaggio e ti risponderemo qui appena possibile.",
        (TeamUnavailable, _, Es) => "Nuestro equipo no está disponible ahora. Hemos recibido tu mensaje y te responderemos aquí en cuanto volvamos.",
        (TeamUnavailable, _, Fr) => "Notre équipe n'est pas disponible pour le moment. Nous avons reçu votre message et vous répondrons ici dès notre retour.",
        (TeamUnavailable, _, De) => "Unser Team ist gerade nicht erreichbar. Wir haben Ihre Nachricht erhalten und antworten hier, sobald wir wieder da sind.",
        (TeamUnavailable, _, Pt) => "Nossa equipe não está disponível no momento. Recebemos sua mensagem e responderemos aqui assim que voltarmos.",
        (TeamUnavailable, _, Nl) => "Ons team is op dit moment niet bereikbaar. We hebben je bericht ontvangen en reageren hier zodra we er weer zijn.",
        (TeamUnavailable, _, Sv) => "Vårt team är inte tillgängligt just nu. Vi har tagit emot ditt meddelande och svarar här så snart vi är tillbaka.",
        (TeamUnavailable, _, Ru) => "Сейчас наша команда недоступна. Мы получили ваше сообщение и ответим здесь, как только вернёмся.",
        (TeamUnavailable, _, Ja) => "ただいま担当スタッフが対応できない時間帯です。メッセージは受け付けましたので、対応可能になり次第こちらでご返信します。",
        (TeamUnavailable, _, Zh) => "我们的团队目前不在线。我们已收到您的消息，回来后会第一时间在这里回复您。",
        (TeamUnavailable, _, Ko) => "지금은 저희 팀이 응대할 수 없는 시간이에요. 메시지는 잘 받았으며, 업무가 재개되는 대로 이곳으로 답변드릴게요.",
        (Unassigned, _, En) => "Thanks, we've received your request. A member of our team will pick it up as soon as possible.",
        (Unassigned, _, It) => "Grazie, abbiamo ricevuto la tua richiesta. Un membro del nostro team la prenderà in carico il prima possibile.",
        (Unassigned, _, Es) => "Gracias, hemos recibido tu solicitud. Un miembro de nuestro equipo la atenderá lo antes posible.",
        (Unassigned, _, Fr) => "Merci, nous avons bien reçu votre demande. Un membre de notre équipe la prendra en charge dès que possible.",
        (Unassigned, _, De) => "Danke, wir haben Ihre Anfrage erhalten. Ein Mitglied unseres Teams kümmert sich so schnell wie möglich darum.",
        (Unassigned, _, Pt) => "Obrigado, recebemos sua solicitação. Um membro da nossa equipe vai cuidar dela o mais rápido possível.",
        (Unassigned, _, Nl) => "Bedankt, we hebben je aanvraag ontvangen. Iemand van ons team pakt deze zo snel mogelijk op.",
        (Unassigned, _, Sv) => "Tack, vi har tagit emot ditt ärende. Någon i vårt team tar hand om det så snart som möjligt.",
        (Unassigned, _, Ru) => "Спасибо, мы получили ваш запрос. Сотрудник нашей команды займётся им как можно скорее.",
        (Unassigned, _, Ja) => "お問い合わせを受け付けました。担当スタッフができるだけ早く対応いたします。",
        (Unassigned, _, Zh) => "谢谢，我们已收到您的请求。团队工作人员会尽快处理。",
        (Unassigned, _, Ko) => "감사합니다. 요청을 잘 받았어요. 저희 팀원이 최대한 빨리 확인해 드릴게요.",
    }
}

/// A human who might receive a conversation, as the store sees them now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub user_id: i64,
    pub available: bool,
    pub paid_seat: bool,
    pub disabled: bool,
    /// Open conversations assigned to them.
    pub open_load: i64,
    /// When they last received a conversation by routing (ms), if ever.
    pub last_assigned_at: Option<i64>,
}

impl Candidate {
    /// Routing only ever assigns to enabled, available people with a paid seat (E8).
    pub fn eligible(&self) -> bool {
        self.available && self.paid_seat && !self.disabled
    }
}

/// The users a route names: its users and the members of its teams.
pub fn route_members(users: &[i64], teams: &[(i64, Vec<i64>)], route_teams: &[i64]) -> BTreeSet<i64> {
    let mut out: BTreeSet<i64> = users.iter().copied().collect();
    for (team, members) in teams {
        if route_teams.contains(team) {
            out.extend(members.iter().copied());
        }
    }
    out
}

/// Round robin balanced by load: the eligible candidate with the fewest open
/// conversations; among equals, the one who waited longest since their last
/// routed conversation (never assigned first); then the lowest id, so the
/// choice is deterministic.
pub fn pick(candidates: &[Candidate]) -> Option<i64> {
    candidates
        .iter()
        .filter(|c| c.eligible())
        .min_by_key(|c| (c.open_load, c.last_assigned_at.unwrap_or(i64::MIN), c.user_id))
        .map(|c| c.user_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(user_id: i64, load: i64, last: Option<i64>) -> Candidate {
        Candidate {
            user_id,
            available: true,
            paid_seat: true,
            disabled: false,
            open_load: load,
            last_assigned_at: last,
        }
    }

    #[test]
    fn picks_the_least_loaded_then_the_longest_waiting() {
        assert_eq!(pick(&[c(1, 3, Some(10)), c(2, 1, Some(50)), c(3, 1, Some(20))]), Some(3));
        assert_eq!(pick(&[c(1, 0, Some(10)), c(2, 0, None)]), Some(2), "never assigned goes first");
        assert_eq!(pick(&[c(5, 0, None), c(4, 0, None)]), Some(4), "deterministic");
    }

    #[test]
    fn round_robin_rotates_when_loads_are_equal() {
        let mut people = vec![c(1, 0, None), c(2, 0, None), c(3, 0, None)];
        let mut order = vec![];
        for t in 0..6 {
            let id = pick(&people).unwrap();
            order.push(id);
            let p = people.iter_mut().find(|p| p.user_id == id).unwrap();
            p.last_assigned_at = Some(t);
            // Each closes the conversation at once: loads stay equal.
        }
        assert_eq!(order, vec![1, 2, 3, 1, 2, 3]);
    }

    #[test]
    fn only_available_seated_enabled_people_are_picked() {
        let away = Candidate { available: false, ..c(1, 0, None) };
        let no_seat = Candidate { paid_seat: false, ..c(2, 0, None) };
        let disabled = Candidate { disabled: true, ..c(3, 0, None) };
        assert_eq!(pick(&[away.clone(), no_seat.clone(), disabled.clone()]), None);
        assert_eq!(pick(&[away, no_seat, disabled, c(4, 9, None)]), Some(4));
        assert_eq!(pick(&[]), None);
    }

    #[test]
    fn routes_name_users_and_team_members() {
        let teams = vec![(10, vec![1, 2]), (11, vec![3])];
        assert_eq!(route_members(&[5], &teams, &[10]), BTreeSet::from([1, 2, 5]));
        assert_eq!(route_members(&[], &teams, &[12]), BTreeSet::new());
    }

    #[test]
    fn messages_default_per_language_and_process() {
        let m = HandoffMessages {
            team_available: vec![("it".into(), "Arriva subito Marta!".into()), ("en".into(), "  ".into())],
            ..Default::default()
        };
        assert_eq!(m.text(HandoffMessage::TeamAvailable, Lang::It, HandoffProcess::Live), "Arriva subito Marta!");
        assert!(m.text(HandoffMessage::TeamAvailable, Lang::En, HandoffProcess::Live).contains("shortly"));
        assert!(m.text(HandoffMessage::TeamAvailable, Lang::En, HandoffProcess::Async).contains("follow up"));
        for l in Lang::ALL {
            for w in [HandoffMessage::TeamAvailable, HandoffMessage::TeamUnavailable, HandoffMessage::Unassigned] {
                for process in [HandoffProcess::Live, HandoffProcess::Async] {
                    let t = m.text(w, l, process);
                    assert!(!t.is_empty());
                    if l != Lang::En {
                        assert_ne!(t, m.text(w, Lang::En, process), "{w:?} {l:?}: not translated");
                    }
                }
            }
        }
    }
}
