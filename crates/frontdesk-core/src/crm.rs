//! CRM data the agent may use (F1). The admin lists the contact properties
//! the agent knows about and, for each, whether it may read it and whether
//! it may update it. Everything here works on that list, so a property that
//! is not readable never reaches a responder ([`readable_view`]) and one that
//! is not writable is never proposed as an update ([`extract_updates`]).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::lang::Lang;
use crate::text::{fuzzy_eq, terms, words};
use crate::validate::ValidationError;
use crate::values::{find, kind_keywords, mentions, normalize, Found, ValueKind};

/// A contact property the agent knows about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrmField {
    /// `[a-z][a-z0-9_]*`: the property's key on the contact.
    pub key: String,
    /// What people call it ("Plan", "Order number").
    pub label: String,
    pub kind: ValueKind,
    /// The allowed values of an enum.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// The agent may read it to answer.
    #[serde(default)]
    pub agent_read: bool,
    /// The agent may update it with what the customer says.
    #[serde(default)]
    pub agent_write: bool,
}

/// Keys kept on the contact record itself (its columns) rather than in its
/// free-form properties, with the kind they must have.
pub const CONTACT_COLUMNS: &[(&str, ValueKind)] =
    &[("email", ValueKind::Email), ("name", ValueKind::Text), ("phone", ValueKind::Phone)];

pub const MAX_KEY: usize = 64;
pub const MAX_OPTIONS: usize = 50;

/// Whether `s` is an identifier: `[a-z][a-z0-9_]*`, at most `max` characters.
pub fn is_identifier(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks an enum's options (field `field`): 1 to 50, non-empty, distinct.
pub(crate) fn check_options(field: &str, kind: ValueKind, values: &[String]) -> Result<Vec<String>, ValidationError> {
    if kind != ValueKind::Enum {
        if !values.is_empty() {
            return Err(ValidationError::new(field, "only an enum has a list of values"));
        }
        return Ok(Vec::new());
    }
    if values.is_empty() {
        return Err(ValidationError::new(field, "an enum needs at least one value"));
    }
    if values.len() > MAX_OPTIONS {
        return Err(ValidationError::new(field, format!("at most {MAX_OPTIONS} values")));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let v = crate::validate::bounded_text(&format!("{field}[{i}]"), v, 1, 100)?;
        if out.iter().any(|o| crate::text::fold(o) == crate::text::fold(&v)) {
            return Err(ValidationError::new(&format!("{field}[{i}]"), format!("{v:?} is listed twice")));
        }
        out.push(v);
    }
    Ok(out)
}

impl CrmField {
    /// The field, checked and trimmed; every problem names its field.
    pub fn parse(self) -> Result<CrmField, ValidationError> {
        let key = self.key.trim().to_owned();
        if !is_identifier(&key, MAX_KEY) {
            return Err(ValidationError::new(
                "key",
                format!("use 1 to {MAX_KEY} lowercase letters, digits and underscores, starting with a letter"),
            ));
        }
        if let Some((_, kind)) = CONTACT_COLUMNS.iter().find(|(k, _)| *k == key) {
            if *kind != self.kind {
                return Err(ValidationError::new("kind", format!("the contact's {key} is always of kind {kind}")));
            }
        }
        let label = crate::validate::bounded_text("label", &self.label, 1, 100)?;
        let values = check_options("values", self.kind, &self.values)?;
        Ok(CrmField { key, label, kind: self.kind, values, agent_read: self.agent_read, agent_write: self.agent_write })
    }
}

/// `raw` as a value of `field`, normalised; the error names the field's key.
pub fn validate_value(field: &CrmField, raw: &str) -> Result<String, ValidationError> {
    normalize(field.kind, &field.values, raw).map_err(|m| ValidationError::new(&field.key, m))
}

/// A contact property the agent may read, with its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadableProperty {
    pub key: String,
    pub label: String,
    pub value: String,
}

