//! Finding the new part of a reply: quoted history and signatures removed.
//!
//! Recognised history, in English, Italian, Spanish, French, German (and Portuguese, Dutch,
//! Polish, Nordic where cheap):
//! * an attribution line ("On … wrote:", "Il giorno … ha scritto:", "El … escribió:",
//!   "Le … a écrit :", "Am … schrieb …:"), possibly wrapped over up to three lines, followed by
//!   `>` quotes or carrying an address/date. When unquoted text follows the quotes (inline
//!   replies), only the attribution and the `>` lines go; otherwise everything from it goes;
//! * an Outlook header block: "From:" then "Sent:"/"Date:" and "To:"/"Subject:" within a few
//!   lines (with the localised labels "Da:/Inviato:/A:/Oggetto:", "De:/Enviado:/Para:/Asunto:",
//!   "De :/Envoyé :/À :/Objet :", "Von:/Gesendet:/An:/Betreff:" …): everything from it goes;
//! * "-----Original Message-----" and its translations: everything from it goes;
//! * any remaining line starting with `>`.
//!
//! Forwarded messages ("---------- Forwarded message ---------", "Begin forwarded message:")
//! are kept: what was forwarded is what the customer wants read.
//!
//! Signatures: the "-- " delimiter (RFC 3676) and mobile footers ("Sent from my iPhone",
//! "Inviato da iPhone", "Enviado desde mi iPhone", "Envoyé de mon iPhone", "Von meinem iPhone
//! gesendet", "Get Outlook for Android" …) near the end.

