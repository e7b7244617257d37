//! Knowledge gaps (H1): grouping the questions the agent could not answer
//! into topics. Pure: the store, the job and the API live elsewhere.
//!
//! # Method
//!
//! Questions arrive one at a time and are clustered online: each new question
//! joins the most similar open topic if that topic is similar enough
//! ([`best_topic`]), else it opens a topic of its own. A topic is remembered
//! only through a running [`TopicSummary`] (size, term document frequencies,
//! sum of member vectors), which the caller stores as JSON with the topic, so
//! grouping survives restarts and costs no pass over old questions.
//! Removing a question (dismissed, moved) subtracts it from the summary.
//!
//! **Features** ([`features`]): the question's key terms and, when the
//! embedding model is installed, its L2-normalised vector. Terms are the
//! folded words of [`crate::text`] without its stopwords and without
//! [`EXTRA_STOPWORDS`] (German, Portuguese, chat spelling, support filler),
//! numbers of four digits or more (order numbers, years) dropped, stemmed
//! with [`text::stem`], then mapped through a small support-desk
//! [`LEXICON`] (and a few two-word [`PHRASES`]) so that "remboursement",
//! "reembolso", "money back" and "refund" are one term; distinct, at most
//! [`MAX_TERMS`] from the first [`MAX_INPUT_CHARS`] characters.
//!
//! **Similarity to a topic**, by two paths; the question may join through
//! either (vectors find paraphrases that share no word, terms find what a
//! monolingual model misses across languages):
//!
//! * *Vectors*, when the question and the topic both have one of the same
//!   dimension: the cosine between the question and the topic's centroid
//!   (`vector_sum` normalised), compared with [`GroupingConfig::min_cosine`].
//! * *Key terms*, when they share an exact term: a weighted cosine between the question's terms
//!   and the topic's centroid in term space, compared with
//!   [`GroupingConfig::min_term_score`].
//!   - The centroid weight of a term is its share of members containing it
//!     (`terms[w] / size`): the words most members use dominate, a word one
//!     member used barely counts.
//!   - Every term is weighted by its inverse *topic* frequency,
//!     `idf(w) = 1 + ln((T + 1) / (df(w) + 1))` over the `T` topics passed
//!     in: a word many topics share weighs less, and a question word no topic
//!     knows weighs most, so new words pull the score down.
//!   - A shared term is further weighted by a prior: [`GENERIC_WEIGHT`] for
//!     [`GENERIC_WORDS`] (generic verbs and vague nouns: "change", "order",
//!     "account", "available"), 1 otherwise. Unshared terms keep their full
//!     weight on both sides, so sharing only "order" is weak evidence while
//!     differing in it ("cancel order" / "cancel subscription") still counts.
//!   - A question term absent from the topic may match a topic term that is
//!     the same word with a typo ([`text::fuzzy_eq`]) or in another form (one
//!     a prefix of the other: "cancel" / "cancelled"), at [`RELATED_WEIGHT`];
//!     such matches only confirm a topic at least one exact term points to.
//!   - The shared terms must carry at least [`MIN_TOPIC_COVER`] of the
//!     topic's (squared) weight: a one-word question does not join a topic
//!     that word is only a small part of.
//!
//! The two scores live on different scales, so a topic's score is the better
//! margin of the two over its own threshold, and topics are ranked by it, `(score − min) / (1 − min)`; ties go to
//! the earlier topic in the slice. A question with neither terms nor a vector
//! never joins. Vectors of another dimension than the topic's (a model
//! change), empty or non-finite vectors are treated as absent; nothing here
//! panics on any input.
//!
//! **Label** ([`representative`]): the member closest to the rest of the
//! topic — by cosine to the other members' vector sum when there are vectors,
//! else by overlap with the terms the other members use (normalised by the
//! square root of the member's term count, so short questions made of the
//! main words win).
//!
//! **Quality** (`tests/gaps_quality.rs`, 508 questions of 61 intents in six
//! languages, key terms only): pair precision ≈ 0.83, pair recall ≈ 0.17,
//! purity ≈ 0.97 — precision first, since a topic mixing intents misleads
//! while a split intent only costs a second look. Paraphrases sharing no
//! word (after the lexicon) meet only through vectors. Speed: `frontdesk
//! bench gaps`. [`group`] and [`grouping_quality`] are the helpers both use.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::text;

/// Only this many characters of a question are read for terms.
pub const MAX_INPUT_CHARS: usize = 2_000;
/// At most this many distinct terms per question.
pub const MAX_TERMS: usize = 48;
/// Longer words (URLs, base64, text without spaces) are cut to this many characters.
const MAX_TERM_CHARS: usize = 40;
/// Weight of a typo or word-form match relative to an exact one.
pub const RELATED_WEIGHT: f32 = 0.8;
/// Share of a topic's (squared) term weight the question must cover: a
/// one-word question does not join a topic that word is only a small part of.
pub const MIN_TOPIC_COVER: f32 = 0.4;

/// Function words missing from [`text`]'s list (German, Portuguese, more of
/// en/fr/es/it) and support-desk filler that says nothing about the topic.
/// Compared with folded words, before stemming.
pub const EXTRA_STOPWORDS: &[&str] = &[
    // English: contractions split by folding, chat spelling, filler.
    "im ive dont doesnt didnt cant cannot wont isnt arent wasnt hasnt havent whats hows didn doesn hasn haven",
    "isn wasn aren couldn wouldn shouldn won don u ur pls plz thx ty ok okay also still already really like",
    "know tell help let make see possible able anyone someone something anything guys question quick urgent",
    "asap then than but them they their these those here all more much many too very into out up he she him",
    "her his us going way kindly regards dear sir madam hallo",
    // German
    "ich du er sie es wir ihr mein meine meinen meinem meiner dein deine ihre ihren ihrem unser unsere ist",
    "sind bin habe hast hat haben wie was wo wann warum wer welche welcher welches kann konnen konnt mochte",
    "mochten bitte danke der die das den dem des ein eine einen einem einer und oder mit fur von zu zum zur",
    "auf im bei aus nach nicht kein keine noch schon auch gibt man sich mir mich uns euch ihnen werden wird",
    "wurde muss soll wenn dass ob hier da aber guten",
    // Portuguese
    "o os as um uma umas uns do da dos das em no na nos nas por para com como quando onde qual quais meu",
    "minha meus minhas seu sua eu voce voces ou nao ola obrigado obrigada posso pode podem quero gostaria",
    "esta estou tem ter ha ao aos isso este essa esse faco fazer",
    // French
    "on y en un une mais si me m s l c faire fait veux voudrais aimerais savoir ca svp stp ils elles se sa",
    "son ses notre nos leur tout tous toutes avez pouvez etre",
    // Spanish
    "le les mas pero puedo podria pueden puede necesito quisiera saber hacer tengo tiene tienen usted ustedes",
    "favor eso ya todavia aun todo todos",
    // Italian
    "io tu voi noi vostro vostra ancora gia tutto tutti questo questa qualcuno ma ne dell nell all sull",
    "potete potrei voglio sapere fare faccio",
];