/// The value at `key` of a JSON object as text (strings, numbers, booleans).
fn scalar(values: &Value, key: &str) -> Option<String> {
    match values.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The contact's readable properties, in the fields' order: only fields with
/// `agent_read`, only values that are set. `values` is the contact as one
/// JSON object (its columns and its properties).
pub fn readable_view(values: &Value, fields: &[CrmField]) -> Vec<ReadableProperty> {
    fields
        .iter()
        .filter(|f| f.agent_read)
        .filter_map(|f| {
            scalar(values, &f.key).map(|v| ReadableProperty { key: f.key.clone(), label: f.label.clone(), value: v })
        })
        .collect()
}

/// The readable properties as lines for a prompt: `Plan (plan): Pro`.
pub fn readable_text(view: &[ReadableProperty]) -> String {
    view.iter().map(|p| format!("{} ({}): {}", p.label, p.key, p.value)).collect::<Vec<_>>().join("\n")
}

/// A change to a contact property proposed from what the visitor wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedUpdate {
    pub key: String,
    pub value: String,
}

/// Words in the text naming the field (its label or key), fuzzily.
fn names_field(text_terms: &[String], f: &CrmField) -> bool {
    let mut label_terms = terms(&f.label);
    if label_terms.is_empty() {
        label_terms = terms(&f.key.replace('_', " "));
    }
    !label_terms.is_empty() && label_terms.iter().all(|l| text_terms.iter().any(|t| fuzzy_eq(l, t)))
}

/// The value written right after the field's label: `label: value`,
/// `label = value`, and for typed kinds also `label is value` (and the
/// Italian, Spanish and French forms). Free text needs `:` or `=`, so an
/// ordinary sentence is never taken for a value.
fn value_after_label(text: &str, f: &CrmField) -> Option<String> {
    let label: Vec<String> = words(&f.label);
    if label.is_empty() {
        return None;
    }
    let ws = word_spans(text);
    let at = (0..ws.len()).find(|&i| {
        i + label.len() <= ws.len() && ws[i..i + label.len()].iter().zip(&label).all(|((_, _, w), l)| w == l)
    })?;
    let rest = text[ws[at + label.len() - 1].1..].trim_start();
    let links: &[&str] = if f.kind == ValueKind::Text {
        &[":", "="]
    } else {
        &[":", "=", "is now", "is", "are", "è", "e'", "sono", "es", "son", "est", "sont", "to", "a", "in", "en"]
    };
    let value = links.iter().find_map(|l| {
        let r = strip_prefix_ci(rest, l)?;
        let boundary = l.chars().all(|c| !c.is_alphanumeric()) || r.starts_with(char::is_whitespace);
        boundary.then(|| r.trim_start())
    })?;
    let end = value.find(['\n', ';', '!', '?', ',']).unwrap_or(value.len());
    let v = value[..end].trim().trim_end_matches('.').trim();
    (!v.is_empty() && v.split_whitespace().count() <= 8).then(|| v.to_owned())
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// The words of `text` with their byte spans, folded as [`words`] folds them.
fn word_spans(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut start = None;
    let is_word = |c: char| c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c);
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        match (start, is_word(c)) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                out.push((s, i, crate::text::fold(&text[s..i])));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Updates to writable properties found in what the visitor wrote: email
/// addresses, phone and order numbers wherever they appear (for the field of
/// that kind; when several fields share a kind, the one the text names),
/// other kinds only right after the field's label. Only values that
/// validate are proposed, at most one per field.
pub fn extract_updates(text: &str, fields: &[CrmField]) -> Vec<ProposedUpdate> {
    let text_terms = terms(text);
    let mut out: Vec<ProposedUpdate> = Vec::new();
    let writable: Vec<&CrmField> = fields.iter().filter(|f| f.agent_write).collect();
    let mut used_spans: Vec<(usize, usize)> = Vec::new();
    // Pattern kinds first, most specific first.
    for kind in [ValueKind::Email, ValueKind::OrderNumber, ValueKind::Phone] {
        let candidates: Vec<&CrmField> = writable.iter().copied().filter(|f| f.kind == kind).collect();
        if candidates.is_empty() {
            continue;
        }
        let found: Vec<Found> = find(kind, &[], text)
            .into_iter()
            .filter(|v| !used_spans.iter().any(|(s, e)| v.start < *e && *s < v.end))
            .filter(|v| plausible(kind, v, text))
            .collect();
        let Some(value) = found.first() else { continue };
        let field = match candidates.as_slice() {
            [only] => Some(*only),
            // Several fields of this kind: the one the text names most specifically.
            many => {
                let named: Vec<(usize, &CrmField)> =
                    many.iter().filter(|f| names_field(&text_terms, f)).map(|f| (terms(&f.label).len(), *f)).collect();
                let best = named.iter().map(|(n, _)| *n).max().unwrap_or(0);
                match named.iter().filter(|(n, _)| *n == best).collect::<Vec<_>>().as_slice() {
                    [(_, one)] => Some(*one),
                    _ => None,
                }
            }
        };
        if let Some(f) = field {
            used_spans.push((value.start, value.end));
            out.push(ProposedUpdate { key: f.key.clone(), value: value.value.clone() });
        }
    }
    for f in writable.iter().filter(|f| !matches!(f.kind, ValueKind::Email | ValueKind::OrderNumber | ValueKind::Phone))
    {
        if !names_field(&text_terms, f) {
            continue;
        }
        let raw = match f.kind {
            ValueKind::Enum => crate::values::find_option(text, &f.values),
            _ => value_after_label(text, f),
        };
        if let Some(v) = raw.and_then(|r| validate_value(f, &r).ok()) {
            out.push(ProposedUpdate { key: f.key.clone(), value: v });
        }
    }
    out
}

/// Whether a value found by pattern is really of `kind` here. A bare run of
/// digits could be a phone or an order number: it counts as a phone only
/// when the text talks about phones, as an order number unless it does.
fn plausible(kind: ValueKind, v: &Found, text: &str) -> bool {
    let bare_digits = v.raw.chars().all(|c| c.is_ascii_digit());
    match kind {
        ValueKind::Phone => !bare_digits || mentions(text, kind_keywords(ValueKind::Phone)),
        ValueKind::OrderNumber => {
            !bare_digits
                || mentions(text, kind_keywords(ValueKind::OrderNumber))
                || !mentions(text, kind_keywords(ValueKind::Phone))
        }
        _ => true,
    }
}

/// A JSON schema for an "update the contact" tool: one optional property per
/// writable field, typed (for the LLM responder).
pub fn update_schema(fields: &[CrmField]) -> Value {
    let mut props = Map::new();
    for f in fields.iter().filter(|f| f.agent_write) {
        let mut p = json!({"type": "string", "description": format!("{} ({})", f.label, f.kind.label())});
        if f.kind == ValueKind::Enum {
            p["enum"] = json!(f.values);
        }
        props.insert(f.key.clone(), p);
    }
    json!({"type": "object", "properties": props, "additionalProperties": false})
}

/// A readable property the question asks about.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyMatch {
    pub property: ReadableProperty,
    pub score: f32,
}

