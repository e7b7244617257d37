//! Knowledge gaps (H1–H4) around the pure grouping of
//! `frontdesk_core::gaps`: questions the agent could not answer are grouped
//! into topics by a job soon after they are recorded (and before the gaps
//! are listed), with embeddings when the model is installed and key terms
//! otherwise; a topic is answered with a short answer or dismissed.

use std::sync::Arc;

use frontdesk_core::gaps::{self, GroupingConfig, QuestionFeatures, TopicSummary};
use frontdesk_core::short_answers::ShortAnswer;
use frontdesk_store::GapPlacement;
use serde_json::{json, Value};

use crate::Context;

/// The job that groups new unanswered questions (one at a time: dedupe key).
/// Questions grouped per round.
const BATCH: i64 = 200;
/// Members compared when choosing a topic's label.
const LABEL_MEMBERS: i64 = 200;

fn summary_of(json: &str) -> TopicSummary {
    serde_json::from_str(json).unwrap_or_default()
}

/// Groups every question not grouped yet; returns how many were placed.
pub async fn group_pending(cx: &Context) -> anyhow::Result<usize> {
    let cfg = GroupingConfig::default();
    let mut placed = 0;
    loop {
        let questions = cx.store.ungrouped_questions(BATCH).await?;
        if questions.is_empty() {
            return Ok(placed);
        }
        // The grouping threshold (GroupingConfig::min_cosine) was measured
        // with MiniLM; another model's cosines are on another scale (e5 puts
        // unrelated questions near 0.8 and would merge every topic): key
        // terms only until it is calibrated for that model.
        let calibrated = cx.knowledge.embedder().filter(|e| e.name() == frontdesk_embed::MINILM_NAME);
        let vectors: Vec<Option<Vec<f32>>> = match calibrated {
            Some(embedder) => {
                let embedder = Arc::clone(embedder);
                let texts: Vec<String> = questions.iter().map(|q| q.question.clone()).collect();
                match tokio::task::spawn_blocking(move || embedder.embed(&texts)).await? {
                    Ok(v) => v.into_iter().map(Some).collect(),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not embed unanswered questions; grouping by key terms");
                        vec![None; questions.len()]
                    }
                }
            }
            None => vec![None; questions.len()],
        };
        let mut topics: Vec<(i64, TopicSummary)> =
            cx.store.open_gap_summaries().await?.into_iter().map(|(id, s)| (id, summary_of(&s))).collect();
        for (q, vector) in questions.iter().zip(vectors) {
            let features = gaps::features(&q.question, vector);
            let features_json = serde_json::to_string(&features)?;
            let refs: Vec<(i64, &TopicSummary)> = topics.iter().map(|(id, s)| (*id, s)).collect();
            let placement = match gaps::best_topic(&features, &refs, &cfg) {
                Some((topic_id, _)) => {
                    let Some(i) = topics.iter().position(|(id, _)| *id == topic_id) else { continue };
                    topics[i].1.add(&features);
                    let label = label_for(cx, topic_id, &topics[i].1, &q.question, &features).await?;
                    GapPlacement::Join { topic_id, summary: serde_json::to_string(&topics[i].1)?, label }
                }
                None => {
                    let mut s = TopicSummary::default();
                    s.add(&features);
                    GapPlacement::New { summary: serde_json::to_string(&s)?, label: q.question.clone() }
                }
            };
            let new_summary = match &placement {
                GapPlacement::New { summary, .. } => Some(summary.clone()),
                GapPlacement::Join { .. } => None,
            };
            match cx.store.place_question(q.id, &features_json, placement).await {
                Ok(topic_id) => {
                    placed += 1;
                    if let Some(s) = new_summary {
                        topics.push((topic_id, summary_of(&s)));
                    }
                }
                // Answered or dismissed meanwhile, or grouped by another
                // replica: the next round sees the current state.
                Err(frontdesk_store::StoreError::Conflict(m)) => {
                    tracing::debug!(question = q.id, reason = %m, "question not placed");
                    topics =
                        cx.store.open_gap_summaries().await?.into_iter().map(|(id, s)| (id, summary_of(&s))).collect();
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// The topic's most representative question once `question` joins it.
async fn label_for(
    cx: &Context,
    topic_id: i64,
    summary: &TopicSummary,
    question: &str,
    features: &QuestionFeatures,
) -> anyhow::Result<String> {
    let members = cx.store.gap_members(topic_id, LABEL_MEMBERS).await?;
    let mut texts = vec![question.to_owned()];
    let mut feats = vec![features.clone()];
    for (_, text, f) in members {
        if let Some(f) = f.and_then(|f| serde_json::from_str::<QuestionFeatures>(&f).ok()) {
            texts.push(text);
            feats.push(f);
        }
    }
    let refs: Vec<&QuestionFeatures> = feats.iter().collect();
    Ok(gaps::representative(summary, &refs).and_then(|i| texts.get(i).cloned()).unwrap_or_else(|| question.to_owned()))
}

/// How the agent would reply to `message` once the draft short answer
/// exists (H3's preview): the saved configuration plus the draft; nothing
/// is stored and no credits are used.
pub async fn preview(cx: &Context, question: &str, answer: &str, message: &str) -> frontdesk_store::StoreResult<Value> {
    let mut agent = (*cx.snapshot().await?).clone();
    let mut answers: Vec<ShortAnswer> = cx
        .store
        .list_short_answers()
        .await?
        .into_iter()
        .map(|r| ShortAnswer { id: r.id, question: r.question, answer: r.answer })
        .collect();
    // The draft has no id yet: 0 never names a stored short answer.
    answers.push(ShortAnswer { id: 0, question: question.to_owned(), answer: answer.to_owned() });
    agent.responder = frontdesk_core::responder::ShortAnswerResponder::new(answers, cx.settings.answer_threshold);
    let ask =
        crate::respond::Ask { text: message.to_owned(), history: Vec::new(), contact_id: None, conversation_id: None };
    let reply = crate::respond::respond(cx, &agent, &ask).await;
    let uses_draft = reply.citations.iter().any(|c| c.source_kind == "short_answer" && c.source_id == 0);
    let mut v = crate::respond::reply_json(&agent, &reply);
    v["message"] = json!(message);
    v["uses_draft"] = json!(uses_draft);
    Ok(v)
}