/// Words any support question may use whatever its topic: generic verbs
/// ("change", "work"), vague nouns ("order", "account", "product"), adverbs.
/// They count, at [`GENERIC_WEIGHT`], so "cancel order" and "cancel
/// subscription" need their nouns, not the verb alone, to meet. Folded,
/// before stemming.
pub const GENERIC_WORDS: &[&str] = &[
    // English
    "work works working set setup send sent connect switch change update keep keeps getting got use using add",
    "remove edit say says said find check try tried buy happen happens happened stop stopped come go give put",
    "take show shows new old now only again yet ever never back other another different same available",
    "possible option options thing things stuff item items product products order orders account accounts",
    "issue issues problem problems error errors time times day days week month year service support customer",
    "page app site website info information details one first last long wrong right good best free allowed",
    "way mine",
    // Other languages
    "cambiar cambio cambiare changer modifier andern alterar usar utiliser usare pedido commande ordine",
    "bestellung encomenda cuenta compte konto conta producto produit prodotto produto artikel articulo",
    "article articolo problema probleme",
];

/// Support-desk concepts across English, French, Spanish, Italian, German and
/// Portuguese (and English synonyms): every word of a group becomes the
/// group's first word, so "remboursement", "reembolso" and "refund" are one
/// term. Folded words; they are stemmed when the table is built. A small
/// lexicon of the vocabulary support questions share, not a dictionary: the
/// vector path is the real answer to paraphrases.
pub const LEXICON: &[&str] = &[
    concat!(
        "refund refunds refunded reimburse reimbursed reimbursement remboursement rembourser rembourse ",
        "reembolso reembolsar rimborso rimborsare ruckerstattung erstattung erstatten estorno",
    ),
    "password passwords passwort contrasena contrasenas senha pwd",
    concat!(
        "invoice invoices facture factures factura facturas fattura fatture rechnung rechnungen fatura ",
        "faturas",
    ),
    concat!(
        "cancel cancelled canceled cancellation cancelation annuler annulation cancelar cancelacion cancelo ",
        "annullare annullamento stornieren storno cancelamento resilier resiliation disdire disdetta kundigen ",
        "kundige kundigung",
    ),
    concat!(
        "subscription subscriptions abonnement abonnements suscripcion suscripciones abbonamento abo ",
        "assinatura membership",
    ),
    concat!(
        "order orders commande commandes pedido pedidos ordine ordini bestellung bestellungen encomenda ",
        "encomendas",
    ),
    concat!(
        "shipping ship shipped shipment delivery deliver delivered deliveries postage livraison livrer livrez ",
        "envio envios spedizione spedire consegna versand lieferung liefern liefert entrega frete",
    ),
    concat!(
        "return returns returned returning retour retourner devolucion devolver reso restituire rucksendung ",
        "zurucksenden devolucao",
    ),
    "exchange exchanges swap echange echanger umtauschen umtausch troca trocar",
    "account accounts compte cuenta konto conta",
    "email emails mail mails correo courriel",
    "delete deleted deleting erase supprimer eliminar borrar borre loschen excluir apagar",
    "payment payments pay paying paid paiement payer pagar pagamento pagare zahlung bezahlen zahlen",
    "card cards tarjeta tarjetas karte kreditkarte cartao",
    concat!(
        "price prices pricing cost costs tarif tarifs prix precio precios prezzo prezzi costo costa preis ",
        "preise kosten kostet preco custo custa",
    ),
    "discount discounts reduction reductions descuento descuentos sconto sconti rabatt desconto descontos",
    "coupon coupons voucher vouchers promo cupon gutschein",
    "gift gifts giftcard cadeau regalo geschenk geschenkgutschein",
    "free gratuit gratuite gratis gratuito gratuita kostenlos",
    "trial essai prueba prova testphase",
    "plan plans tier forfait plano planes",
    "export exporter exportar esportare esporto exportieren exporto",
    "data donnees datos dati daten dados",
    "file files fichier fichiers archivo archivos datei dateien arquivo arquivos",
    "download telecharger descargar scaricare scarico herunterladen baixar",
    "language languages langue idioma lingua sprache",
    "phone telephone telefono telefone telefon telefonnummer",
    "hours horaires horario horarios orari orario offnungszeiten",
    "shop shops boutique tienda negozio geschaft loja showroom",
    "address addresses adress adresse direccion indirizzo endereco lieferadresse",
    "size sizes sizing taille talla taglia grosse tamanho",
    "warranty guarantee garantie garantia garanzia",
    "stock restock restocked inventory estoque",
    concat!(
        "damaged damage broken cracked shattered casse roto danneggiato rotto kaputt beschadigt quebrado ",
        "danificado",
    ),
    "missing manque manquant falta mancante manca fehlt fehlend faltando",
    concat!(
        "track tracking suivi suivre rastrear seguimiento tracciare tracciamento verfolgen sendungsverfolgung ",
        "rastreio",
    ),
    "parcel package colis paquete pacco paket pacote",
    "login logon log connexion anmelden anmeldung",
    "locked lock blocked bloque bloqueado bloccato gesperrt sperren",
    "forgot forgotten forget oublie olvide olvidado dimenticato dimenticata vergessen esqueci esquecido",
    "reset reinitialiser restablecer restablezco reimpostare zurucksetzen redefinir",
    "2fa mfa otp totp authenticator",
    "authentication authentification autenticacion autenticazione authentifizierung autenticacao",
    "enable activate activer activar activo attivare aktivieren ativar",
    "key keys cle clave chiave schlussel chave token tokens",
    "limit limits limite limites limiti quota quotas",
    "integration integrations integrate integracion integrazione integracao",
    "notification notifications notify notificacion notifica benachrichtigung notificacao",
    "mobile movil cellulare handy celular smartphone",
    concat!(
        "encryption encrypt encrypted chiffrement chiffrees cifrado cifrados crittografia crittografati ",
        "verschlusselung verschlusselt criptografia criptografados",
    ),
    concat!(
        "stored hosted hosting heberge hebergees alojado alojados ospitati gespeichert almacenados archiviati ",
        "armazenados",
    ),
    "server servers serveur serveurs servidor servidores",
    "outage panne caida ausfall storung interruzione",
    "invite invitation invitations invites invitar invito inviter invitare einladen convidar",
    "team equipe equipo squadra",
    "user users utilisateur utilisateurs usuario usuarios utente utenti benutzer nutzer",
    "member members membre membres miembro miembros membro membri mitglied mitglieder teammitglieder",
    "permission permissions permiso permisos permesso permessi berechtigung berechtigungen permissao",
    "role roles rol ruolo rolle",
    "storage stockage almacenamiento archiviazione speicherplatz speicher armazenamento",
    "recover restore recuperer recuperar recuperare recupero wiederherstellen",
    "domain domains domaine dominio",
    "unsubscribe desabonner desuscribir disiscrivere abbestellen descadastrar opt",
    "job jobs career careers hiring recruit recruiting recrutez recruter empleo emprego",
    "point points punti puntos punkte pontos",
    "loyalty fidelite fidelidad fedelta treue fidelidade",
    "browser browsers navigateur navegador navegadores",
    "affiliate affiliates affiliation afiliado afiliados affiliato referral parrainage",
    "partner partners partenaire parceiro",
    "vat tax taxes tva iva mwst mehrwertsteuer steuer imposto impuesto imposta",
    "customs douane aduana dogana zoll alfandega",
    concat!(
        "verify verification confirm confirmation confirmer confirmacion conferma bestatigung bestatigen ",
        "confirmacao verificar verificacion verifica verifizieren",
    ),
    "status statut estado stato",
    "fee fees charge charges frais spese gebuhr gebuhren",
    "company business entreprise empresa azienda societe firma unternehmen",
    "offline offlinemodus",
];