/// Words by which a visitor asks about themselves ("my plan", "il mio piano",
/// "mi plan", "mon forfait", "am I on").
const PERSONAL: &[&str] = &[
    "my", "mine", "am", "i", "me", "mio", "mia", "miei", "mie", "sono", "ho", "mi", "mis", "estoy", "tengo", "mon",
    "ma", "mes", "je", "suis", "j",
];

/// The readable property a question asks about ("which plan am I on?" →
/// Plan): the question must be about the visitor ("my", "am I", "il mio",
/// "mon"…) and name every term of the property's label. Best first by how
/// much of the question the label covers.
pub fn match_property(question: &str, view: &[ReadableProperty]) -> Option<PropertyMatch> {
    let ws = words(question);
    if !ws.iter().any(|w| PERSONAL.contains(&w.as_str())) {
        return None;
    }
    let q = terms(question);
    if q.is_empty() {
        return None;
    }
    view.iter()
        .filter_map(|p| {
            let mut l = terms(&p.label);
            if l.is_empty() {
                l = terms(&p.key.replace('_', " "));
            }
            if l.is_empty() || !l.iter().all(|t| q.iter().any(|x| fuzzy_eq(t, x))) {
                return None;
            }
            let covered = q.iter().filter(|x| l.iter().any(|t| fuzzy_eq(t, x))).count();
            Some(PropertyMatch { property: p.clone(), score: covered as f32 / q.len() as f32 })
        })
        .max_by(|a, b| a.score.total_cmp(&b.score))
}