/// The new text of a message body: quoted history and signature removed, blank lines collapsed.
/// May be empty (a reply that only quotes); the caller then decides (see `InboundEmail::text`).
pub fn extract_new_text(body: &str) -> String {
    let normalized = body.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = normalized.split('\n').collect();

    let mut end = lines.len();
    let mut forward_at: Option<usize> = None;
    let mut dropped: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < lines.len() {
        if is_forward_marker(lines[i]) {
            // Everything below was forwarded on purpose: keep it, history included.
            forward_at = Some(i);
            break;
        }
        if is_original_separator(lines[i]) || is_header_block(&lines, i) {
            end = i;
            break;
        }
        // Only the first attribution counts (an inline reply has one): this also keeps the
        // scan linear on hostile input made of thousands of attribution-like lines.
        if let Some(n) = if dropped.is_none() { attribution_len(&lines, i) } else { None } {
            if has_unquoted_after_quotes(&lines[i + n..]) {
                dropped = Some((i, i + n));
            } else {
                end = i;
                break;
            }
            i += n;
            continue;
        }
        i += 1;
    }

    let own_end = forward_at.unwrap_or(end);
    let own: Vec<&str> = lines[..own_end]
        .iter()
        .enumerate()
        .filter(|(idx, _)| !dropped.is_some_and(|(a, b)| (a..b).contains(idx)))
        .map(|(_, l)| *l)
        .filter(|l| !is_quoted(l))
        .collect();
    let mut kept = strip_signature(own);
    if let Some(f) = forward_at {
        if kept.last().is_some_and(|l| !l.trim().is_empty()) {
            kept.push("");
        }
        kept.extend_from_slice(&lines[f..]);
    }
    tidy(&kept)
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// Collapses blank-line runs, trims trailing spaces, drops leading/trailing blanks and rules.
fn tidy(lines: &[&str]) -> String {
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    for l in lines {
        let t = l.trim_end();
        if t.trim().is_empty() && out.last().is_none_or(|p: &&str| p.trim().is_empty()) {
            continue;
        }
        out.push(t);
    }
    while out.last().is_some_and(|l| l.trim().is_empty() || is_rule(l)) {
        out.pop();
    }
    out.join("\n")
}

/// A line made only of `-`, `_`, `=`, `*` (at least 3): a separator (Outlook's underscores).
fn is_rule(line: &str) -> bool {
    let t = line.trim();
    t.chars().count() >= 3 && t.chars().all(|c| matches!(c, '-' | '_' | '=' | '*' | '—' | '─'))
}

const ORIGINAL_MESSAGE: &[&str] = &[
    "original message",
    "original-nachricht",
    "originalnachricht",
    "ursprüngliche nachricht",
    "messaggio originale",
    "mensaje original",
    "message d'origine",
    "message d’origine",
    "message original",
    "mensagem original",
    "oorspronkelijk bericht",
    "originalmeddelande",
    "oprindelig meddelelse",
    "opprinnelig melding",
    "alkuperäinen viesti",
    "wiadomość oryginalna",
    "původní zpráva",
];

fn is_original_separator(line: &str) -> bool {
    let t = line.trim();
    if !(t.starts_with("---") || t.starts_with("___") || t.starts_with("- -")) {
        return false;
    }
    let inner = t.trim_matches(|c: char| c == '-' || c == '_' || c.is_whitespace()).to_lowercase();
    ORIGINAL_MESSAGE.contains(&inner.as_str())
}

const FORWARD_MARKERS: &[&str] = &[
    "forwarded message",
    "begin forwarded message",
    "messaggio inoltrato",
    "inizio messaggio inoltrato",
    "mensaje reenviado",
    "mensaje reenviado:",
    "message transféré",
    "début du message réexpédié",
    "weitergeleitete nachricht",
    "anfang der weitergeleiteten nachricht",
    "mensagem encaminhada",
    "doorgestuurd bericht",
];

fn is_forward_marker(line: &str) -> bool {
    let t = line.trim();
    if t.is_empty() || t.chars().count() > 80 {
        return false;
    }
    let inner = t
        .trim_matches(|c: char| c == '-' || c == '_' || c == '=' || c.is_whitespace())
        .trim_end_matches(':')
        .trim()
        .to_lowercase();
    FORWARD_MARKERS.contains(&inner.as_str())
}

const FROM_LABELS: &[&str] = &["from", "da", "de", "von", "van", "od", "från", "fra", "lähettäjä", "mittente"];
const SENT_LABELS: &[&str] = &[
    "sent",
    "date",
    "inviato",
    "data",
    "enviado",
    "enviada",
    "fecha",
    "envoyé",
    "gesendet",
    "datum",
    "verzonden",
    "wysłano",
    "skickat",
    "sendt",
    "lähetetty",
];
const TO_LABELS: &[&str] =
    &["to", "a", "para", "à", "a ", "an", "aan", "do", "till", "til", "vastaanottaja", "cc", "destinatario"];
const SUBJECT_LABELS: &[&str] =
    &["subject", "oggetto", "asunto", "objet", "betreff", "onderwerp", "temat", "ämne", "emne", "assunto", "aihe"];

/// The label before the first `:` of a header-like line ("*From:* x", "De : x"), lowercased.
fn label(line: &str) -> Option<String> {
    let l = line.trim().trim_start_matches('*').trim_start();
    let colon = l.find(':')?;
    let label = l[..colon].trim().trim_end_matches('*').trim();
    if label.is_empty() || label.chars().count() > 20 {
        return None;
    }
    Some(label.to_lowercase())
}

fn label_in(line: &str, labels: &[&str]) -> bool {
    label(line).is_some_and(|l| labels.contains(&l.as_str()))
}

/// Outlook-style header block starting at line `i`.
fn is_header_block(lines: &[&str], i: usize) -> bool {
    let first = lines[i];
    if !label_in(first, FROM_LABELS) {
        return false;
    }
    // All on one line ("From: Ann Sent: Monday To: us Subject: Order").
    let lower = first.to_lowercase();
    let inline = |labels: &[&str]| labels.iter().any(|l| lower.contains(&format!(" {l}:")));
    if inline(SENT_LABELS) && (inline(TO_LABELS) || inline(SUBJECT_LABELS)) {
        return true;
    }
    let (mut sent, mut to) = (false, false);
    for l in lines.iter().skip(i + 1).take(6) {
        sent |= label_in(l, SENT_LABELS);
        to |= label_in(l, TO_LABELS) || label_in(l, SUBJECT_LABELS);
    }
    sent && to
}

const ATTRIBUTION_ENDS: &[&str] = &[
    "wrote:",
    "writes:",
    "ha scritto:",
    "scritto:",
    "escribió:",
    "escribio:",
    "ha escrito:",
    "a écrit :",
    "a écrit:",
    "a ecrit :",
    "a ecrit:",
    "schrieb:",
    "geschrieben:",
    "escreveu:",
    "schreef:",
    "napisał:",
    "skrev:",
    "kirjoitti:",
];
const ATTRIBUTION_LEADS: &[&str] =
    &["on ", "il ", "in data ", "el ", "le ", "am ", "op ", "em ", "dnia ", "den ", "the ", "at "];

fn is_attribution(joined: &str) -> bool {
    let lower = joined.trim_end().to_lowercase();
    if ATTRIBUTION_ENDS.iter().any(|e| lower.ends_with(e)) {
        return true;
    }
    // Verbs followed by the author: "Am 1. März 2024 um 10:00 schrieb Max <max@x.de>:".
    lower.ends_with(':')
        && ((lower.starts_with("am ") && lower.contains(" schrieb "))
            || (lower.starts_with("op ") && lower.contains(" schreef "))
            || (lower.starts_with("le ") && lower.contains(" a écrit "))
            || (lower.starts_with("el ") && lower.contains(" escribió ")))
}

/// How many lines (1–3) form an attribution starting at `i`, if any.
fn attribution_len(lines: &[&str], i: usize) -> Option<usize> {
    let first = lines[i].trim();
    if first.is_empty() || is_quoted(first) {
        return None;
    }
    let mut joined = String::new();
    for n in 1..=3 {
        let Some(l) = lines.get(i + n - 1) else { break };
        let l = l.trim();
        if n > 1 && (l.is_empty() || is_quoted(l)) {
            break;
        }
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(l);
        if joined.chars().count() > 400 {
            break;
        }
        if is_attribution(&joined) && confirmed(lines, i + n, &joined) {
            return Some(n);
        }
    }
    None
}

/// An attribution is only trusted when quotes follow it, or it names an address or a date
/// together with a known opening ("On", "Il", "El" …): "My colleague wrote:" alone is content.
fn confirmed(lines: &[&str], next: usize, joined: &str) -> bool {
    let quotes_follow = lines.iter().skip(next).find(|l| !l.trim().is_empty()).is_some_and(|l| is_quoted(l));
    if quotes_follow {
        return true;
    }
    let lower = joined.to_lowercase();
    let has_digit = lower.chars().any(|c| c.is_ascii_digit());
    let has_lead = ATTRIBUTION_LEADS.iter().any(|l| lower.starts_with(l));
    has_digit && (lower.contains('@') || has_lead)
}

/// After an attribution: does unquoted text follow quoted lines (an inline, interleaved reply)?
fn has_unquoted_after_quotes(rest: &[&str]) -> bool {
    let mut seen_quote = false;
    let mut seen_unquoted_after = false;
    for l in rest {
        if is_quoted(l) {
            seen_quote = true;
        } else if seen_quote && !l.trim().is_empty() {
            if is_signature_delimiter(l) || is_mobile_footer(l) {
                break;
            }
            seen_unquoted_after = true;
            break;
        }
    }
    seen_quote && seen_unquoted_after
}

fn is_signature_delimiter(line: &str) -> bool {
    let t = line.trim_end();
    t == "--" || t == "—" || t == "-- —"
}

const MOBILE_FOOTERS: &[&str] = &[
    "sent from my ",
    "sent from ",
    "sent with ",
    "sent via ",
    "sent using ",
    "get outlook for ",
    "download outlook for ",
    "inviato da ",
    "inviato dal mio ",
    "inviato con ",
    "enviado desde ",
    "enviado de mi ",
    "enviado con ",
    "envoyé de mon ",
    "envoyé depuis ",
    "envoyé avec ",
    "von meinem ",
    "gesendet von ",
    "gesendet mit ",
    "verzonden vanaf ",
    "verstuurd vanaf ",
    "enviado do meu ",
];

fn is_mobile_footer(line: &str) -> bool {
    let t = line.trim();
    if t.is_empty() || t.chars().count() > 60 {
        return false;
    }
    let lower = t.to_lowercase();
    MOBILE_FOOTERS.iter().any(|p| lower.starts_with(p))
}

fn strip_signature(mut lines: Vec<&str>) -> Vec<&str> {
    // "-- " delimiter: cut at the last one if what follows is signature-sized.
    if let Some(pos) = lines.iter().rposition(|l| is_signature_delimiter(l)) {
        let after = lines[pos + 1..].iter().filter(|l| !l.trim().is_empty()).count();
        if after <= 20 {
            lines.truncate(pos);
        }
    }
    // A mobile footer among the last two non-empty lines.
    let non_empty: Vec<usize> =
        lines.iter().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(i, _)| i).collect();
    for &idx in non_empty.iter().rev().take(2) {
        if is_mobile_footer(lines[idx]) {
            lines.truncate(idx);
            break;
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_top_posted() {
        let body = "Thanks, that worked!\n\nOn Tue, Jun 22, 2010 at 10:36 AM, Max Ogden <\nmogden@gmail.com> wrote:\n\n> How do I reset my password?\n> \n> Max\n";
        assert_eq!(extract_new_text(body), "Thanks, that worked!");
    }

    #[test]
    fn apple_mail_with_iphone_footer() {
        let body = "Yes please.\n\nSent from my iPhone\n\n> On 12 Feb 2024, at 10:00, Support <help@shop.com> wrote:\n> \n> Do you want a refund?\n";
        assert_eq!(extract_new_text(body), "Yes please.");
    }

    #[test]
    fn outlook_header_block() {
        let body = "Hello,\r\nthe parcel never arrived.\r\n\r\nRegards\r\nAnn\r\n\r\n________________________________\r\nFrom: Shop Support <help@shop.com>\r\nSent: Monday, February 12, 2024 10:00 AM\r\nTo: Ann <ann@example.com>\r\nSubject: Your order\r\n\r\nYour order has shipped.\r\n";
        assert_eq!(extract_new_text(body), "Hello,\nthe parcel never arrived.\n\nRegards\nAnn");
    }

    #[test]
    fn outlook_bold_labels_and_single_line() {
        let body = "Ok\n\n*From:* Shop <help@shop.com>\n*Sent:* Monday\n*To:* Ann\n*Subject:* Hi\nold";
        assert_eq!(extract_new_text(body), "Ok");
        let body = "Ok\nFrom: Shop <help@shop.com> Sent: Monday, 12 Feb To: Ann Subject: Hi\nold";
        assert_eq!(extract_new_text(body), "Ok");
    }

    #[test]
    fn original_message_separators() {
        for sep in [
            "-----Original Message-----",
            "----- Original Message -----",
            "-----Messaggio originale-----",
            "-----Mensaje original-----",
            "-----Message d'origine-----",
            "-----Ursprüngliche Nachricht-----",
        ] {
            let body = format!("New text\n\n{sep}\nFrom: x\nold text");
            assert_eq!(extract_new_text(&body), "New text", "{sep}");
        }
    }

    #[test]
    fn localised_attributions() {
        for attr in [
            "Il giorno lun 12 feb 2024 alle ore 10:00 Supporto <help@shop.it> ha scritto:",
            "Il 12/02/2024 10:00, Supporto ha scritto:",
            "El lun, 12 feb 2024 a las 10:00, Soporte (<help@shop.es>) escribió:",
            "Le lun. 12 févr. 2024 à 10:00, Support <help@shop.fr> a écrit :",
            "Am Mo., 12. Feb. 2024 um 10:00 Uhr schrieb Support <help@shop.de>:",
            "Am 12.02.2024 um 10:00 schrieb Support:",
        ] {
            let body = format!("Nuovo testo\n\n{attr}\n\n> vecchio\n> testo");
            assert_eq!(extract_new_text(&body), "Nuovo testo", "{attr}");
        }
        // Localised Outlook blocks.
        let it = "Grazie\n\nDa: Supporto <help@shop.it>\nInviato: lunedì 12 febbraio 2024 10:00\nA: Anna\nOggetto: Ordine\n\nvecchio";
        assert_eq!(extract_new_text(it), "Grazie");
        let es = "Gracias\n\nDe: Soporte <help@shop.es>\nEnviado: lunes\nPara: Ana\nAsunto: Pedido\n\nviejo";
        assert_eq!(extract_new_text(es), "Gracias");
        let fr = "Merci\n\nDe : Support <help@shop.fr>\nEnvoyé : lundi\nÀ : Anne\nObjet : Commande\n\nvieux";
        assert_eq!(extract_new_text(fr), "Merci");
        let de = "Danke\n\nVon: Support <help@shop.de>\nGesendet: Montag\nAn: Anna\nBetreff: Bestellung\n\nalt";
        assert_eq!(extract_new_text(de), "Danke");
    }

    #[test]
    fn inline_replies_keep_answers() {
        let body = "On Mon, 12 Feb 2024, Support <help@shop.com> wrote:\n> What is your order number?\n12345\n> And your postcode?\n20100\n";
        assert_eq!(extract_new_text(body), "12345\n20100");
    }

    #[test]
    fn signatures() {
        let body = "Where is my order?\n\n-- \nAnn Smith\nACME Corp\n+1 555 0100";
        assert_eq!(extract_new_text(body), "Where is my order?");
        for footer in [
            "Inviato da iPhone",
            "Enviado desde mi iPhone",
            "Envoyé de mon iPhone",
            "Von meinem iPhone gesendet",
            "Get Outlook for Android",
        ] {
            let body = format!("Dov'è il mio ordine?\n\n{footer}");
            assert_eq!(extract_new_text(&body), "Dov'è il mio ordine?", "{footer}");
        }
    }

    #[test]
    fn content_that_only_looks_like_markers_is_kept() {
        let body = "My colleague wrote:\nthe invoice is wrong.\nFrom: the website I cannot log in.";
        assert_eq!(extract_new_text(body), body);
        let body = "Sent from my iPhone, the app crashes when I pay with a card that was issued abroad.";
        assert_eq!(extract_new_text(body), body);
        let fwd = "See below\n\n---------- Forwarded message ---------\nFrom: Bank <b@bank.com>\nDate: Mon\nSubject: x\nTo: me\n\n> Your card";
        // What was forwarded is what the customer wants read: kept, quotes included.
        assert_eq!(extract_new_text(fwd), fwd);
        let apple =
            "FYI\n\nBegin forwarded message:\n\nFrom: Bank <b@bank.com>\nDate: 12 February 2024\nTo: me\n\nYour card";
        assert_eq!(extract_new_text(apple), apple);
    }

    #[test]
    fn many_attributions_stay_linear() {
        let body = "On 1 Jan 2024, a@b.c wrote:\n> q\nanswer\n".repeat(50_000);
        let t = std::time::Instant::now();
        let out = extract_new_text(&body);
        assert!(out.starts_with("answer\nOn 1 Jan 2024"));
        assert!(t.elapsed().as_secs() < 5);
    }

    #[test]
    fn only_quotes_gives_empty() {
        assert_eq!(extract_new_text("> a\n> b\n"), "");
        assert_eq!(extract_new_text(""), "");
    }
}