/// Pairs of words (after stopwords) that stand for one concept: "mot (de)
/// passe" → password, "money back" → refund.
pub const PHRASES: &[(&str, &str, &str)] = &[
    ("mot", "passe", "password"),
    ("money", "back", "refund"),
    ("devolver", "dinero", "refund"),
    ("geld", "zuruck", "refund"),
    ("two", "factor", "2fa"),
    ("two", "step", "2fa"),
    ("double", "authentification", "2fa"),
    ("dos", "pasos", "2fa"),
    ("single", "sign", "sso"),
    ("sin", "conexion", "offline"),
    ("hors", "ligne", "offline"),
    ("without", "internet", "offline"),
];

/// Weight of a [`GENERIC_WORDS`] term relative to any other.
pub const GENERIC_WEIGHT: f32 = 0.4;

/// The word lists above as sets, built once.
struct Vocabulary {
    /// [`EXTRA_STOPWORDS`].
    fillers: HashSet<&'static str>,
    /// Stem of every [`LEXICON`] word → stem of its group's first word.
    concepts: HashMap<String, String>,
    /// Stems (after [`LEXICON`]) of the [`GENERIC_WORDS`].
    generic: HashSet<String>,
}

fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(|| {
        let fillers = EXTRA_STOPWORDS.iter().flat_map(|l| l.split_whitespace()).collect();
        let mut concepts = HashMap::new();
        for group in LEXICON {
            let mut words = group.split_whitespace();
            let Some(first) = words.next() else { continue };
            let concept = text::stem(first);
            for w in std::iter::once(first).chain(words) {
                concepts.entry(text::stem(w)).or_insert_with(|| concept.clone());
            }
        }
        let generic = GENERIC_WORDS
            .iter()
            .flat_map(|l| l.split_whitespace())
            .map(|w| {
                let stem = text::stem(w);
                concepts.get(&stem).cloned().unwrap_or(stem)
            })
            .collect();
        Vocabulary { fillers, concepts, generic }
    })
}

/// How much a term counts before its topic frequency: generic words less.
fn prior(term: &str) -> f32 {
    if vocabulary().generic.contains(term) {
        GENERIC_WEIGHT
    } else {
        1.0
    }
}

fn is_filler(w: &str) -> bool {
    text::is_stopword(w) || vocabulary().fillers.contains(w)
}

/// What grouping needs to know about one question.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct QuestionFeatures {
    /// Distinct key terms (folded, stopwords removed, stemmed), in order of appearance.
    pub terms: Vec<String>,
    /// The question's L2-normalised embedding, when the model is installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f32>>,
}

impl QuestionFeatures {
    /// Whether there is nothing to compare (the question never joins a topic).
    pub fn is_empty(&self) -> bool {
        self.terms.iter().all(|t| t.is_empty()) && usable_vector(self.vector.as_deref()).is_none()
    }
}

