//! The demo workspace of `serve --demo`: an admin, the agent "Luma", short
//! answers about a fictional product, and a page at `/demo` with the widget.

use axum::response::{Html, IntoResponse};
use frontdesk_core::model::{Personality, Role};
use frontdesk_store::{Actor, AgentProfile, NewShortAnswer, NewUser, Store};

use crate::assets::Assets;

pub const DEMO_ADMIN_EMAIL: &str = "admin@demo.frontdesk.example";

pub async fn demo_page() -> impl IntoResponse {
    let page = Assets::get("demo.html").map(|f| String::from_utf8_lossy(&f.data).into_owned()).unwrap_or_default();
    Html(page)
}

/// The demo's short answers about "Nimbus Notes", a fictional note-taking app.
pub const DEMO_SHORT_ANSWERS: &[(&str, &str)] = &[
    ("How much does Nimbus Notes cost?", "Nimbus Notes has three plans: Free (0 €), Plus at 6 € per user per month, and Team at 12 € per user per month, billed monthly or yearly (two months free)."),
    ("Is there a free trial of the paid plans?", "Yes: every paid plan starts with a 14-day free trial, no credit card needed."),
    ("How do I reset my password?", "Click \"Forgot password?\" on the sign-in page, enter your email and follow the link we send you. The link is valid for 30 minutes."),
    ("How do I cancel my subscription?", "Go to Settings > Billing > Cancel plan. You keep your paid features until the end of the current billing period."),
    ("Can I get a refund?", "Yearly plans can be refunded in full within 30 days of purchase. Monthly plans are not refunded, but you can cancel at any time."),
    ("Which devices and platforms are supported?", "Nimbus Notes runs in any modern browser and has apps for Windows 10+, macOS 12+, iOS 16+ and Android 10+."),
    ("Does Nimbus Notes work offline?", "Yes. The desktop and mobile apps work offline and sync your changes as soon as you are back online."),
    ("How do I export my notes?", "Open Settings > Data > Export. You can export everything as Markdown, PDF or a JSON archive."),
    ("How do I import notes from Evernote?", "Export your notebooks from Evernote as .enex files, then use Settings > Data > Import > Evernote."),
    ("Is my data encrypted?", "Yes: all data is encrypted in transit with TLS 1.3 and at rest with AES-256. Plus and Team plans can turn on end-to-end encrypted notebooks."),
    ("Where is my data stored?", "Your notes are stored in data centres in Frankfurt and Dublin, within the European Union."),
    ("How do I share a note with someone?", "Open the note, click Share, and enter the person's email. You can let them view or edit, and revoke access at any time."),
    ("How many people can I invite to my team?", "The Team plan has no limit on members; you pay per active member each month."),
    ("What is the storage limit?", "Free accounts get 1 GB of storage, Plus 50 GB, and Team 200 GB per member."),
    ("How do I contact support?", "You are talking to us! Ask here, or email support@nimbusnotes.example. A person answers on weekdays from 9:00 to 18:00 CET."),
    ("How do I delete my account?", "Go to Settings > Account > Delete account. Your data is erased within 30 days; export it first if you want to keep it."),
];

/// Creates the demo workspace if it is not there yet. Returns the admin's
/// password when it created the admin (it is only shown once).
pub async fn seed(
    store: &dyn Store,
    password_hash: impl FnOnce() -> anyhow::Result<(String, String)>,
) -> anyhow::Result<Option<String>> {
    let actor = Actor::system("demo");
    let mut created_password = None;
    if store.find_user_by_email(DEMO_ADMIN_EMAIL).await?.is_none() {
        let (password, hash) = password_hash()?;
        store
            .create_user(
                &actor,
                NewUser {
                    email: DEMO_ADMIN_EMAIL.into(),
                    name: "Demo Admin".into(),
                    password_hash: hash,
                    role: Role::Admin,
                    paid_seat: true,
                },
            )
            .await?;
        created_password = Some(password);
    }
    let profile = store.agent_profile().await?;
    if profile.updated_at == 0 {
        store
            .update_agent_profile(
                &actor,
                AgentProfile { name: "Luma".into(), personality: Personality::Friendly, ..AgentProfile::default() },
            )
            .await?;
    }
    if store.list_short_answers().await?.is_empty() {
        for (q, a) in DEMO_SHORT_ANSWERS {
            store
                .create_short_answer(
                    &actor,
                    NewShortAnswer { question: (*q).into(), answer: (*a).into(), citations_enabled: true },
                )
                .await?;
        }
    }
    Ok(created_password)
}