/// "Your plan is Pro." in the visitor's language.
pub fn property_reply(lang: Lang, p: &ReadableProperty) -> String {
    let label = p.label.to_lowercase();
    match lang {
        Lang::En => format!("Your {label} is {}.", p.value),
        Lang::It => format!("Ecco il dato che risulta a noi, {}: {}.", p.label, p.value),
        Lang::Es => format!("Este es el dato que tenemos, {}: {}.", p.label, p.value),
        Lang::Fr => format!("Voici l'information que nous avons, {} : {}.", p.label, p.value),
        Lang::De => format!("Bei uns ist Folgendes hinterlegt – {}: {}.", p.label, p.value),
        Lang::Pt => format!("Este é o dado que temos, {}: {}.", p.label, p.value),
        Lang::Nl => format!("Bij ons staat het volgende – {}: {}.", p.label, p.value),
        Lang::Sv => format!("Hos oss står följande – {}: {}.", p.label, p.value),
        Lang::Ru => format!("По нашим данным — {}: {}.", p.label, p.value),
        Lang::Ja => format!("登録されている情報は次のとおりです。{}：{}", p.label, p.value),
        Lang::Zh => format!("我们这边记录的信息是，{}：{}。", p.label, p.value),
        Lang::Ko => format!("저희가 가지고 있는 정보는 다음과 같아요. {}: {}", p.label, p.value),
    }
}