/// The features of a question: its key terms and, if given and usable (not
/// empty, all finite, not zero), its vector scaled to unit length.
pub fn features(question: &str, vector: Option<Vec<f32>>) -> QuestionFeatures {
    let head = match question.char_indices().nth(MAX_INPUT_CHARS) {
        Some((at, _)) => &question[..at],
        None => question,
    };
    let words: Vec<String> = text::words(head)
        .into_iter()
        .filter(|w| !is_filler(w))
        .filter(|w| !(w.len() >= 4 && w.chars().all(|c| c.is_ascii_digit())))
        .filter(|w| !(w.len() < 2 && w.is_ascii()))
        .map(|w| if w.chars().count() > MAX_TERM_CHARS { w.chars().take(MAX_TERM_CHARS).collect() } else { w })
        .collect();
    let concepts = &vocabulary().concepts;
    let mut terms: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() && terms.len() < MAX_TERMS {
        let pair = words.get(i + 1).and_then(|next| {
            PHRASES.iter().find(|(a, b, _)| *a == words[i] && b == next).map(|(_, _, concept)| text::stem(concept))
        });
        let term = match pair {
            Some(concept) => {
                i += 2;
                concept
            }
            None => {
                let stem = text::stem(&words[i]);
                i += 1;
                concepts.get(&stem).cloned().unwrap_or(stem)
            }
        };
        if !terms.contains(&term) {
            terms.push(term);
        }
    }
    let vector = vector.and_then(|mut v| {
        let norm = usable_vector(Some(&v))?;
        v.iter_mut().for_each(|x| *x /= norm);
        Some(v)
    });
    QuestionFeatures { terms, vector }
}

/// The norm of `v` when it can be used for cosine: non-empty, finite, not zero.
fn usable_vector(v: Option<&[f32]>) -> Option<f32> {
    let v = v?;
    if v.is_empty() || !v.iter().all(|x| x.is_finite()) {
        return None;
    }
    let norm = v.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt() as f32;
    (norm.is_finite() && norm > 1e-12).then_some(norm)
}

/// A topic's running summary, stored with the topic (serde JSON) so grouping
/// survives restarts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TopicSummary {
    /// Questions in the topic.
    pub size: u32,
    /// Term → number of member questions containing it.
    #[serde(default)]
    pub terms: BTreeMap<String, u32>,
    /// Sum of the member vectors (not normalised); `None` until a member has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector_sum: Option<Vec<f32>>,
    /// Members whose vector is in `vector_sum` (the sum is dropped when the last leaves).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub vectors: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl TopicSummary {
    /// A summary of one question.
    pub fn of(q: &QuestionFeatures) -> TopicSummary {
        let mut s = TopicSummary::default();
        s.add(q);
        s
    }

    /// Counts `q` in. A vector of another dimension than the topic's is left out.
    pub fn add(&mut self, q: &QuestionFeatures) {
        self.size = self.size.saturating_add(1);
        for t in distinct_terms(q) {
            let n = self.terms.entry(t.to_owned()).or_insert(0);
            *n = n.saturating_add(1);
        }
        let Some(v) = q.vector.as_deref() else { return };
        let Some(norm) = usable_vector(Some(v)) else { return };
        match &mut self.vector_sum {
            Some(sum) if sum.len() == v.len() => {
                sum.iter_mut().zip(v).for_each(|(s, x)| *s += x / norm);
                self.vectors = self.vectors.saturating_add(1);
            }
            Some(_) => {}
            None => {
                self.vector_sum = Some(v.iter().map(|x| x / norm).collect());
                self.vectors = 1;
            }
        }
    }

    /// Counts `q` out (it must have been added; counts never go below zero).
    pub fn remove(&mut self, q: &QuestionFeatures) {
        self.size = self.size.saturating_sub(1);
        for t in distinct_terms(q) {
            if let Some(n) = self.terms.get_mut(t) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.terms.remove(t);
                }
            }
        }
        if self.size == 0 {
            *self = TopicSummary::default();
            return;
        }
        let Some(v) = q.vector.as_deref() else { return };
        let Some(norm) = usable_vector(Some(v)) else { return };
        if let Some(sum) = &mut self.vector_sum {
            if sum.len() == v.len() {
                if self.vectors == 1 {
                    self.vector_sum = None;
                    self.vectors = 0;
                } else {
                    sum.iter_mut().zip(v).for_each(|(s, x)| *s -= x / norm);
                    self.vectors = self.vectors.saturating_sub(1);
                }
            }
        }
    }

    /// The centroid direction (unit length), when the topic has vectors.
    pub fn centroid(&self) -> Option<Vec<f32>> {
        let sum = self.vector_sum.as_deref()?;
        let norm = usable_vector(Some(sum))?;
        Some(sum.iter().map(|x| x / norm).collect())
    }

    /// The `n` terms most members share, most frequent first (ties alphabetical).
    pub fn top_terms(&self, n: usize) -> Vec<(&str, u32)> {
        let mut all: Vec<(&str, u32)> = self.terms.iter().map(|(t, c)| (t.as_str(), *c)).collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        all.truncate(n);
        all
    }

    /// Share of members containing `count`'s term, in [0, 1].
    fn share(&self, count: u32) -> f32 {
        if self.size == 0 {
            0.0
        } else {
            (count as f32 / self.size as f32).min(1.0)
        }
    }
}

/// The question's terms without empties and duplicates (features are
/// deserialised from storage, so they are not trusted to be clean).
fn distinct_terms(q: &QuestionFeatures) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::with_capacity(q.terms.len());
    for t in &q.terms {
        if !t.is_empty() && !out.contains(&t.as_str()) {
            out.push(t);
        }
    }
    out
}

/// Thresholds of [`best_topic`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupingConfig {
    /// Minimum cosine between a question's vector and a topic's centroid.
    pub min_cosine: f32,
    /// Minimum key-term score (TF-IDF cosine, see the module doc).
    pub min_term_score: f32,
}

impl Default for GroupingConfig {
    /// `min_term_score` is tuned on the labelled sample for precision first
    /// (mixing two intents is worse than splitting one). `min_cosine` is the
    /// usual paraphrase threshold for all-MiniLM-L6-v2 (0.75 pairwise) eased
    /// a little because a centroid of paraphrases sits closer to a new
    /// paraphrase than any single member does.
    fn default() -> Self {
        GroupingConfig { min_cosine: 0.72, min_term_score: 0.45 }
    }
}

/// Inverse topic frequency of a term found in `df` of `topics` topics.
fn idf(df: u32, topics: usize) -> f32 {
    1.0 + ((topics as f32 + 1.0) / (df as f32 + 1.0)).ln()
}

