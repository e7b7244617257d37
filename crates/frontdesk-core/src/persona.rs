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
        if !intro.is_empty() && !intro.ends_with(' ') && !intro.ends_with(is_wide_punctuation) {
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

/// Full-width punctuation (Japanese, Chinese) is followed by no space.
fn is_wide_punctuation(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '：' | '、' | '，' | '；')
}

impl Voice {
    /// An answer quoted from an article in another language than the
    /// visitor's, framed in the visitor's language: "Our article “Refunds”
    /// (in Italian) says: …", then the personality's opening and sign-off as
    /// for any answer. `source_lang_code` is the passage's ISO 639-1 code
    /// (`"it"`, `"pt-BR"`); an unknown code (or `"und"`) names no language.
    /// An empty title refers to "our documentation".
    pub fn frame_foreign_answer(&self, lang: Lang, source_lang_code: &str, source_title: &str, body: &str) -> String {
        let code = source_lang_code.trim().to_lowercase();
        let code = code.split(['-', '_']).next().unwrap_or_default();
        let in_lang = Lang::from_code(code).filter(|l| *l != lang).map(|source| in_language(lang, source));
        let quote = foreign_lead(lang, source_title.trim(), in_lang.as_deref());
        let sep = if quote.ends_with(is_wide_punctuation) { "" } else { " " };
        self.frame_answer(lang, &format!("{quote}{sep}{}", body.trim()))
    }
}

/// "Our article “{title}” (in Italian) says:" in `lang`; `in_lang` is the
/// parenthesis' content from [`in_language`], `title` may be empty.
fn foreign_lead(lang: Lang, title: &str, in_lang: Option<&str>) -> String {
    let paren = |open: &str, close: &str| in_lang.map(|l| format!("{open}{l}{close}")).unwrap_or_default();
    let p = paren(" (", ")");
    let wide = paren("（", "）");
    match (lang, title.is_empty()) {
        (Lang::En, false) => format!("Our article “{title}”{p} says:"),
        (Lang::En, true) => format!("Our documentation{p} says:"),
        (Lang::It, false) => format!("Il nostro articolo «{title}»{p} dice:"),
        (Lang::It, true) => format!("La nostra documentazione{p} dice:"),
        (Lang::Es, false) => format!("Nuestro artículo «{title}»{p} dice:"),
        (Lang::Es, true) => format!("Nuestra documentación{p} dice:"),
        (Lang::Fr, false) => format!("Notre article « {title} »{p} indique :"),
        (Lang::Fr, true) => format!("Notre documentation{p} indique :"),
        (Lang::De, false) => format!("In unserem Artikel „{title}“{p} heißt es:"),
        (Lang::De, true) => format!("In unserer Dokumentation{p} heißt es:"),
        (Lang::Pt, false) => format!("O nosso artigo “{title}”{p} diz:"),
        (Lang::Pt, true) => format!("A nossa documentação{p} diz:"),
        (Lang::Nl, false) => format!("In ons artikel “{title}”{p} staat:"),
        (Lang::Nl, true) => format!("In onze documentatie{p} staat:"),
        (Lang::Sv, false) => format!("I vår artikel ”{title}”{p} står det:"),
        (Lang::Sv, true) => format!("I vår dokumentation{p} står det:"),
        (Lang::Ru, false) => format!("В нашей статье «{title}»{p} говорится:"),
        (Lang::Ru, true) => format!("В нашей документации{p} говорится:"),
        (Lang::Ja, false) => format!("当社の記事「{title}」{wide}には、次のように記載されています："),
        (Lang::Ja, true) => format!("当社のドキュメント{wide}には、次のように記載されています："),
        (Lang::Zh, false) => format!("我们的文章《{title}》{wide}中写道："),
        (Lang::Zh, true) => format!("我们的文档{wide}中写道："),
        (Lang::Ko, false) => format!("저희 도움말 “{title}”{}에는 다음과 같이 나와 있습니다:", paren("(", ")")),
        (Lang::Ko, true) => format!("저희 도움말{}에는 다음과 같이 나와 있습니다:", paren("(", ")")),
    }
}