/// "I've updated your phone number." in the visitor's language.
pub fn updated_reply(lang: Lang, labels: &[&str]) -> String {
    let list = labels.iter().map(|l| l.to_lowercase()).collect::<Vec<_>>().join(", ");
    match lang {
        Lang::En => format!("Thanks, I've updated your {list}."),
        Lang::It => format!("Grazie, ho aggiornato questi dati: {list}."),
        Lang::Es => format!("Gracias, he actualizado estos datos: {list}."),
        Lang::Fr => format!("Merci, j'ai mis à jour ces informations : {list}."),
        Lang::De => format!("Danke, ich habe diese Angaben aktualisiert: {list}."),
        Lang::Pt => format!("Obrigado, atualizei estes dados: {list}."),
        Lang::Nl => format!("Bedankt, ik heb deze gegevens bijgewerkt: {list}."),
        Lang::Sv => format!("Tack, jag har uppdaterat följande uppgifter: {list}."),
        Lang::Ru => format!("Спасибо, эти данные обновлены: {list}."),
        Lang::Ja => format!("ありがとうございます。次の情報を更新しました：{list}"),
        Lang::Zh => format!("谢谢，以下信息已更新：{list}。"),
        Lang::Ko => format!("감사합니다. 다음 정보를 업데이트했어요: {list}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(key: &str, label: &str, kind: ValueKind, read: bool, write: bool) -> CrmField {
        CrmField { key: key.into(), label: label.into(), kind, values: vec![], agent_read: read, agent_write: write }
    }

    fn fields() -> Vec<CrmField> {
        vec![
            field("email", "Email", ValueKind::Email, true, true),
            field("phone", "Phone", ValueKind::Phone, true, true),
            field("last_order", "Order number", ValueKind::OrderNumber, true, true),
            CrmField {
                values: vec!["Basic".into(), "Pro".into()],
                ..field("plan", "Plan", ValueKind::Enum, true, false)
            },
            field("seats", "Seats", ValueKind::Integer, true, true),
            field("company", "Company", ValueKind::Text, false, true),
            field("notes", "Internal notes", ValueKind::Text, false, false),
        ]
    }

    fn updates(text: &str) -> Vec<(String, String)> {
        extract_updates(text, &fields()).into_iter().map(|u| (u.key, u.value)).collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn fields_are_validated_with_the_field_named() {
        let bad = |f: CrmField| f.parse().unwrap_err().field;
        assert_eq!(bad(field("Plan!", "Plan", ValueKind::Text, true, false)), "key");
        assert_eq!(bad(field("plan", " ", ValueKind::Text, true, false)), "label");
        assert_eq!(bad(field("plan", "Plan", ValueKind::Enum, true, false)), "values");
        assert_eq!(bad(field("email", "Email", ValueKind::Text, true, false)), "kind");
        let dup = CrmField { values: vec!["Pro".into(), "pro".into()], ..field("p", "P", ValueKind::Enum, true, true) };
        assert_eq!(bad(dup), "values[1]");
        let ok = field(" plan ", " Plan ", ValueKind::Text, true, false).parse().unwrap();
        assert_eq!((ok.key.as_str(), ok.label.as_str()), ("plan", "Plan"));
    }

    #[test]
    fn values_are_validated_and_normalised() {
        let f = fields();
        assert_eq!(validate_value(&f[1], "+39 (333) 123-4567").unwrap(), "+393331234567");
        let e = validate_value(&f[0], "not an email").unwrap_err();
        assert_eq!(e.field, "email");
        assert_eq!(validate_value(&f[3], "PRO").unwrap(), "Pro");
        assert!(validate_value(&f[3], "Gold").is_err());
    }

    #[test]
    fn only_readable_properties_are_seen() {
        let contact =
            json!({"email": "ann@example.com", "plan": "Pro", "notes": "VIP, angry", "company": "Acme", "seats": 5});
        let view = readable_view(&contact, &fields());
        let keys: Vec<&str> = view.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["email", "plan", "seats"]);
        assert!(!readable_text(&view).contains("VIP"));
        assert!(readable_text(&view).contains("Plan (plan): Pro"));
    }

    #[test]
    fn updates_only_writable_and_valid_values() {
        assert_eq!(updates("my email is Ann@Example.com"), pairs(&[("email", "Ann@example.com")]));
        assert_eq!(updates("my new phone: +39 333 123 4567"), pairs(&[("phone", "+393331234567")]));
        assert_eq!(updates("il mio numero di telefono è 333 1234567"), pairs(&[("phone", "3331234567")]));
        assert_eq!(updates("mi pedido es el ORD-5512"), pairs(&[("last_order", "ORD-5512")]));
        assert_eq!(updates("my order 12345678 has not arrived"), pairs(&[("last_order", "12345678")]));
        assert_eq!(updates("seats: 12"), pairs(&[("seats", "12")]));
        assert_eq!(updates("Company: Acme Inc."), pairs(&[("company", "Acme Inc")]));
        // Not writable: the plan is read-only, the notes are hidden.
        assert!(updates("switch my plan to Basic").is_empty());
        assert!(updates("internal notes: be nice").is_empty());
        // Invalid values are not proposed; ordinary sentences are not values.
        assert!(updates("seats: lots").is_empty());
        assert!(updates("my company is having trouble logging in").is_empty());
        assert!(updates("hello, how are you?").is_empty());
        let both = updates("email me at bob@example.org or call +1 (555) 123-4567, order #A-12345");
        assert_eq!(both, pairs(&[("email", "bob@example.org"), ("last_order", "A-12345"), ("phone", "+15551234567")]));
    }

    #[test]
    fn several_fields_of_a_kind_need_the_text_to_name_one() {
        let fs = vec![
            field("phone", "Phone", ValueKind::Phone, true, true),
            field("work_phone", "Work phone", ValueKind::Phone, true, true),
        ];
        let u = extract_updates("my work phone is +44 20 7946 0958", &fs);
        assert_eq!(u, vec![ProposedUpdate { key: "work_phone".into(), value: "+442079460958".into() }]);
        assert!(extract_updates("+44 20 7946 0958", &fs).is_empty(), "ambiguous");
    }

    #[test]
    fn questions_about_oneself_find_the_property() {
        let contact = json!({"plan": "Pro", "seats": 5, "email": "ann@example.com"});
        let view = readable_view(&contact, &fields());
        for q in ["Which plan am I on?", "what's my plan", "¿Cuál es mi plan?", "Quel est mon plan ?"] {
            let m = match_property(q, &view).unwrap_or_else(|| panic!("{q}"));
            assert_eq!(m.property.key, "plan", "{q}");
        }
        assert!(match_property("How much does the Pro plan cost?", &view).is_none(), "not about the visitor");
        assert!(match_property("what is my password", &view).is_none());
        let m = match_property("which plan am I on?", &view).unwrap();
        assert_eq!(property_reply(Lang::En, &m.property), "Your plan is Pro.");
        for l in Lang::ALL.into_iter().filter(|l| *l != Lang::En) {
            assert!(property_reply(l, &m.property).contains("Pro"), "{l:?}");
            assert_ne!(updated_reply(l, &["Phone"]), updated_reply(Lang::En, &["Phone"]), "{l:?}");
        }
    }

    #[test]
    fn the_update_schema_lists_writable_fields_only() {
        let s = update_schema(&fields());
        let props = s["properties"].as_object().unwrap();
        assert!(props.contains_key("email") && props.contains_key("company"));
        assert!(!props.contains_key("plan") && !props.contains_key("notes"));
    }
}