/// Whether two different terms are the same word misspelt ("pasword" /
/// "password", [`text::fuzzy_eq`]) or in another form, one a prefix of the
/// other ("cancel" / "cancelled", "deliver" / "delivery").
fn related(a: &str, b: &str) -> bool {
    // Cheap reject: every rule below keeps the first or the last character.
    if a.chars().next() != b.chars().next() && a.chars().next_back() != b.chars().next_back() {
        return false;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let short_n = short.chars().count();
    if short_n >= 5 && long.starts_with(short) && long.chars().count() - short_n <= 5 {
        return true;
    }
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    common >= 7 || text::fuzzy_eq(a, b)
}

/// The best open topic for `q` among `topics` (id, summary), with its score,
/// if any is similar enough (see the module doc); `None` means "open a new topic".
pub fn best_topic(q: &QuestionFeatures, topics: &[(i64, &TopicSummary)], cfg: &GroupingConfig) -> Option<(i64, f32)> {
    let q_terms = distinct_terms(q);
    let q_vector = q.vector.as_deref().and_then(|v| usable_vector(Some(v)).map(|n| (v, n)));
    if q_terms.is_empty() && q_vector.is_none() {
        return None;
    }
    let mut stats: Option<TermStats> = None;
    let mut best: Option<(i64, f32, f32)> = None;
    for &(id, topic) in topics {
        if topic.size == 0 {
            continue;
        }
        let by_vector = q_vector.and_then(|(v, norm)| {
            let sum = topic.vector_sum.as_deref().filter(|s| s.len() == v.len())?;
            let sum_norm = usable_vector(Some(sum))?;
            let dot: f64 = v.iter().zip(sum).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
            Some((dot / (f64::from(norm) * f64::from(sum_norm))) as f32)
        });
        // Typo and word-form matches only confirm a topic an exact term
        // already points to (alone, "hiring" would meet "firing"): most
        // topics are ruled out here, before any arithmetic.
        let by_terms = if q_terms.iter().any(|t| topic.terms.contains_key(*t)) {
            let stats = stats.get_or_insert_with(|| TermStats::new(topics));
            Some(stats.score(&q_terms, topic))
        } else {
            None
        };
        // Either path may place the question (vectors catch paraphrases that
        // share no word, terms catch what a monolingual model misses across
        // languages); the better margin over its own threshold wins.
        let Some((score, min)) = [by_vector.map(|s| (s, cfg.min_cosine)), by_terms.map(|s| (s, cfg.min_term_score))]
            .into_iter()
            .flatten()
            .filter(|(s, min)| s.is_finite() && s >= min)
            .max_by(|a, b| {
                let m = |(s, min): &(f32, f32)| (s - min) / (1.0 - min).max(1e-6);
                m(a).total_cmp(&m(b))
            })
        else {
            continue;
        };
        let margin = (score - min) / (1.0 - min).max(1e-6);
        if best.is_none_or(|(_, _, m)| margin > m) {
            best = Some((id, score, margin));
        }
    }
    best.map(|(id, score, _)| (id, score))
}

/// The multiply-rotate hash of rustc (FxHash): several times faster than the
/// default SipHash on short keys, which matters as the table of topic
/// frequencies is rebuilt for every question. Its keys are the terms of the
/// tenant's own topics, and each question adds at most [`MAX_TERMS`].
#[derive(Default)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Topic frequencies of terms over the topics of one [`best_topic`] call.
struct TermStats<'a> {
    df: HashMap<&'a str, u32, BuildHasherDefault<FxHasher>>,
    topics: usize,
}