/// "in Italian" said in `lang`, as the parenthesis of [`foreign_lead`] reads.
fn in_language(lang: Lang, source: Lang) -> String {
    use Lang::*;
    // The names of the twelve languages in `lang`, in `Lang::ALL` order.
    let names: [&str; 12] = match lang {
        En => [
            "English",
            "Italian",
            "Spanish",
            "French",
            "German",
            "Portuguese",
            "Dutch",
            "Swedish",
            "Russian",
            "Japanese",
            "Chinese",
            "Korean",
        ],
        It => [
            "inglese",
            "italiano",
            "spagnolo",
            "francese",
            "tedesco",
            "portoghese",
            "olandese",
            "svedese",
            "russo",
            "giapponese",
            "cinese",
            "coreano",
        ],
        Es => [
            "inglés",
            "italiano",
            "español",
            "francés",
            "alemán",
            "portugués",
            "neerlandés",
            "sueco",
            "ruso",
            "japonés",
            "chino",
            "coreano",
        ],
        Fr => [
            "anglais",
            "italien",
            "espagnol",
            "français",
            "allemand",
            "portugais",
            "néerlandais",
            "suédois",
            "russe",
            "japonais",
            "chinois",
            "coréen",
        ],
        De => [
            "Englisch",
            "Italienisch",
            "Spanisch",
            "Französisch",
            "Deutsch",
            "Portugiesisch",
            "Niederländisch",
            "Schwedisch",
            "Russisch",
            "Japanisch",
            "Chinesisch",
            "Koreanisch",
        ],
        Pt => [
            "inglês",
            "italiano",
            "espanhol",
            "francês",
            "alemão",
            "português",
            "neerlandês",
            "sueco",
            "russo",
            "japonês",
            "chinês",
            "coreano",
        ],
        Nl => [
            "Engels",
            "Italiaans",
            "Spaans",
            "Frans",
            "Duits",
            "Portugees",
            "Nederlands",
            "Zweeds",
            "Russisch",
            "Japans",
            "Chinees",
            "Koreaans",
        ],
        Sv => [
            "engelska",
            "italienska",
            "spanska",
            "franska",
            "tyska",
            "portugisiska",
            "nederländska",
            "svenska",
            "ryska",
            "japanska",
            "kinesiska",
            "koreanska",
        ],
        Ru => [
            "английском",
            "итальянском",
            "испанском",
            "французском",
            "немецком",
            "португальском",
            "нидерландском",
            "шведском",
            "русском",
            "японском",
            "китайском",
            "корейском",
        ],
        Ja => [
            "英語",
            "イタリア語",
            "スペイン語",
            "フランス語",
            "ドイツ語",
            "ポルトガル語",
            "オランダ語",
            "スウェーデン語",
            "ロシア語",
            "日本語",
            "中国語",
            "韓国語",
        ],
        Zh => [
            "英文",
            "意大利文",
            "西班牙文",
            "法文",
            "德文",
            "葡萄牙文",
            "荷兰文",
            "瑞典文",
            "俄文",
            "日文",
            "中文",
            "韩文",
        ],
        Ko => [
            "영어",
            "이탈리아어",
            "스페인어",
            "프랑스어",
            "독일어",
            "포르투갈어",
            "네덜란드어",
            "스웨덴어",
            "러시아어",
            "일본어",
            "중국어",
            "한국어",
        ],
    };
    let name = names[Lang::ALL.iter().position(|l| *l == source).unwrap_or(0)];
    match lang {
        En | It => format!("in {name}"),
        Es | Fr => format!("en {name}"),
        De => format!("auf {name}"),
        Pt => format!("em {name}"),
        Nl => format!("in het {name}"),
        Sv => format!("på {name}"),
        Ru => format!("на {name}"),
        Ja | Zh | Ko => name.to_owned(),
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
        (Greeting, De, Friendly) => "Hallo! Ich bin {name}. Wie kann ich dir heute helfen?",
        (Greeting, De, Casual) => "Hey! Hier ist {name}. Was gibt's?",
        (Greeting, De, Empathetic) => "Hallo, ich bin {name}. Ich bin für dich da. Wobei kann ich dir helfen?",
        (Greeting, De, Witty) => "Hallo! {name} zu Diensten, der Kaffee ist schon getrunken. Was kann ich für dich tun?",
        (Greeting, De, _) => "Guten Tag, ich bin {name}. Wie kann ich Ihnen behilflich sein?",
        (Greeting, Pt, Friendly) => "Olá! Eu sou {name}. Como posso ajudar hoje?",
        (Greeting, Pt, Casual) => "Oi! Aqui é {name}. No que posso ajudar?",
        (Greeting, Pt, Empathetic) => "Olá, eu sou {name}. Estou aqui para ajudar. Do que você precisa?",
        (Greeting, Pt, Witty) => "Olá! {name} ao seu dispor, já com o café tomado. O que posso fazer por você?",
        (Greeting, Pt, _) => "Olá, sou {name}. Em que posso ser útil?",
        (Greeting, Nl, Friendly) => "Hoi! Ik ben {name}. Waarmee kan ik je vandaag helpen?",
        (Greeting, Nl, Casual) => "Hé! {name} hier. Vertel het maar!",
        (Greeting, Nl, Empathetic) => "Hallo, ik ben {name}. Ik ben er voor je. Waarmee kan ik je helpen?",
        (Greeting, Nl, Witty) => "Hallo! {name} tot je dienst, de koffie is al op. Wat kan ik voor je doen?",
        (Greeting, Nl, _) => "Goedendag, ik ben {name}. Waarmee kan ik u van dienst zijn?",
        (Greeting, Sv, Friendly) => "Hej! Jag heter {name}. Hur kan jag hjälpa dig i dag?",
        (Greeting, Sv, Casual) => "Tjena! {name} här. Vad kan jag göra för dig?",
        (Greeting, Sv, Empathetic) => "Hej, jag heter {name}. Jag finns här för dig. Vad behöver du hjälp med?",
        (Greeting, Sv, Witty) => "Hej! {name} till din tjänst, med kaffet redan urdrucket. Vad kan jag göra för dig?",
        (Greeting, Sv, _) => "Välkommen, jag heter {name}. Vad kan jag hjälpa dig med?",
        (Greeting, Ru, Friendly) => "Привет! Я {name}. Чем могу помочь?",
        (Greeting, Ru, Casual) => "Привет! На связи {name}. Рассказывайте!",
        (Greeting, Ru, Empathetic) => "Здравствуйте, я {name}. Я здесь, чтобы вам помочь. Что у вас случилось?",
        (Greeting, Ru, Witty) => "Здравствуйте! {name} к вашим услугам, кофе уже выпит. Чем могу помочь?",
        (Greeting, Ru, _) => "Здравствуйте, я {name}. Чем могу вам помочь?",
        (Greeting, Ja, Friendly) => "こんにちは！{name}です。今日はどんなご用件でしょうか？",
        (Greeting, Ja, Casual) => "こんにちは！{name}です。気軽に聞いてくださいね！",
        (Greeting, Ja, Empathetic) => "こんにちは、{name}です。お困りのことがあれば、何でもお聞かせください。",
        (Greeting, Ja, Witty) => "こんにちは！コーヒーを飲んで準備万端の{name}です。何をお手伝いしましょうか？",
        (Greeting, Ja, _) => "お問い合わせありがとうございます。{name}と申します。どのようなご用件でしょうか？",
        (Greeting, Zh, Friendly) => "你好！我是{name}。今天有什么可以帮你的吗？",
        (Greeting, Zh, Casual) => "嗨！我是{name}，有什么事尽管说！",
        (Greeting, Zh, Empathetic) => "你好，我是{name}。我会陪你一起解决问题，需要什么帮助？",
        (Greeting, Zh, Witty) => "你好！{name}为你效劳，咖啡已经喝好了。有什么可以帮你的？",
        (Greeting, Zh, _) => "您好，我是{name}。请问有什么可以帮您？",
        (Greeting, Ko, Friendly) => "안녕하세요! 저는 {name}입니다. 오늘 무엇을 도와드릴까요?",
        (Greeting, Ko, Casual) => "안녕하세요! {name}입니다. 편하게 물어보세요!",
        (Greeting, Ko, Empathetic) => "안녕하세요, 저는 {name}입니다. 불편하신 점이 있다면 무엇이든 말씀해 주세요.",
        (Greeting, Ko, Witty) => "안녕하세요! 커피 충전을 마친 {name}입니다. 무엇을 도와드릴까요?",
        (Greeting, Ko, _) => "안녕하십니까, {name}입니다. 무엇을 도와드릴까요?",

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
        (AnswerIntro, De, Friendly) => "Sehr gerne! ",
        (AnswerIntro, De, Casual) => "Klar: ",
        (AnswerIntro, De, Empathetic) => "Verstehe, ich helfe dir gleich. ",
        (AnswerIntro, De, Witty) => "Gute Frage, und ich habe die Antwort: ",
        (AnswerIntro, Pt, Friendly) => "Com prazer! ",
        (AnswerIntro, Pt, Casual) => "Claro: ",
        (AnswerIntro, Pt, Empathetic) => "Entendo, vou ajudar agora mesmo. ",
        (AnswerIntro, Pt, Witty) => "Boa pergunta, e eu tenho a resposta: ",
        (AnswerIntro, Nl, Friendly) => "Graag! ",
        (AnswerIntro, Nl, Casual) => "Tuurlijk: ",
        (AnswerIntro, Nl, Empathetic) => "Ik begrijp het, ik help je meteen. ",
        (AnswerIntro, Nl, Witty) => "Goede vraag, en ik heb het antwoord: ",
        (AnswerIntro, Sv, Friendly) => "Gärna! ",
        (AnswerIntro, Sv, Casual) => "Visst: ",
        (AnswerIntro, Sv, Empathetic) => "Jag förstår, jag hjälper dig direkt. ",
        (AnswerIntro, Sv, Witty) => "Bra fråga, och jag har svaret: ",
        (AnswerIntro, Ru, Friendly) => "С удовольствием помогу! ",
        (AnswerIntro, Ru, Casual) => "Конечно: ",
        (AnswerIntro, Ru, Empathetic) => "Понимаю, сейчас помогу. ",
        (AnswerIntro, Ru, Witty) => "Хороший вопрос, и у меня есть ответ: ",
        (AnswerIntro, Ja, Friendly) => "喜んでお答えします！",
        (AnswerIntro, Ja, Casual) => "もちろんです！",
        (AnswerIntro, Ja, Empathetic) => "お困りですよね。すぐにご案内します。",
        (AnswerIntro, Ja, Witty) => "いい質問ですね。答えはこちらです。",
        (AnswerIntro, Zh, Friendly) => "很乐意帮忙！",
        (AnswerIntro, Zh, Casual) => "没问题：",
        (AnswerIntro, Zh, Empathetic) => "我理解，马上帮你。",
        (AnswerIntro, Zh, Witty) => "好问题，答案就在这里：",
        (AnswerIntro, Ko, Friendly) => "기꺼이 도와드릴게요! ",
        (AnswerIntro, Ko, Casual) => "물론이죠! ",
        (AnswerIntro, Ko, Empathetic) => "충분히 이해해요. 바로 도와드릴게요. ",
        (AnswerIntro, Ko, Witty) => "좋은 질문이에요. 답은 바로 여기 있어요: ",
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
        (HandoffRequested, De, Friendly) => "Klar! Ich verbinde dich mit jemandem aus unserem Team.",
        (HandoffRequested, De, Casual) => "Kein Problem, ich hole dir jemanden aus dem Team.",
        (HandoffRequested, De, Empathetic) => {
            "Natürlich. Ich hole jemanden aus unserem Team dazu, der dir persönlich weiterhilft."
        }
        (HandoffRequested, De, Witty) => "Kein Wort mehr: Ich rufe einen echten Menschen herbei.",
        (HandoffRequested, De, _) => "Selbstverständlich. Ich verbinde Sie mit einem Mitglied unseres Teams.",
        (HandoffRequested, Pt, Casual) => "Sem problemas, vou chamar alguém da equipe agora.",
        (HandoffRequested, Pt, Empathetic) => {
            "Claro. Vou chamar um membro da nossa equipe que pode ajudar você pessoalmente."
        }
        (HandoffRequested, Pt, Witty) => "Nem precisa dizer mais: estou chamando um humano de verdade.",
        (HandoffRequested, Pt, _) => "Claro. Vou transferir a conversa para um membro da nossa equipe.",
        (HandoffRequested, Nl, Friendly) => "Natuurlijk! Ik verbind je met iemand van ons team.",
        (HandoffRequested, Nl, Casual) => "Geen probleem, ik haal er iemand van het team bij.",
        (HandoffRequested, Nl, Empathetic) => {
            "Natuurlijk. Ik haal iemand van ons team erbij die je persoonlijk kan helpen."
        }
        (HandoffRequested, Nl, Witty) => "Zeg maar niks meer: ik roep er een echt mens bij.",
        (HandoffRequested, Nl, _) => "Uiteraard. Ik verbind u met een medewerker van ons team.",
        (HandoffRequested, Sv, Casual) => "Inga problem, jag hämtar någon från teamet åt dig.",
        (HandoffRequested, Sv, Empathetic) => {
            "Självklart. Jag tar in en person från vårt team som kan hjälpa dig personligen."
        }
        (HandoffRequested, Sv, Witty) => "Säg inte mer: jag kallar på en riktig människa.",
        (HandoffRequested, Sv, _) => "Självklart. Jag kopplar dig till en medarbetare i vårt team.",
        (HandoffRequested, Ru, Casual) => "Без проблем, сейчас позову кого-нибудь из команды.",
        (HandoffRequested, Ru, Empathetic) => {
            "Конечно. Сейчас подключу сотрудника нашей команды, который поможет вам лично."
        }
        (HandoffRequested, Ru, Witty) => "Ни слова больше: вызываю настоящего человека.",
        (HandoffRequested, Ru, _) => "Конечно. Соединяю вас с сотрудником нашей команды.",
        (HandoffRequested, Ja, Casual) => "了解です！チームのメンバーを呼んできますね。",
        (HandoffRequested, Ja, Empathetic) => "かしこまりました。直接サポートできるスタッフにおつなぎします。",
        (HandoffRequested, Ja, Witty) => "お任せください。本物の人間をお呼びします。",
        (HandoffRequested, Ja, _) => "かしこまりました。担当スタッフにおつなぎいたします。",
        (HandoffRequested, Zh, Casual) => "没问题，我这就找团队里的同事来帮你。",
        (HandoffRequested, Zh, Empathetic) => "当然。我这就请团队成员来亲自帮助你。",
        (HandoffRequested, Zh, Witty) => "不用多说：马上召唤一位真人。",
        (HandoffRequested, Zh, _) => "好的，我现在为您转接我们团队的工作人员。",
        (HandoffRequested, Ko, Casual) => "알겠어요, 지금 바로 팀원을 불러 드릴게요.",
        (HandoffRequested, Ko, Empathetic) => "물론이죠. 직접 도와드릴 수 있는 팀원을 연결해 드릴게요.",
        (HandoffRequested, Ko, Witty) => "더 말씀 안 하셔도 돼요. 진짜 사람을 불러올게요.",
        (HandoffRequested, Ko, _) => "알겠습니다. 담당 직원에게 연결해 드리겠습니다.",

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
        (CannotAnswer, De, Professional | BrandVoice) => {
            "Darauf kann ich leider nicht antworten. Ich leite Ihre Frage an ein Mitglied unseres Teams weiter."
        }
        (CannotAnswer, De, _) => {
            "Darauf habe ich leider keine Antwort. Ich gebe deine Frage an jemanden aus unserem Team weiter."
        }
        (CannotAnswer, Pt, _) => {
            "Não consigo responder a essa pergunta. Vou encaminhá-la para um membro da nossa equipe."
        }
        (CannotAnswer, Nl, Professional | BrandVoice) => {
            "Op deze vraag kan ik helaas geen antwoord geven. Ik geef uw vraag door aan een medewerker van ons team."
        }
        (CannotAnswer, Nl, _) => {
            "Daar heb ik helaas geen antwoord op. Ik geef je vraag door aan iemand van ons team."
        }
        (CannotAnswer, Sv, _) => {
            "Det kan jag tyvärr inte svara på. Jag skickar din fråga vidare till en medarbetare i vårt team."
        }
        (CannotAnswer, Ru, _) => {
            "К сожалению, я не могу ответить на этот вопрос. Передаю его сотруднику нашей команды."
        }
        (CannotAnswer, Ja, _) => {
            "申し訳ありませんが、このご質問にはお答えできません。担当スタッフにお引き継ぎいたします。"
        }
        (CannotAnswer, Zh, Professional | BrandVoice) => {
            "抱歉，我无法回答这个问题。我会将您的问题转交给我们团队的工作人员。"
        }
        (CannotAnswer, Zh, _) => "抱歉，这个问题我回答不了。我会把你的问题转给我们团队的同事。",
        (CannotAnswer, Ko, Professional | BrandVoice) => {
            "죄송하지만 이 질문에는 답변드릴 수 없습니다. 담당 직원에게 질문을 전달해 드리겠습니다."
        }
        (CannotAnswer, Ko, _) => "죄송해요, 이 질문에는 답을 드릴 수 없어요. 팀원에게 질문을 전달해 드릴게요.",

        (Thanks, En, Casual) => "Anytime!",
        (Thanks, En, Witty) => "My pleasure. I'll be here, answering things.",
        (Thanks, En, _) => "You're welcome! Anything else I can help with?",
        (Thanks, It, _) => "Prego! Posso aiutarti con altro?",
        (Thanks, Es, _) => "¡De nada! ¿Puedo ayudarte con algo más?",
        (Thanks, Fr, _) => "Avec plaisir ! Puis-je vous aider pour autre chose ?",
        (Thanks, De, Professional | BrandVoice) => "Gern geschehen! Kann ich Ihnen sonst noch helfen?",
        (Thanks, De, _) => "Gern geschehen! Kann ich dir sonst noch helfen?",
        (Thanks, Pt, _) => "De nada! Posso ajudar com mais alguma coisa?",
        (Thanks, Nl, Professional | BrandVoice) => "Graag gedaan! Kan ik u nog ergens anders mee helpen?",
        (Thanks, Nl, _) => "Graag gedaan! Kan ik je nog ergens anders mee helpen?",
        (Thanks, Sv, _) => "Varsågod! Finns det något mer jag kan hjälpa dig med?",
        (Thanks, Ru, _) => "Пожалуйста! Могу ли я ещё чем-нибудь помочь?",
        (Thanks, Ja, _) => "どういたしまして！ほかにお手伝いできることはありますか？",
        (Thanks, Zh, Professional | BrandVoice) => "不客气！还有什么可以帮您的吗？",
        (Thanks, Zh, _) => "不客气！还有什么可以帮你的吗？",
        (Thanks, Ko, Professional | BrandVoice) => "별말씀을요. 더 도와드릴 일이 있으신가요?",
        (Thanks, Ko, _) => "천만에요! 더 도와드릴 일이 있을까요?",

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
        (SignOff, De, Friendly) => "Kann ich dir sonst noch helfen?",
        (SignOff, De, Casual) => "Sag Bescheid, wenn du noch was brauchst!",
        (SignOff, De, Empathetic) => "Ich hoffe, das hilft dir. Ich bin da, wenn du noch etwas brauchst.",
        (SignOff, De, Witty) => "Sonst noch was? Antworten habe ich genug.",
        (SignOff, De, _) => "Bei weiteren Fragen stehe ich Ihnen gerne zur Verfügung.",
        (SignOff, Pt, Friendly) => "Posso ajudar com mais alguma coisa?",
        (SignOff, Pt, Casual) => "Se precisar de mais alguma coisa, é só falar!",
        (SignOff, Pt, Empathetic) => "Espero que isso ajude. Estou aqui se precisar de mais alguma coisa.",
        (SignOff, Pt, Witty) => "Mais alguma coisa? Respostas não me faltam.",
        (SignOff, Pt, _) => "Fico à disposição para qualquer outra dúvida.",
        (SignOff, Nl, Friendly) => "Kan ik je nog ergens anders mee helpen?",
        (SignOff, Nl, Casual) => "Laat maar weten als je nog iets nodig hebt!",
        (SignOff, Nl, Empathetic) => "Ik hoop dat je hiermee verder kunt. Ik ben er als je nog iets nodig hebt.",
        (SignOff, Nl, Witty) => "Nog iets? Ik heb antwoorden genoeg.",
        (SignOff, Nl, _) => "Heeft u nog andere vragen, dan help ik u graag verder.",
        (SignOff, Sv, Friendly) => "Finns det något mer jag kan hjälpa dig med?",
        (SignOff, Sv, Casual) => "Hör av dig om du behöver något mer!",
        (SignOff, Sv, Empathetic) => "Jag hoppas att det hjälper. Jag finns här om du behöver något mer.",
        (SignOff, Sv, Witty) => "Något mer? Jag har svar så det räcker och blir över.",
        (SignOff, Sv, _) => "Hör gärna av dig om du har fler frågor.",
        (SignOff, Ru, Friendly) => "Могу ли я ещё чем-нибудь помочь?",
        (SignOff, Ru, Casual) => "Если что-то ещё понадобится, пишите!",
        (SignOff, Ru, Empathetic) => "Надеюсь, это поможет. Если понадобится что-то ещё, я здесь.",
        (SignOff, Ru, Witty) => "Что-нибудь ещё? Ответов у меня в избытке.",
        (SignOff, Ru, _) => "Если у вас возникнут другие вопросы, обращайтесь.",
        (SignOff, Ja, Friendly) => "ほかにお手伝いできることはありますか？",
        (SignOff, Ja, Casual) => "ほかにも何かあれば、気軽に聞いてくださいね！",
        (SignOff, Ja, Empathetic) => "お役に立てればうれしいです。ほかにも何かあれば、いつでもお声がけください。",
        (SignOff, Ja, Witty) => "ほかにもご質問は？答えならまだまだあります。",
        (SignOff, Ja, _) => "ほかにご不明な点がございましたら、お気軽にお問い合わせください。",
        (SignOff, Zh, Friendly) => "还有什么可以帮你的吗？",
        (SignOff, Zh, Casual) => "还需要什么，随时说！",
        (SignOff, Zh, Empathetic) => "希望这能帮到你。如果还需要什么，我一直都在。",
        (SignOff, Zh, Witty) => "还有别的吗？我的答案多着呢。",
        (SignOff, Zh, _) => "如有其他问题，欢迎随时咨询。",
        (SignOff, Ko, Friendly) => "더 도와드릴 일이 있을까요?",
        (SignOff, Ko, Casual) => "더 필요한 게 있으면 언제든 말해 주세요!",
        (SignOff, Ko, Empathetic) => "도움이 되었으면 좋겠어요. 더 필요한 게 있으면 언제든 찾아 주세요.",
        (SignOff, Ko, Witty) => "또 궁금한 게 있으세요? 답은 아직 많이 남아 있어요.",
        (SignOff, Ko, _) => "추가로 궁금하신 점이 있으시면 언제든지 문의해 주십시오.",

        (Clarify, En, Casual) => "Hmm, I didn't quite get that. Could you say it another way?",
        (Clarify, En, _) => "Sorry, I didn't understand. Could you rephrase your question?",
        (Clarify, It, _) => "Scusa, non ho capito. Puoi riformulare la domanda?",
        (Clarify, Es, _) => "Perdona, no lo he entendido. ¿Puedes reformular la pregunta?",
        (Clarify, Fr, _) => "Désolé, je n'ai pas compris. Pouvez-vous reformuler votre question ?",
        (Clarify, De, Professional | BrandVoice) => {
            "Entschuldigung, das habe ich nicht verstanden. Könnten Sie Ihre Frage anders formulieren?"
        }
        (Clarify, De, _) => "Entschuldigung, das habe ich nicht verstanden. Kannst du deine Frage anders formulieren?",
        (Clarify, Pt, _) => "Desculpe, não entendi. Pode reformular a pergunta?",
        (Clarify, Nl, Professional | BrandVoice) => "Sorry, dat heb ik niet begrepen. Kunt u uw vraag anders formuleren?",
        (Clarify, Nl, _) => "Sorry, dat snapte ik niet helemaal. Kun je je vraag anders formuleren?",
        (Clarify, Sv, _) => "Förlåt, det förstod jag inte. Kan du formulera frågan på ett annat sätt?",
        (Clarify, Ru, _) => "Извините, я не совсем понимаю. Не могли бы вы переформулировать вопрос?",
        (Clarify, Ja, _) => "申し訳ありません、うまく理解できませんでした。別の言い方で質問していただけますか？",
        (Clarify, Zh, Professional | BrandVoice) => "抱歉，我没有理解您的意思。能否换一种方式描述您的问题？",
        (Clarify, Zh, _) => "抱歉，我没太明白。你能换个说法再问一次吗？",
        (Clarify, Ko, Professional | BrandVoice) => {
            "죄송합니다. 말씀을 잘 이해하지 못했습니다. 질문을 다르게 표현해 주시겠습니까?"
        }
        (Clarify, Ko, _) => "죄송해요, 잘 이해하지 못했어요. 다른 말로 다시 질문해 주시겠어요?",

        (Decline, En, Empathetic) => {
            "I'm sorry, that isn't something I can help with here. I'm happy to answer questions about our products and services."
        }
        (Decline, En, _) => "That isn't something I can help with. I can answer questions about our products and services.",
        (Decline, It, _) => "Non posso aiutarti con questo. Posso rispondere a domande sui nostri prodotti e servizi.",
        (Decline, Es, _) => "No puedo ayudarte con eso. Puedo responder preguntas sobre nuestros productos y servicios.",
        (Decline, Fr, _) => {
            "Je ne peux pas vous aider sur ce point. Je peux répondre aux questions sur nos produits et services."
        }
        (Decline, De, _) => {
            "Dabei kann ich leider nicht helfen. Ich beantworte gerne Fragen zu unseren Produkten und Dienstleistungen."
        }
        (Decline, Pt, _) => "Não posso ajudar com isso. Posso responder a perguntas sobre os nossos produtos e serviços.",
        (Decline, Nl, _) => {
            "Daar kan ik helaas niet mee helpen. Ik beantwoord graag vragen over onze producten en diensten."
        }
        (Decline, Sv, _) => {
            "Det kan jag tyvärr inte hjälpa till med. Jag svarar gärna på frågor om våra produkter och tjänster."
        }
        (Decline, Ru, _) => {
            "С этим я, к сожалению, помочь не могу. Я могу ответить на вопросы о наших продуктах и услугах."
        }
        (Decline, Ja, _) => {
            "申し訳ありませんが、その件についてはお手伝いできません。当社の製品やサービスに関するご質問にはお答えします。"
        }
        (Decline, Zh, _) => "抱歉，这方面我无法提供帮助。我可以回答关于我们产品和服务的问题。",
        (Decline, Ko, Professional | BrandVoice) => {
            "죄송하지만 그 부분은 도와드릴 수 없습니다. 저희 제품과 서비스에 관한 질문에는 답변드릴 수 있습니다."
        }
        (Decline, Ko, _) => {
            "죄송하지만 그건 도와드릴 수 없어요. 저희 제품과 서비스에 관한 질문이라면 답해 드릴게요."
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
    fn every_phrase_of_every_personality_exists_in_every_language() {
        for p in Personality::ALL {
            for l in Lang::ALL {
                for which in Phrase::ALL {
                    let t = phrase(*p, l, which, "Luma");
                    if which == Phrase::AnswerIntro && matches!(p, Personality::Professional | Personality::BrandVoice)
                    {
                        assert!(t.is_empty(), "{p:?} {l:?}: professional answers have no opening");
                    } else {
                        assert!(!t.trim().is_empty(), "{which:?} {p:?} {l:?}");
                    }
                    // A phrase in English where another language is wanted would be a
                    // copy-paste slip (names and brands aside, no phrase is shared).
                    if l != Lang::En && !t.is_empty() {
                        assert_ne!(t, phrase(*p, Lang::En, which, "Luma"), "{which:?} {p:?} {l:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn wide_punctuation_is_not_followed_by_a_space() {
        let v = Voice::new("Luma", Personality::Friendly, "", Lang::Ja);
        let framed = v.frame_answer(Lang::Ja, "30日以内なら返金できます。");
        assert!(framed.starts_with("喜んでお答えします！30日"), "{framed}");
        let v = Voice::new("Luma", Personality::Friendly, "", Lang::De);
        assert!(v.frame_answer(Lang::De, "Ja.").starts_with("Sehr gerne! Ja."));
    }

    #[test]
    fn foreign_answers_name_the_article_and_its_language_in_the_visitors_language() {
        let v = Voice::new("Luma", Personality::Professional, "", Lang::En);
        assert_eq!(
            v.frame_foreign_answer(Lang::En, "it", "Rimborsi", "Rimborso entro 30 giorni."),
            "Our article “Rimborsi” (in Italian) says: Rimborso entro 30 giorni.\n\nPlease let me know if you need further assistance."
        );
        let it = v.frame_foreign_answer(Lang::It, "en", "Refunds", "Refunds within 30 days.");
        assert!(it.starts_with("Il nostro articolo «Refunds» (in inglese) dice: Refunds within 30 days."), "{it}");
        let de = v.frame_foreign_answer(Lang::De, "pt-BR", "Reembolsos", "…");
        assert!(de.starts_with("In unserem Artikel „Reembolsos“ (auf Portugiesisch) heißt es: …"), "{de}");
        let ja = v.frame_foreign_answer(Lang::Ja, "EN", "Refunds", "Within 30 days.");
        assert!(
            ja.starts_with("当社の記事「Refunds」（英語）には、次のように記載されています：Within 30 days."),
            "{ja}"
        );
        // Unknown code or "und": no language named; no title: the documentation.
        let und = v.frame_foreign_answer(Lang::En, "und", "Refunds", "Within 30 days.");
        assert!(und.starts_with("Our article “Refunds” says: Within"), "{und}");
        let xx = v.frame_foreign_answer(Lang::Fr, "xx", "", "Sous 30 jours.");
        assert!(xx.starts_with("Notre documentation indique : Sous 30 jours."), "{xx}");
        // The same language as the visitor's names none either.
        let same = v.frame_foreign_answer(Lang::Sv, "sv", "Återbetalning", "Inom 30 dagar.");
        assert!(same.starts_with("I vår artikel ”Återbetalning” står det: Inom"), "{same}");
        // The personality frames it as any answer.
        let f = Voice::new("Luma", Personality::Friendly, "", Lang::En);
        let framed = f.frame_foreign_answer(Lang::En, "fr", "Remboursements", "Sous 30 jours.");
        assert!(framed.starts_with("Happy to help! Our article “Remboursements” (in French) says:"), "{framed}");
        assert!(framed.ends_with("Anything else I can help with?"), "{framed}");
    }

    #[test]
    fn every_language_names_every_source_language() {
        let v = Voice::new("Luma", Personality::Professional, "", Lang::En);
        for visitor in Lang::ALL {
            let mut leads = std::collections::HashSet::new();
            for source in Lang::ALL {
                let t = v.frame_foreign_answer(visitor, source.code(), "T", "BODY");
                assert!(t.contains("T") && t.contains("BODY"), "{visitor:?} {source:?}: {t}");
                leads.insert(t);
            }
            // Twelve different texts: every source language has its own name
            // (the visitor's own language is named by none).
            assert_eq!(leads.len(), Lang::ALL.len(), "{visitor:?}");
            let none = v.frame_foreign_answer(visitor, "und", "T", "BODY");
            assert_eq!(none, v.frame_foreign_answer(visitor, visitor.code(), "T", "BODY"));
            assert!(!v.frame_foreign_answer(visitor, "und", "", "BODY").is_empty());
        }
    }

    #[test]
    fn brand_phrases_can_be_written_for_the_new_languages() {
        let v = Voice::new(
            "Luma",
            Personality::BrandVoice,
            "sign-off [de]: Viel Spaß!\nsign-off [ja]: よろしくお願いします。",
            Lang::En,
        );
        assert_eq!(v.say(Lang::De, Phrase::SignOff), "Viel Spaß!");
        assert_eq!(v.say(Lang::Ja, Phrase::SignOff), "よろしくお願いします。");
    }

    #[test]
    fn personality_changes_the_tone() {
        let a = phrase(Personality::Friendly, Lang::En, Phrase::Greeting, "Luma");
        let b = phrase(Personality::Professional, Lang::En, Phrase::Greeting, "Luma");
        assert_ne!(a, b);
    }
}