impl<'a> TermStats<'a> {
    fn new(topics: &[(i64, &'a TopicSummary)]) -> TermStats<'a> {
        let capacity = topics.len() * 4;
        let mut df: HashMap<&'a str, u32, BuildHasherDefault<FxHasher>> =
            HashMap::with_capacity_and_hasher(capacity, BuildHasherDefault::default());
        let mut n = 0;
        for (_, t) in topics.iter().filter(|(_, t)| t.size > 0) {
            n += 1;
            for term in t.terms.keys() {
                *df.entry(term.as_str()).or_insert(0) += 1;
            }
        }
        TermStats { df, topics: n }
    }

    /// Inverse topic frequency of a term.
    fn idf(&self, term: &str) -> f32 {
        idf(self.df.get(term).copied().unwrap_or(0), self.topics)
    }

    /// TF-IDF cosine between the question's terms and the topic's centroid
    /// (see the module doc); 0 when the topic is not a candidate at all.
    fn score(&self, q_terms: &[&str], topic: &TopicSummary) -> f32 {
        if !q_terms.iter().any(|t| topic.terms.contains_key(*t)) {
            return 0.0;
        }
        // Every term first counts at its full weight; shared terms are then
        // discounted by their prior (generic words), on both sides.
        let mut topic_norm = 0.0f32;
        for (term, count) in &topic.terms {
            let w = self.idf(term) * topic.share(*count);
            topic_norm += w * w;
        }
        let (mut dot, mut related_dot, mut q_norm, mut covered) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
        let mut matched: Vec<&str> = Vec::with_capacity(q_terms.len());
        for &term in q_terms {
            let (t, count, exact) = match topic.terms.get_key_value(term) {
                Some((t, count)) => (t.as_str(), *count, true),
                None => {
                    let mut near: Option<(&str, u32)> = None;
                    for (t, &count) in &topic.terms {
                        if near.is_none_or(|(_, c)| count > c) && related(term, t) {
                            near = Some((t, count));
                        }
                    }
                    let Some((t, count)) = near else {
                        let w = self.idf(term);
                        q_norm += w * w;
                        continue;
                    };
                    (t, count, false)
                }
            };
            let full = self.idf(t);
            let w = prior(t) * full;
            let share = topic.share(count);
            if exact {
                dot += w * w * share;
            } else {
                related_dot += RELATED_WEIGHT * w * w * share;
            }
            q_norm += w * w;
            if !matched.contains(&t) {
                matched.push(t);
                topic_norm += (w * w - full * full) * share * share;
                covered += w * w * share * share;
            }
        }
        if covered < MIN_TOPIC_COVER * topic_norm {
            return 0.0;
        }
        dot += related_dot;
        if dot <= 0.0 || q_norm <= 0.0 || topic_norm <= 0.0 {
            return 0.0;
        }
        (dot / (q_norm.sqrt() * topic_norm.sqrt())).min(1.0)
    }
}

/// The topic's label: the index (into `members`) of its most representative
/// question — closest to the centroid when vectors are there, else with the
/// highest overlap with the topic's frequent terms (summed shares, divided by
/// the square root of the member's term count, so short questions made of
/// the main words win); ties go to the earliest. Each member is compared with
/// the topic without itself, so a long question is not favoured for its own
/// words. `members` are expected to be the questions `summary` counts.
/// `None` only when `members` is empty.
pub fn representative(summary: &TopicSummary, members: &[&QuestionFeatures]) -> Option<usize> {
    if members.is_empty() {
        return None;
    }
    // Leave-one-out: each member is compared with the rest of the topic, so
    // its own words (or its own vector) do not vote for it.
    if let Some(sum) = summary.vector_sum.as_deref().filter(|_| summary.vectors > 1) {
        let mut best: Option<(usize, f32)> = None;
        for (i, m) in members.iter().enumerate() {
            let Some(v) = m.vector.as_deref().filter(|v| v.len() == sum.len()) else { continue };
            let Some(norm) = usable_vector(Some(v)) else { continue };
            let rest: Vec<f32> = sum.iter().zip(v).map(|(s, x)| s - x / norm).collect();
            let Some(rest_norm) = usable_vector(Some(&rest)) else { continue };
            let cos = v.iter().zip(&rest).map(|(a, b)| a * b).sum::<f32>() / (norm * rest_norm);
            if cos.is_finite() && best.is_none_or(|(_, b)| cos > b) {
                best = Some((i, cos));
            }
        }
        if let Some((i, _)) = best {
            return Some(i);
        }
    }
    let others = summary.size.saturating_sub(1);
    let mut best = (0, 0.0f32);
    for (i, m) in members.iter().enumerate() {
        let terms = distinct_terms(m);
        if terms.is_empty() || others == 0 {
            continue;
        }
        let overlap: f32 = terms
            .iter()
            .map(|t| summary.terms.get(*t).map_or(0.0, |c| (c.saturating_sub(1) as f32 / others as f32).min(1.0)))
            .sum();
        let score = overlap / (terms.len() as f32).sqrt();
        if score > best.1 {
            best = (i, score);
        }
    }
    Some(best.0)
}

/// Groups `questions` in order as the gaps job does, with the topics in
/// memory: the topic index of each question (topics numbered from 0 in the
/// order they open).
pub fn group(questions: &[QuestionFeatures], cfg: &GroupingConfig) -> Vec<usize> {
    let mut topics: Vec<TopicSummary> = Vec::new();
    let mut out = Vec::with_capacity(questions.len());
    for q in questions {
        let open: Vec<(i64, &TopicSummary)> = topics.iter().enumerate().map(|(i, t)| (i as i64, t)).collect();
        let k = match best_topic(q, &open, cfg) {
            Some((id, _)) => id as usize,
            None => {
                topics.push(TopicSummary::default());
                topics.len() - 1
            }
        };
        topics[k].add(q);
        out.push(k);
    }
    out
}

/// How well a grouping matches the true intents.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GroupingQuality {
    pub questions: usize,
    pub topics: usize,
    /// Of the pairs placed in the same topic, the share with the same intent (1 when there are none).
    pub pair_precision: f64,
    /// Of the pairs with the same intent, the share placed in the same topic (1 when there are none).
    pub pair_recall: f64,
    /// Share of questions in their topic's majority intent.
    pub purity: f64,
    /// Share of questions whose topic holds at least one other question of their intent.
    pub with_paraphrase: f64,
}

/// Compares `topics[i]` (the topic given to question `i`) with `labels[i]`
/// (its true intent); extra entries of the longer slice are ignored.
pub fn grouping_quality(labels: &[usize], topics: &[usize]) -> GroupingQuality {
    let n = labels.len().min(topics.len());
    let mut cell: HashMap<(usize, usize), u64> = HashMap::new();
    let mut per_topic: HashMap<usize, u64> = HashMap::new();
    let mut per_label: HashMap<usize, u64> = HashMap::new();
    for (&l, &t) in labels.iter().zip(topics) {
        *cell.entry((t, l)).or_insert(0) += 1;
        *per_topic.entry(t).or_insert(0) += 1;
        *per_label.entry(l).or_insert(0) += 1;
    }
    let pairs = |k: u64| k * k.saturating_sub(1) / 2;
    let together: u64 = cell.values().map(|&k| pairs(k)).sum();
    let same_topic: u64 = per_topic.values().map(|&k| pairs(k)).sum();
    let same_label: u64 = per_label.values().map(|&k| pairs(k)).sum();
    let mut majority: HashMap<usize, u64> = HashMap::new();
    for (&(t, _), &k) in &cell {
        let m = majority.entry(t).or_insert(0);
        *m = (*m).max(k);
    }
    let with_paraphrase: u64 = cell.values().filter(|&&k| k >= 2).sum();
    let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    GroupingQuality {
        questions: n,
        topics: per_topic.len(),
        pair_precision: ratio(together, same_topic),
        pair_recall: ratio(together, same_label),
        purity: ratio(majority.values().sum(), n as u64),
        with_paraphrase: ratio(with_paraphrase, n as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> QuestionFeatures {
        features(s, None)
    }

    fn topic(questions: &[&str]) -> TopicSummary {
        let mut t = TopicSummary::default();
        for q in questions {
            t.add(&f(q));
        }
        t
    }

    /// Unit vector along `axes` (equal weights) in 8 dimensions.
    fn unit(axes: &[usize]) -> Vec<f32> {
        let mut v = [0.0f32; 8];
        for &a in axes {
            v[a] = 1.0;
        }
        let n = (axes.len() as f32).sqrt();
        v.iter().map(|x| x / n).collect()
    }

    /// A few unrelated topics so the topic frequencies mean something.
    fn background() -> Vec<TopicSummary> {
        vec![
            topic(&["How do I cancel my subscription?", "cancel subscription"]),
            topic(&["Do you ship to Canada?", "international shipping"]),
            topic(&["Where can I download my invoices?", "invoice copy"]),
            topic(&["My account is locked", "locked out of my account"]),
            topic(&["change the email of my account", "update account email"]),
        ]
    }

    fn best(q: &str, topics: &[TopicSummary]) -> Option<usize> {
        let refs: Vec<(i64, &TopicSummary)> = topics.iter().enumerate().map(|(i, t)| (i as i64, t)).collect();
        best_topic(&f(q), &refs, &GroupingConfig::default()).map(|(id, _)| id as usize)
    }

    #[test]
    fn features_keep_the_key_terms() {
        assert_eq!(f("How do I reset my password?").terms, vec!["reset", "password"]);
        assert_eq!(f("Wie ändere ich meine E-Mail-Adresse?").terms, vec!["ander", "email", "addres"]);
        assert_eq!(f("Order #55821 — error 429").terms, vec!["order", "error", "429"]);
        assert!(f("").terms.is_empty());
        assert!(f("🙂🙂 ?!").terms.is_empty());
        assert!(f("").is_empty());
        assert_eq!(f("refund refunds REFUND").terms, vec!["refund"]);
    }

    #[test]
    fn the_lexicon_joins_languages_and_synonyms() {
        let refund = f("refund").terms;
        assert_eq!(f("Comment obtenir un remboursement ?").terms, vec!["obtenir", "refund"]);
        assert_eq!(f("¿Me pueden devolver el dinero?").terms, refund, "a phrase");
        assert_eq!(f("I want my money back").terms, refund);
        assert_eq!(f("J'ai oublié mon mot de passe").terms, f("forgot password").terms);
        assert_eq!(f("Wie kündige ich mein Abo?").terms, f("cancel subscription").terms);
        assert_eq!(f("set up two-factor authentication").terms, vec!["set", "2fa", "authentication"]);
    }

    #[test]
    fn no_word_of_the_lexicon_stands_for_two_concepts() {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for group in LEXICON {
            let first = group.split_whitespace().next().unwrap();
            for w in group.split_whitespace() {
                let stem = text::stem(w);
                if let Some(other) = seen.insert(stem.clone(), first) {
                    assert_eq!(other, first, "{w:?} (stem {stem:?}) is in the groups of {other:?} and {first:?}");
                }
            }
        }
        // Generic words and stopwords stay apart from concepts, and no
        // concept word is a stopword (it would never be seen).
        for group in LEXICON {
            for w in group.split_whitespace() {
                assert!(!is_filler(w), "{w:?} is a stopword");
            }
        }
    }

    #[test]
    fn features_are_bounded_on_huge_input() {
        let huge: String = (0..100_000).map(|i| format!("word{} ", i % 977)).collect();
        let q = f(&huge);
        assert!(q.terms.len() <= MAX_TERMS);
        let long_word = "x".repeat(10_000);
        assert!(f(&long_word).terms[0].chars().count() <= MAX_TERM_CHARS);
    }

    #[test]
    fn unusable_vectors_are_dropped_and_good_ones_normalised() {
        assert_eq!(features("a b", Some(vec![])).vector, None);
        assert_eq!(features("x", Some(vec![0.0, 0.0])).vector, None);
        assert_eq!(features("x", Some(vec![f32::NAN, 1.0])).vector, None);
        assert_eq!(features("x", Some(vec![f32::INFINITY, 1.0])).vector, None);
        assert_eq!(features("x", Some(vec![3.0, 4.0])).vector, Some(vec![0.6, 0.8]));
    }

    #[test]
    fn a_paraphrase_sharing_the_main_nouns_joins() {
        let mut topics = background();
        topics.push(topic(&["I forgot my password", "how to reset my password"]));
        assert_eq!(best(&"Reset password link please".to_lowercase(), &topics), Some(5));
        assert_eq!(best("password forgotten", &topics), Some(5));
        assert_eq!(best("how do i reset my pasword", &topics), Some(5), "a typo still matches");
        assert_eq!(best("cancelling my subscription", &topics), Some(0), "another form of the word");
    }

    #[test]
    fn one_shared_generic_word_does_not_join() {
        let mut topics = background();
        topics.push(topic(&["I forgot my password"]));
        assert_eq!(best("Please delete my account and all my data", &topics), None);
        assert_eq!(best("cancel my order", &topics), None, "cancel order is not cancel subscription");
        assert_eq!(best("Do you offer a student discount?", &topics), None);
    }

    #[test]
    fn an_empty_question_never_joins() {
        let topics = background();
        assert_eq!(best("", &topics), None);
        assert_eq!(best("how do I?", &topics), None);
        assert_eq!(best("cancel subscription", &[]), None);
        let refs: Vec<(i64, &TopicSummary)> = vec![(1, &topics[0])];
        assert_eq!(best_topic(&QuestionFeatures::default(), &refs, &GroupingConfig::default()), None);
    }

    #[test]
    fn empty_topics_are_skipped() {
        let empty = TopicSummary::default();
        let full = topic(&["cancel subscription"]);
        let refs: Vec<(i64, &TopicSummary)> = vec![(7, &empty), (8, &full)];
        let got = best_topic(&f("cancel my subscription"), &refs, &GroupingConfig::default());
        assert_eq!(got.map(|g| g.0), Some(8));
    }

    #[test]
    fn either_vectors_or_terms_may_place_a_question() {
        let mut a = TopicSummary::default();
        a.add(&features("totally different words", Some(unit(&[0]))));
        let mut b = TopicSummary::default();
        b.add(&features("reset password", Some(unit(&[4]))));
        let refs: Vec<(i64, &TopicSummary)> = vec![(1, &a), (2, &b)];
        let cfg = GroupingConfig::default();
        // No shared word, but the vector says a (a paraphrase).
        let q = features("forgot my login", Some(unit(&[0])));
        assert_eq!(best_topic(&q, &refs, &cfg).map(|g| g.0), Some(1));
        // A vector far from both, the same words as b (another language the model misses).
        let q = features("reset password", Some(unit(&[2])));
        assert_eq!(best_topic(&q, &refs, &cfg).map(|g| g.0), Some(2));
        // Half-way (cosine 0.707 < 0.72) and no shared word: no topic.
        let q = features("x", Some(unit(&[0, 2])));
        assert_eq!(best_topic(&q, &refs, &cfg), None);
        // Without a vector the terms decide.
        assert_eq!(best_topic(&f("reset password"), &refs, &cfg).map(|g| g.0), Some(2));
    }

    #[test]
    fn mismatched_vector_lengths_fall_back_to_terms() {
        let mut t = TopicSummary::default();
        t.add(&features("reset password", Some(unit(&[1]))));
        t.add(&features("reset password now", Some(vec![1.0, 0.0, 0.0])));
        assert_eq!(t.vectors, 1, "the 3-dimension vector is left out");
        let refs: Vec<(i64, &TopicSummary)> = vec![(1, &t)];
        let q = features("reset my password", Some(vec![0.0, 1.0]));
        assert_eq!(best_topic(&q, &refs, &GroupingConfig::default()).map(|g| g.0), Some(1));
        let q = features("zzz", Some(vec![0.0, 1.0]));
        assert_eq!(best_topic(&q, &refs, &GroupingConfig::default()), None);
    }

    #[test]
    fn the_best_margin_wins_and_ties_go_to_the_earlier_topic() {
        let a = topic(&["reset password"]);
        let b = topic(&["reset password"]);
        let c = topic(&["reset password", "reset password", "forgot password"]);
        let refs: Vec<(i64, &TopicSummary)> = vec![(10, &a), (11, &b), (12, &c)];
        let got = best_topic(&f("reset password"), &refs, &GroupingConfig::default()).unwrap();
        assert_eq!(got.0, 10);
        assert!(got.1 > 0.99, "{got:?}");
    }

    #[test]
    fn add_then_remove_restores_the_summary() {
        let mut t = topic(&["cancel subscription"]);
        let before = t.clone();
        let q = features("cancel my plan please", Some(vec![0.0, 2.0]));
        t.add(&q);
        assert_eq!(t.size, 2);
        assert_eq!(t.terms["cancel"], 2);
        assert!(t.vector_sum.is_some());
        t.remove(&q);
        assert_eq!(t, before);
        // Removing what was never added, or from an empty topic, does not panic.
        t.remove(&f("something else entirely"));
        t.remove(&f("cancel subscription"));
        t.remove(&f("cancel subscription"));
        assert_eq!(t, TopicSummary::default());
    }

    #[test]
    fn summaries_round_trip_through_json() {
        let mut t = topic(&["reset password", "forgot password"]);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"size":2,"terms":{"forgot":1,"password":2,"reset":1}}"#);
        assert_eq!(serde_json::from_str::<TopicSummary>(&json).unwrap(), t);
        t.add(&features("x", Some(vec![1.0, 0.0])));
        let back: TopicSummary = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
        let q: QuestionFeatures = serde_json::from_str(r#"{"terms":["a"]}"#).unwrap();
        assert_eq!(q.vector, None);
        assert_eq!(t.top_terms(1), vec![("password", 2)]);
    }

    #[test]
    fn representative_is_the_most_central_member() {
        let qs = [
            f("hello, so I was wondering about my password, I can't log in since monday and I tried everything"),
            f("reset password"),
            f("forgot password"),
        ];
        let mut t = TopicSummary::default();
        qs.iter().for_each(|q| t.add(q));
        let members: Vec<&QuestionFeatures> = qs.iter().collect();
        assert_eq!(representative(&t, &members), Some(1), "short, frequent words; tie with 2 goes to the earlier");
        assert_eq!(representative(&t, &[]), None);
        let empty = QuestionFeatures::default();
        assert_eq!(representative(&TopicSummary::default(), &[&empty, &empty]), Some(0));

        let vs = [features("a", Some(unit(&[0]))), features("b", Some(unit(&[0, 1]))), features("c", Some(unit(&[1])))];
        let mut t = TopicSummary::default();
        vs.iter().for_each(|q| t.add(q));
        let members: Vec<&QuestionFeatures> = vs.iter().collect();
        assert_eq!(representative(&t, &members), Some(1));
    }

    #[test]
    fn grouping_is_never_fooled_by_odd_input() {
        let odd = [
            "",
            "   ",
            "🙂",
            "?!?!",
            "\u{0}\u{1}",
            "ÀÉÎÕÜ",
            "密码忘了怎么办",
            "1234567890",
            "a",
            "password password password",
        ];
        let mut questions: Vec<QuestionFeatures> = odd.iter().map(|s| f(s)).collect();
        questions.push(features("reset password", Some(vec![f32::NAN; 4])));
        questions.push(features("reset password", Some(vec![1.0; 3])));
        questions.push(features("reset password", Some(vec![1.0; 5])));
        questions.push(QuestionFeatures { terms: vec![String::new(), "x".into(), "x".into()], vector: Some(vec![]) });
        let topics = group(&questions, &GroupingConfig::default());
        assert_eq!(topics.len(), questions.len());
        // The empty questions each opened their own topic.
        assert_eq!(topics[0], 0);
        assert_eq!(topics[1], 1);
    }

    #[test]
    fn grouping_quality_counts_pairs() {
        // Intents 0,0,1,1; topics put 0,0 together and 1,1 apart.
        let q = grouping_quality(&[0, 0, 1, 1], &[5, 5, 6, 7]);
        assert_eq!((q.questions, q.topics), (4, 3));
        assert_eq!(q.pair_precision, 1.0);
        assert_eq!(q.pair_recall, 0.5);
        assert_eq!(q.purity, 1.0);
        assert_eq!(q.with_paraphrase, 0.5);
        // Everything in one topic.
        let q = grouping_quality(&[0, 0, 1, 1], &[1, 1, 1, 1]);
        assert!((q.pair_precision - 2.0 / 6.0).abs() < 1e-9);
        assert_eq!(q.pair_recall, 1.0);
        assert_eq!(q.purity, 0.5);
        let q = grouping_quality(&[], &[]);
        assert_eq!((q.pair_precision, q.pair_recall), (1.0, 1.0));
    }
}
