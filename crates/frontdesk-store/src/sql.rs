//! The SQL both backends share, written once. `impl_store!` expands to an
//! implementation of [`crate::Store`] for a backend struct with `read` and
//! `write` pools of the given sqlx database type; the few statements that
//! differ between dialects come from the backend as constants.
//!
//! Portability rules kept here: `$n` placeholders (SQLite accepts them too),
//! `INSERT … RETURNING`, `ON CONFLICT`, integers for timestamps (Unix ms),
//! JSON as text, booleans bound from Rust `bool`.

pub(crate) const CONVERSATION_COLUMNS: &str = "c.id, c.channel, c.status, c.assignee_kind, c.assignee_user_id, \
    c.contact_id, c.is_preview, c.last_seq, c.created_at, c.last_activity_at, c.closed_at, c.channel_id, c.handle, \
    c.subject, c.email_ask";
pub(crate) const MESSAGE_COLUMNS: &str =
    "id, conversation_id, seq, author, user_id, body, citations, trace, created_at";
pub(crate) const JOB_COLUMNS: &str =
    "id, kind, payload, status, attempts, max_attempts, run_at, last_error, created_at, updated_at";
pub(crate) const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.role, u.paid_seat, u.availability, u.disabled, u.created_at";

macro_rules! impl_store {
    ($store:ty, $db:ty, $backend:literal, $claim_sql:literal) => {
        use crate::row::{from_row, RowExt};
        use crate::sql::{CONVERSATION_COLUMNS, JOB_COLUMNS, MESSAGE_COLUMNS, USER_COLUMNS};
        use crate::*;
        use frontdesk_core::model::*;
        use frontdesk_core::responder::Citation;
        use async_trait::async_trait;
        use serde_json::{json, Value};
        use sqlx::Row;

        type Tx<'a> = sqlx::Transaction<'a, $db>;
        type DbRow = <$db as sqlx::Database>::Row;
        type Db = $db;

        fn user_from_row(r: &DbRow) -> StoreResult<User> {
            Ok(User {
                id: r.try_get("id")?,
                email: r.try_get("email")?,
                name: r.try_get("name")?,
                role: r.enum_col("role", Role::parse)?,
                paid_seat: r.try_get("paid_seat")?,
                availability: r.enum_col("availability", Availability::parse)?,
                disabled: r.try_get("disabled")?,
                created_at: r.try_get("created_at")?,
            })
        }

        fn conversation_from_row(r: &DbRow) -> StoreResult<Conversation> {
            Ok(Conversation {
                id: r.try_get("id")?,
                channel: r.enum_col("channel", Channel::parse)?,
                status: r.enum_col("status", ConversationStatus::parse)?,
                assignee_kind: r.enum_col("assignee_kind", AssigneeKind::parse)?,
                assignee_user_id: r.try_get("assignee_user_id")?,
                contact_id: r.try_get("contact_id")?,
                is_preview: r.try_get("is_preview")?,
                last_seq: r.try_get("last_seq")?,
                created_at: r.try_get("created_at")?,
                last_activity_at: r.try_get("last_activity_at")?,
                closed_at: r.try_get("closed_at")?,
                channel_id: r.try_get("channel_id")?,
                handle: r.try_get("handle")?,
                subject: r.try_get("subject")?,
                email_ask: r.try_get("email_ask")?,
            })
        }

        fn message_from_row(r: &DbRow) -> StoreResult<Message> {
            Ok(Message {
                id: r.try_get("id")?,
                conversation_id: r.try_get("conversation_id")?,
                seq: r.try_get("seq")?,
                author: r.enum_col("author", Author::parse)?,
                user_id: r.try_get("user_id")?,
                text: r.try_get("body")?,
                citations: r.json_col::<Vec<Citation>>("citations")?,
                trace: r.json_opt_col("trace")?,
                created_at: r.try_get("created_at")?,
            })
        }

        fn contact_from_row(r: &DbRow) -> StoreResult<Contact> {
            Ok(Contact {
                id: r.try_get("id")?,
                email: r.try_get("email")?,
                name: r.try_get("name")?,
                phone: r.try_get("phone")?,
                properties: r.json_col("properties")?,
                created_at: r.try_get("created_at")?,
            })
        }

        fn job_from_row(r: &DbRow) -> StoreResult<Job> {
            Ok(Job {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                payload: r.json_col("payload")?,
                status: r.enum_col("status", JobStatus::parse)?,
                attempts: r.try_get("attempts")?,
                max_attempts: r.try_get("max_attempts")?,
                run_at: r.try_get("run_at")?,
                last_error: r.try_get("last_error")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        }

        fn profile_from_row(r: &DbRow) -> StoreResult<AgentProfile> {
            Ok(AgentProfile {
                name: r.try_get("name")?,
                personality: r.enum_col("personality", Personality::parse)?,
                brand_voice: r.try_get("brand_voice")?,
                enabled: r.try_get("enabled")?,
                default_lang: r.try_get("default_lang")?,
                inactivity_close_minutes: r.try_get("inactivity_close_minutes")?,
                handoff_phrases: r.json_col("handoff_phrases")?,
                topics_to_avoid: r.json_col("topics_to_avoid")?,
                updated_at: r.try_get("updated_at")?,
            })
        }

        /// Writes one audit row inside the caller's transaction (I1).
        async fn audit(
            tx: &mut Tx<'_>,
            actor: &Actor,
            action: &str,
            entity_type: &str,
            entity_id: impl ToString,
            before: Option<Value>,
            after: Option<Value>,
        ) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO audit_log (actor_user_id, actor_label, action, entity_type, entity_id, before_json, after_json, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(actor.user_id)
            .bind(&actor.label)
            .bind(action)
            .bind(entity_type)
            .bind(entity_id.to_string())
            .bind(before.map(|v| v.to_string()))
            .bind(after.map(|v| v.to_string()))
            .bind(now_ms())
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        /// Appends one event inside the caller's transaction.
        async fn event(
            tx: &mut Tx<'_>,
            conversation_id: i64,
            kind: EventKind,
            actor_kind: &str,
            actor_user_id: Option<i64>,
            data: Value,
            at: i64,
        ) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO events (conversation_id, kind, actor_kind, actor_user_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(conversation_id)
            .bind(kind.as_str())
            .bind(actor_kind)
            .bind(actor_user_id)
            .bind(data.to_string())
            .bind(at)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        async fn fetch_user(tx: &mut Tx<'_>, id: i64) -> StoreResult<User> {
            let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound("user"))?;
            user_from_row(&row)
        }

        async fn fetch_conversation(tx: &mut Tx<'_>, id: i64) -> StoreResult<Conversation> {
            let row = sqlx::query(&format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = $1"))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound("conversation"))?;
            conversation_from_row(&row)
        }

        async fn fetch_team(tx: &mut Tx<'_>, id: i64) -> StoreResult<Team> {
            let row = sqlx::query("SELECT id, name FROM teams WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound("team"))?;
            let member_ids = sqlx::query("SELECT user_id FROM team_members WHERE team_id = $1 ORDER BY user_id")
                .bind(id)
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(|r| r.try_get::<i64, _>("user_id"))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Team { id: row.try_get("id")?, name: row.try_get("name")?, member_ids })
        }

        async fn fetch_short_answer(tx: &mut Tx<'_>, id: i64) -> StoreResult<ShortAnswerRow> {
            let row = sqlx::query("SELECT id, question, answer, citations_enabled, created_at, updated_at FROM short_answers WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound("short answer"))?;
            from_row(&row)
        }

        async fn bump_content_version(tx: &mut Tx<'_>) -> StoreResult<()> {
            sqlx::query("UPDATE content_version SET version = version + 1 WHERE id = 1").execute(&mut **tx).await?;
            Ok(())
        }

        fn user_json(u: &User) -> Value {
            serde_json::to_value(u).unwrap_or(Value::Null)
        }

        fn sa_json(s: &ShortAnswerRow) -> Value {
            serde_json::to_value(s).unwrap_or(Value::Null)
        }

        /// Creates a short answer inside the caller's transaction: the row,
        /// the content version (the agent uses it at once) and the audit row.
        /// The caller bumps `local_changes` after committing.
        async fn insert_short_answer(tx: &mut Tx<'_>, actor: &Actor, new: &NewShortAnswer) -> StoreResult<ShortAnswerRow> {
            let id: i64 = sqlx::query(
                "INSERT INTO short_answers (question, answer, citations_enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
            )
            .bind(&new.question)
            .bind(&new.answer)
            .bind(new.citations_enabled)
            .bind(now_ms())
            .fetch_one(&mut **tx)
            .await?
            .try_get("id")?;
            let sa = fetch_short_answer(tx, id).await?;
            bump_content_version(tx).await?;
            audit(tx, actor, "create", "short_answer", id, None, Some(sa_json(&sa))).await?;
            Ok(sa)
        }

        /// Appends a message and its event inside the caller's transaction;
        /// returns it with the conversation's assignee kind at that moment.
        async fn insert_message(tx: &mut Tx<'_>, new: NewMessage, now: i64) -> StoreResult<(Message, String)> {
                // Taking the next sequence number locks the conversation row
            // until commit, so sequence order is commit order: a reader
            // that saw seq n never later finds a new message below n.
            let row = sqlx::query(
                "UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = $1 WHERE id = $2 RETURNING last_seq, status, assignee_kind, channel_id",
            )
            .bind(now)
            .bind(new.conversation_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
            let seq: i64 = row.try_get("last_seq")?;
            let status: String = row.try_get("status")?;
            let assignee: String = row.try_get("assignee_kind")?;
            if status == ConversationStatus::Closed.as_str() && new.author == Author::Visitor {
                sqlx::query("UPDATE conversations SET status = 'open', closed_at = NULL WHERE id = $1")
                    .bind(new.conversation_id)
                    .execute(&mut **tx)
                    .await?;
                event(tx, new.conversation_id, EventKind::Reopened, "visitor", None, json!({"reason": "visitor wrote"}), now).await?;
            }
            let citations = serde_json::to_string(&new.citations)?;
            let r = sqlx::query(&format!(
                "INSERT INTO messages (conversation_id, seq, author, user_id, body, citations, trace, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {MESSAGE_COLUMNS}"
            ))
            .bind(new.conversation_id)
            .bind(seq)
            .bind(new.author.as_str())
            .bind(new.user_id)
            .bind(&new.text)
            .bind(&citations)
            .bind(new.trace.as_ref().map(|t| t.to_string()))
            .bind(now)
            .fetch_one(&mut **tx)
            .await?;
            let message = message_from_row(&r)?;
            let mut data = json!({
                "message_id": message.id,
                "author": new.author,
                "cited": !new.citations.is_empty(),
                "sources": new.citations.iter().map(|c| json!({"kind": c.source_kind, "id": c.source_id})).collect::<Vec<_>>(),
            });
            if let (Value::Object(d), Value::Object(extra)) = (&mut data, new.event_data) {
                d.extend(extra);
            }
            event(tx, new.conversation_id, EventKind::Message, new.author.as_str(), new.user_id, data, now).await?;
            // A reply in a conversation from a connected channel goes out through
            // the outbox, in this same transaction: never lost, never sent twice.
            let channel_id: Option<i64> = row.try_get("channel_id")?;
            if let Some(channel_id) = channel_id.filter(|_| new.author != Author::Visitor && !message.text.trim().is_empty()) {
                let delivery: i64 = sqlx::query(
                    "INSERT INTO deliveries (channel_id, conversation_id, message_id, status, attempts, idempotency_key, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'queued', 0, $4, $5, $5) RETURNING id",
                )
                .bind(channel_id)
                .bind(new.conversation_id)
                .bind(message.id)
                .bind(format!("fd-{}-{}", new.conversation_id, message.id))
                .bind(now)
                .fetch_one(&mut **tx)
                .await?
                .try_get("id")?;
                sqlx::query(
                    "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, dedupe_key, created_at, updated_at) \
                     VALUES ('deliver', $1, 'queued', 0, $2, $3, NULL, $3, $3)",
                )
                .bind(json!({"delivery_id": delivery}).to_string())
                .bind(DELIVERY_MAX_ATTEMPTS)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            }
            Ok((message, assignee))
        }

        /// Changes the assignee and appends the assignment (and handoff) events
        /// inside the caller's transaction.
        async fn apply_assign(tx: &mut Tx<'_>, change: AssignChange, now: i64) -> StoreResult<()> {
                let (kind, user_id) = match change.to {
                Assignee::Agent => (AssigneeKind::Agent, None),
                Assignee::Human(uid) => {
                    let u = fetch_user(tx, uid).await?;
                    if u.disabled {
                        return Err(StoreError::Invalid(format!("user {uid} is disabled")));
                    }
                    (AssigneeKind::Human, Some(uid))
                }
                Assignee::Nobody => (AssigneeKind::None, None),
            };
            let done = sqlx::query("UPDATE conversations SET assignee_kind = $1, assignee_user_id = $2, last_activity_at = $3 WHERE id = $4")
                .bind(kind.as_str())
                .bind(user_id)
                .bind(now)
                .bind(change.conversation_id)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            if done == 0 {
                return Err(StoreError::NotFound("conversation"));
            }
            let actor_kind = match change.cause {
                AssignCause::Agent => "agent",
                AssignCause::Rule | AssignCause::Initial => "system",
                AssignCause::Manual => "human",
            };
            if let Some(trigger) = change.handoff {
                event(tx, change.conversation_id, EventKind::Handoff, "agent", None, json!({"trigger": trigger}), now).await?;
            }
            event(tx, change.conversation_id, EventKind::Assigned, actor_kind, change.actor_user_id,
                json!({"to": kind, "user_id": user_id, "cause": change.cause}), now).await?;
            Ok(())
        }

        /// Reassigns the open conversations of `user_id` by the handoff route
        /// (round robin among the other eligible people it names), or to
        /// nobody; each change is an `assigned` event with the cause "rule".
        async fn reassign_held(tx: &mut Tx<'_>, actor: &Actor, user_id: i64, now: i64) -> StoreResult<()> {
            let held: Vec<i64> = sqlx::query(
                "SELECT id FROM conversations WHERE assignee_kind = 'human' AND assignee_user_id = $1 AND status = 'open' ORDER BY id",
            )
            .bind(user_id)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
            if held.is_empty() {
                return Ok(());
            }
            let settings: HandoffSettings = match sqlx::query("SELECT settings FROM handoff_settings WHERE id = 1")
                .fetch_optional(&mut **tx)
                .await?
            {
                Some(r) => r.json_col("settings")?,
                None => HandoffSettings::default(),
            };
            let mut teams: Vec<(i64, Vec<i64>)> = Vec::new();
            for team_id in &settings.team_ids {
                let members: Vec<i64> = sqlx::query("SELECT user_id FROM team_members WHERE team_id = $1")
                    .bind(team_id)
                    .fetch_all(&mut **tx)
                    .await?
                    .iter()
                    .map(|r| r.try_get("user_id"))
                    .collect::<Result<_, _>>()?;
                teams.push((*team_id, members));
            }
            let members: Vec<i64> =
                frontdesk_core::routing::route_members(&settings.user_ids, &teams, &settings.team_ids)
                    .into_iter()
                    .filter(|m| *m != user_id)
                    .collect();
            for conversation_id in held {
                let candidates = candidates_in(&mut **tx, &members).await?;
                let chosen = frontdesk_core::routing::pick(&candidates);
                let to = chosen.map_or(Assignee::Nobody, Assignee::Human);
                let change = AssignChange { conversation_id, to, cause: AssignCause::Rule, actor_user_id: actor.user_id, handoff: None };
                apply_assign(tx, change, now).await?;
                if let Some(uid) = chosen {
                    sqlx::query("UPDATE users SET last_routed_at = $1 WHERE id = $2").bind(now).bind(uid).execute(&mut **tx).await?;
                }
            }
            Ok(())
        }

        /// Applies a handoff in the turn's transaction (E3–E8): with no
        /// handoff process the agent keeps the conversation and the request is
        /// only recorded; otherwise round robin among the route's eligible
        /// people (the conversation row is locked by this transaction, so two
        /// replicas cannot both assign it), or nobody — and after a live
        /// handoff that found nobody, the chat is closed if so configured.
        async fn route_handoff(
            tx: &mut Tx<'_>,
            conversation_id: i64,
            trigger: HandoffTrigger,
            route: Option<&HandoffRoute>,
            now: i64,
        ) -> StoreResult<()> {
            use frontdesk_core::routing::{pick, HandoffProcess, WhenUnassigned};
            let Some(route) = route else {
                let change = AssignChange { conversation_id, to: Assignee::Nobody, cause: AssignCause::Agent, actor_user_id: None, handoff: Some(trigger) };
                return apply_assign(tx, change, now).await;
            };
            if route.process == HandoffProcess::None {
                event(tx, conversation_id, EventKind::Handoff, "agent", None, json!({"trigger": trigger, "recorded_only": true}), now).await?;
                return Ok(());
            }
            // Assign by conditions (E5): the workflow's ticket actions, then its assignment.
            let (members, cause) = match &route.workflow {
                None => (route.members.clone(), AssignCause::Agent),
                Some(wr) => {
                    use frontdesk_core::workflow::{assignment, Action};
                    apply_workflow_ticket(tx, conversation_id, wr, now).await?;
                    if let Some(Action::AssignToAgent) = assignment(&wr.actions) {
                        let change = AssignChange { conversation_id, to: Assignee::Agent, cause: AssignCause::Rule, actor_user_id: None, handoff: Some(trigger) };
                        return apply_assign(tx, change, now).await;
                    }
                    (wr.members.clone(), AssignCause::Rule)
                }
            };
            let mut candidates = candidates_in(&mut **tx, &members).await?;
            if route.process == HandoffProcess::Async {
                // Someone who follows up later need not be available now.
                candidates.iter_mut().for_each(|c| c.available = true);
            }
            let chosen = pick(&candidates);
            let to = chosen.map_or(Assignee::Nobody, Assignee::Human);
            apply_assign(tx, AssignChange { conversation_id, to, cause, actor_user_id: None, handoff: Some(trigger) }, now).await?;
            match chosen {
                Some(uid) => {
                    sqlx::query("UPDATE users SET last_routed_at = $1 WHERE id = $2").bind(now).bind(uid).execute(&mut **tx).await?;
                }
                None if route.process == HandoffProcess::Live && route.when_unassigned == WhenUnassigned::Close => {
                    sqlx::query("UPDATE conversations SET status = 'closed', closed_at = $1 WHERE id = $2")
                        .bind(now)
                        .bind(conversation_id)
                        .execute(&mut **tx)
                        .await?;
                    event(tx, conversation_id, EventKind::Closed, "system", None, json!({"reason": "nobody could take the live handoff"}), now).await?;
                }
                None => {}
            }
            Ok(())
        }

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn migrate(&self) -> StoreResult<()> {
                Self::MIGRATOR.run(&self.write).await?;
                Ok(())
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.read).await?;
                Ok(())
            }

            async fn create_user(&self, actor: &Actor, new: NewUser) -> StoreResult<User> {
                let mut tx = self.write.begin().await?;
                let id: i64 = sqlx::query(
                    "INSERT INTO users (email, name, password_hash, role, paid_seat, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(&new.email)
                .bind(&new.name)
                .bind(&new.password_hash)
                .bind(new.role.as_str())
                .bind(new.paid_seat)
                .bind(now_ms())
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict(_) => StoreError::Conflict(format!("a user with email {} already exists", new.email)),
                    e => e,
                })?
                .try_get("id")?;
                let user = fetch_user(&mut tx, id).await?;
                audit(&mut tx, actor, "create", "user", id, None, Some(user_json(&user))).await?;
                tx.commit().await?;
                Ok(user)
            }

            async fn get_user(&self, id: i64) -> StoreResult<User> {
                let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"))
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("user"))?;
                user_from_row(&row)
            }

            async fn find_user_by_email(&self, email: &str) -> StoreResult<Option<(User, String)>> {
                let row = sqlx::query(&format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE lower(u.email) = lower($1)"))
                    .bind(email)
                    .fetch_optional(&self.read)
                    .await?;
                match row {
                    Some(r) => Ok(Some((user_from_row(&r)?, r.try_get("password_hash")?))),
                    None => Ok(None),
                }
            }

            async fn list_users(&self) -> StoreResult<Vec<User>> {
                sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.id"))
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(user_from_row)
                    .collect()
            }

            async fn update_user(&self, actor: &Actor, id: i64, patch: UserPatch) -> StoreResult<User> {
                let mut tx = self.write.begin().await?;
                let before = fetch_user(&mut tx, id).await?;
                sqlx::query(
                    "UPDATE users SET name = COALESCE($1, name), role = COALESCE($2, role), paid_seat = COALESCE($3, paid_seat), \
                     availability = COALESCE($4, availability), disabled = COALESCE($5, disabled), \
                     password_hash = COALESCE($6, password_hash) WHERE id = $7",
                )
                .bind(patch.name)
                .bind(patch.role.map(|r| r.as_str()))
                .bind(patch.paid_seat)
                .bind(patch.availability.map(|a| a.as_str()))
                .bind(patch.disabled)
                .bind(patch.password_hash.clone())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                if patch.disabled == Some(true) {
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
                }
                let after = fetch_user(&mut tx, id).await?;
                // Someone who can no longer take conversations (seat removed,
                // disabled) hands theirs on by the routing rules, in this
                // same transaction: nothing is left with them.
                let can_hold = |u: &User| u.paid_seat && !u.disabled;
                if can_hold(&before) && !can_hold(&after) {
                    reassign_held(&mut tx, actor, id, now_ms()).await?;
                }
                let mut after_json = user_json(&after);
                if patch.password_hash.is_some() {
                    after_json["password"] = json!("changed");
                }
                audit(&mut tx, actor, "update", "user", id, Some(user_json(&before)), Some(after_json)).await?;
                tx.commit().await?;
                Ok(after)
            }

            async fn create_team(&self, actor: &Actor, name: &str) -> StoreResult<Team> {
                let mut tx = self.write.begin().await?;
                let id: i64 = sqlx::query("INSERT INTO teams (name, created_at) VALUES ($1, $2) RETURNING id")
                    .bind(name)
                    .bind(now_ms())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| match StoreError::from(e) {
                        StoreError::Conflict(_) => StoreError::Conflict(format!("a team named {name:?} already exists")),
                        e => e,
                    })?
                    .try_get("id")?;
                let team = fetch_team(&mut tx, id).await?;
                audit(&mut tx, actor, "create", "team", id, None, Some(json!(team))).await?;
                tx.commit().await?;
                Ok(team)
            }

            async fn list_teams(&self) -> StoreResult<Vec<Team>> {
                let teams = sqlx::query("SELECT id, name FROM teams ORDER BY name").fetch_all(&self.read).await?;
                let members = sqlx::query("SELECT team_id, user_id FROM team_members ORDER BY user_id").fetch_all(&self.read).await?;
                let mut out = Vec::with_capacity(teams.len());
                for t in &teams {
                    let id: i64 = t.try_get("id")?;
                    let mut member_ids = Vec::new();
                    for m in &members {
                        if m.try_get::<i64, _>("team_id")? == id {
                            member_ids.push(m.try_get("user_id")?);
                        }
                    }
                    out.push(Team { id, name: t.try_get("name")?, member_ids });
                }
                Ok(out)
            }

            async fn set_team_members(&self, actor: &Actor, team_id: i64, user_ids: &[i64]) -> StoreResult<Team> {
                let mut tx = self.write.begin().await?;
                let before = fetch_team(&mut tx, team_id).await?;
                sqlx::query("DELETE FROM team_members WHERE team_id = $1").bind(team_id).execute(&mut *tx).await?;
                for uid in user_ids {
                    fetch_user(&mut tx, *uid).await?;
                    sqlx::query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(team_id)
                        .bind(uid)
                        .execute(&mut *tx)
                        .await?;
                }
                let after = fetch_team(&mut tx, team_id).await?;
                audit(&mut tx, actor, "update", "team", team_id, Some(json!(before)), Some(json!(after))).await?;
                tx.commit().await?;
                Ok(after)
            }

            async fn delete_team(&self, actor: &Actor, team_id: i64) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let before = fetch_team(&mut tx, team_id).await?;
                sqlx::query("DELETE FROM team_members WHERE team_id = $1").bind(team_id).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM teams WHERE id = $1").bind(team_id).execute(&mut *tx).await?;
                audit(&mut tx, actor, "delete", "team", team_id, Some(json!(before)), None).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_session(&self, new: NewSession) -> StoreResult<()> {
                sqlx::query("INSERT INTO sessions (token_hash, csrf_token, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&new.token_hash)
                    .bind(&new.csrf_token)
                    .bind(new.user_id)
                    .bind(now_ms())
                    .bind(new.expires_at)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn session(&self, token_hash: &str, now: i64) -> StoreResult<Option<(User, String)>> {
                let row = sqlx::query(&format!(
                    "SELECT {USER_COLUMNS}, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id \
                     WHERE s.token_hash = $1 AND s.expires_at > $2"
                ))
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&self.read)
                .await?;
                match row {
                    Some(r) => Ok(Some((user_from_row(&r)?, r.try_get("csrf_token")?))),
                    None => Ok(None),
                }
            }

            async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.write).await?;
                Ok(())
            }

            async fn create_api_key(&self, actor: &Actor, new: NewApiKey) -> StoreResult<ApiKey> {
                let mut tx = self.write.begin().await?;
                fetch_user(&mut tx, new.user_id).await?;
                let row = sqlx::query(
                    "INSERT INTO api_keys (user_id, name, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
                     RETURNING id, user_id, name, prefix, created_at, last_used_at, revoked_at",
                )
                .bind(new.user_id)
                .bind(&new.name)
                .bind(&new.prefix)
                .bind(&new.key_hash)
                .bind(now_ms())
                .fetch_one(&mut *tx)
                .await?;
                let key: ApiKey = from_row(&row)?;
                audit(&mut tx, actor, "create", "api_key", key.id, None, Some(json!(key))).await?;
                tx.commit().await?;
                Ok(key)
            }

            async fn api_key_user(&self, key_hash: &str) -> StoreResult<Option<User>> {
                let row = sqlx::query(&format!(
                    "SELECT {USER_COLUMNS}, k.last_used_at FROM api_keys k JOIN users u ON u.id = k.user_id \
                     WHERE k.key_hash = $1 AND k.revoked_at IS NULL"
                ))
                .bind(key_hash)
                .fetch_optional(&self.read)
                .await?;
                let Some(r) = row else { return Ok(None) };
                let last_used: Option<i64> = r.try_get("last_used_at")?;
                let now = now_ms();
                // Record use at most once a minute: authentication stays a read.
                if last_used.map_or(true, |t| now - t > 60_000) {
                    sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE key_hash = $2")
                        .bind(now)
                        .bind(key_hash)
                        .execute(&self.write)
                        .await?;
                }
                Ok(Some(user_from_row(&r)?))
            }

            async fn list_api_keys(&self) -> StoreResult<Vec<ApiKey>> {
                sqlx::query("SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at FROM api_keys ORDER BY id")
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(from_row)
                    .collect()
            }

            async fn revoke_api_key(&self, actor: &Actor, id: i64) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let done = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(now_ms())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if done == 0 {
                    return Err(StoreError::NotFound("api key"));
                }
                audit(&mut tx, actor, "delete", "api_key", id, None, None).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn upsert_contact(&self, new: NewContact) -> StoreResult<Contact> {
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                // Matched across channels (J4): by email, else by phone number.
                let mut existing = match &new.email {
                    Some(email) => sqlx::query("SELECT id FROM contacts WHERE email = $1")
                        .bind(email)
                        .fetch_optional(&mut *tx)
                        .await?
                        .map(|r| r.try_get::<i64, _>("id"))
                        .transpose()?,
                    None => None,
                };
                if existing.is_none() {
                    if let Some(phone) = &new.phone {
                        existing = sqlx::query("SELECT id FROM contacts WHERE phone = $1 ORDER BY id LIMIT 1")
                            .bind(phone)
                            .fetch_optional(&mut *tx)
                            .await?
                            .map(|r| r.try_get::<i64, _>("id"))
                            .transpose()?;
                    }
                }
                let id = match existing {
                    Some(id) => {
                        sqlx::query(
                            "UPDATE contacts SET name = COALESCE(name, $1), phone = COALESCE(phone, $2), email = COALESCE(email, $5), updated_at = $3 WHERE id = $4",
                        )
                        .bind(&new.name)
                        .bind(&new.phone)
                        .bind(now)
                        .bind(id)
                        .bind(&new.email)
                        .execute(&mut *tx)
                        .await?;
                        id
                    }
                    None => sqlx::query(
                        "INSERT INTO contacts (email, name, phone, properties, created_at, updated_at) VALUES ($1, $2, $3, '{}', $4, $4) RETURNING id",
                    )
                    .bind(&new.email)
                    .bind(&new.name)
                    .bind(&new.phone)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("id")?,
                };
                let row = sqlx::query("SELECT id, email, name, phone, properties, created_at FROM contacts WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                contact_from_row(&row)
            }

            async fn get_contact(&self, id: i64) -> StoreResult<Contact> {
                let row = sqlx::query("SELECT id, email, name, phone, properties, created_at FROM contacts WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("contact"))?;
                contact_from_row(&row)
            }

            async fn list_contacts(&self, limit: i64) -> StoreResult<Vec<Contact>> {
                sqlx::query("SELECT id, email, name, phone, properties, created_at FROM contacts ORDER BY id DESC LIMIT $1")
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(contact_from_row)
                    .collect()
            }

            async fn create_conversation(&self, new: NewConversation) -> StoreResult<Conversation> {
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                let assignee = if new.assign_to_agent { AssigneeKind::Agent } else { AssigneeKind::None };
                let id: i64 = sqlx::query(
                    "INSERT INTO conversations (channel, status, assignee_kind, contact_id, visitor_token_hash, is_preview, last_seq, created_at, last_activity_at, channel_id, handle, subject) \
                     VALUES ($1, 'open', $2, $3, $4, $5, 0, $6, $6, $7, $8, $9) RETURNING id",
                )
                .bind(new.channel.as_str())
                .bind(assignee.as_str())
                .bind(new.contact_id)
                .bind(&new.visitor_token_hash)
                .bind(new.is_preview)
                .bind(now)
                .bind(new.channel_id)
                .bind(&new.handle)
                .bind(&new.subject)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                event(&mut tx, id, EventKind::ConversationCreated, "visitor", None,
                    json!({"channel": new.channel, "channel_id": new.channel_id, "contact_id": new.contact_id, "preview": new.is_preview}), now).await?;
                event(&mut tx, id, EventKind::Assigned, "system", None,
                    json!({"to": assignee, "user_id": null, "cause": AssignCause::Initial}), now).await?;
                let c = fetch_conversation(&mut tx, id).await?;
                tx.commit().await?;
                Ok(c)
            }

            async fn get_conversation(&self, id: i64) -> StoreResult<Conversation> {
                let row = sqlx::query(&format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = $1"))
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("conversation"))?;
                conversation_from_row(&row)
            }

            async fn conversation_for_visitor(&self, id: i64, token_hash: &str) -> StoreResult<Option<Conversation>> {
                let row = sqlx::query(&format!(
                    "SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = $1 AND c.visitor_token_hash = $2"
                ))
                .bind(id)
                .bind(token_hash)
                .fetch_optional(&self.read)
                .await?;
                row.as_ref().map(conversation_from_row).transpose()
            }

            async fn list_conversations(&self, filter: ConversationFilter) -> StoreResult<Vec<ConversationSummary>> {
                let (condition, with_user) = match filter.view {
                    View::Unassigned => ("c.status = 'open' AND c.assignee_kind = 'none'", false),
                    View::Mine => ("c.status = 'open' AND c.assignee_kind = 'human' AND c.assignee_user_id = $3", true),
                    View::AllOpen => ("c.status = 'open'", false),
                    View::Closed => ("c.status = 'closed'", false),
                };
                let sql = format!(
                    "SELECT {CONVERSATION_COLUMNS}, ct.name AS contact_name, ct.email AS contact_email, \
                     (SELECT m.body FROM messages m WHERE m.conversation_id = c.id ORDER BY m.seq DESC LIMIT 1) AS last_message \
                     FROM conversations c LEFT JOIN contacts ct ON ct.id = c.contact_id \
                     WHERE c.is_preview = $2 AND {condition} ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $1"
                );
                let mut q = sqlx::query(&sql).bind(filter.limit).bind(false);
                if with_user {
                    q = q.bind(filter.user_id);
                }
                let rows = q.fetch_all(&self.read).await?;
                rows.iter()
                    .map(|r| {
                        Ok(ConversationSummary {
                            conversation: conversation_from_row(r)?,
                            contact_name: r.try_get("contact_name")?,
                            contact_email: r.try_get("contact_email")?,
                            last_message: r.try_get("last_message")?,
                        })
                    })
                    .collect()
            }

            async fn append_message(&self, new: NewMessage) -> StoreResult<Message> {
                let mut tx = self.write.begin().await?;
                let (message, _) = insert_message(&mut tx, new, now_ms()).await?;
                tx.commit().await?;
                Ok(message)
            }

            async fn append_turn(&self, turn: Turn) -> StoreResult<(Message, Option<Message>)> {
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                let conversation_id = turn.visitor.conversation_id;
                let question = turn.visitor.text.clone();
                let inbound = turn.inbound;
                if let Some(ib) = &inbound {
                    // Processed once: a retried or replayed message stops here.
                    let fresh = sqlx::query(
                        "INSERT INTO channel_inbound (channel_id, external_id, conversation_id, meta, created_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel_id, external_id) DO NOTHING RETURNING channel_id",
                    )
                    .bind(ib.channel_id)
                    .bind(&ib.external_id)
                    .bind(conversation_id)
                    .bind(ib.meta.to_string())
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if fresh.is_none() {
                        return Err(StoreError::Duplicate);
                    }
                }
                let (visitor, assignee) = insert_message(&mut tx, turn.visitor, now).await?;
                if let Some(ib) = inbound {
                    sqlx::query("UPDATE channel_inbound SET message_id = $1 WHERE channel_id = $2 AND external_id = $3")
                        .bind(visitor.id)
                        .bind(ib.channel_id)
                        .bind(&ib.external_id)
                        .execute(&mut *tx)
                        .await?;
                    for key in &ib.thread_keys {
                        sqlx::query(
                            "INSERT INTO channel_threads (channel_id, thread_key, conversation_id) VALUES ($1, $2, $3) \
                             ON CONFLICT (channel_id, thread_key) DO NOTHING",
                        )
                        .bind(ib.channel_id)
                        .bind(key)
                        .bind(conversation_id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    for a in &ib.attachments {
                        sqlx::query(
                            "INSERT INTO message_attachments (message_id, filename, content_type, size, data) VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(visitor.id)
                        .bind(&a.filename)
                        .bind(&a.content_type)
                        .bind(a.data.len() as i64)
                        .bind(&a.data)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                // The reply is stored only if the agent still owns the
                // conversation: a human may have taken it meanwhile.
                let reply = match turn.reply {
                    Some(mut r) if assignee == AssigneeKind::Agent.as_str() => {
                        if let Value::Object(d) = &mut r.message.event_data {
                            d.insert("in_reply_to".into(), json!(visitor.id));
                        }
                        let (reply, _) = insert_message(&mut tx, r.message, now).await?;
                        if let Some(ask) = &r.email_ask {
                            sqlx::query("UPDATE conversations SET email_ask = $1 WHERE id = $2")
                                .bind(ask)
                                .bind(conversation_id)
                                .execute(&mut *tx)
                                .await?;
                        }
                        // Credits (D1): paid in this same transaction, under the ledger's lock.
                        credits_charge_reply(&mut tx, conversation_id, reply.id, now).await?;
                        if let Some(lang) = r.unanswered_lang {
                            sqlx::query(
                                "INSERT INTO unanswered_questions (conversation_id, message_id, question, lang, created_at) VALUES ($1, $2, $3, $4, $5)",
                            )
                            .bind(conversation_id)
                            .bind(visitor.id)
                            .bind(&question)
                            .bind(lang)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        }
                        if let Some(trigger) = r.handoff {
                            route_handoff(&mut tx, conversation_id, trigger, r.route.as_ref(), now).await?;
                        }
                        Some(reply)
                    }
                    _ => None,
                };
                tx.commit().await?;
                Ok((visitor, reply))
            }

            async fn messages_after(&self, conversation_id: i64, after_seq: i64, limit: i64) -> StoreResult<Vec<Message>> {
                sqlx::query(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
                ))
                .bind(conversation_id)
                .bind(after_seq)
                .bind(limit)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(message_from_row)
                .collect()
            }

            async fn message_seq(&self, conversation_id: i64, message_id: i64) -> StoreResult<Option<i64>> {
                let row = sqlx::query("SELECT seq FROM messages WHERE conversation_id = $1 AND id = $2")
                    .bind(conversation_id)
                    .bind(message_id)
                    .fetch_optional(&self.read)
                    .await?;
                Ok(row.map(|r| r.try_get("seq")).transpose()?)
            }

            async fn get_message(&self, conversation_id: i64, message_id: i64) -> StoreResult<Message> {
                let row = sqlx::query(&format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND id = $2"))
                    .bind(conversation_id)
                    .bind(message_id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("message"))?;
                message_from_row(&row)
            }

            async fn assign(&self, change: AssignChange) -> StoreResult<Conversation> {
                let mut tx = self.write.begin().await?;
                let id = change.conversation_id;
                apply_assign(&mut tx, change, now_ms()).await?;
                let c = fetch_conversation(&mut tx, id).await?;
                tx.commit().await?;
                Ok(c)
            }

            async fn set_status(&self, change: StatusChange) -> StoreResult<Conversation> {
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                let closed_at = (change.status == ConversationStatus::Closed).then_some(now);
                let done = sqlx::query("UPDATE conversations SET status = $1, closed_at = $2, last_activity_at = $3 WHERE id = $4")
                    .bind(change.status.as_str())
                    .bind(closed_at)
                    .bind(now)
                    .bind(change.conversation_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if done == 0 {
                    return Err(StoreError::NotFound("conversation"));
                }
                let kind = if change.status == ConversationStatus::Closed { EventKind::Closed } else { EventKind::Reopened };
                let actor_kind = if change.actor_user_id.is_some() { "human" } else { "system" };
                event(&mut tx, change.conversation_id, kind, actor_kind, change.actor_user_id, json!({"reason": change.reason}), now).await?;
                let c = fetch_conversation(&mut tx, change.conversation_id).await?;
                tx.commit().await?;
                Ok(c)
            }

            async fn record_feedback(&self, conversation_id: i64, message_id: i64, helpful: bool) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let author: String = sqlx::query("SELECT author FROM messages WHERE conversation_id = $1 AND id = $2")
                    .bind(conversation_id)
                    .bind(message_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound("message"))?
                    .try_get("author")?;
                if author != Author::Agent.as_str() {
                    return Err(StoreError::Invalid("feedback can only be given on the agent's replies".into()));
                }
                event(&mut tx, conversation_id, EventKind::Feedback, "visitor", None,
                    json!({"message_id": message_id, "helpful": helpful}), now_ms()).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_unanswered(&self, limit: i64) -> StoreResult<Vec<UnansweredQuestion>> {
                let rows = sqlx::query(
                    "SELECT id, conversation_id, message_id, question, lang, created_at FROM unanswered_questions ORDER BY id DESC LIMIT $1",
                )
                .bind(limit)
                .fetch_all(&self.read)
                .await?;
                rows.iter().map(from_row).collect()
            }

            async fn list_events(&self, conversation_id: i64) -> StoreResult<Vec<Event>> {
                let rows = sqlx::query(
                    "SELECT id, conversation_id, kind, actor_kind, actor_user_id, data, created_at FROM events WHERE conversation_id = $1 ORDER BY id",
                )
                .bind(conversation_id)
                .fetch_all(&self.read)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(Event {
                            id: r.try_get("id")?,
                            conversation_id: r.try_get("conversation_id")?,
                            kind: r.enum_col("kind", EventKind::parse)?,
                            actor_kind: r.try_get("actor_kind")?,
                            actor_user_id: r.try_get("actor_user_id")?,
                            data: r.json_col("data")?,
                            created_at: r.try_get("created_at")?,
                        })
                    })
                    .collect()
            }

            async fn agent_profile(&self) -> StoreResult<AgentProfile> {
                let row = sqlx::query(
                    "SELECT name, personality, brand_voice, enabled, default_lang, inactivity_close_minutes, handoff_phrases, topics_to_avoid, updated_at FROM agent_profile WHERE id = 1",
                )
                .fetch_optional(&self.read)
                .await?;
                match row {
                    Some(r) => profile_from_row(&r),
                    None => Ok(AgentProfile::default()),
                }
            }

            async fn update_agent_profile(&self, actor: &Actor, profile: AgentProfile) -> StoreResult<AgentProfile> {
                let mut tx = self.write.begin().await?;
                let before = sqlx::query(
                    "SELECT name, personality, brand_voice, enabled, default_lang, inactivity_close_minutes, handoff_phrases, topics_to_avoid, updated_at FROM agent_profile WHERE id = 1",
                )
                .fetch_optional(&mut *tx)
                .await?
                .as_ref()
                .map(profile_from_row)
                .transpose()?;
                let now = now_ms();
                sqlx::query(
                    "INSERT INTO agent_profile (id, name, personality, brand_voice, enabled, default_lang, inactivity_close_minutes, \
                     handoff_phrases, topics_to_avoid, updated_at) \
                     VALUES (1, $1, $2, $3, $4, $5, $6, $8, $9, $7) ON CONFLICT (id) DO UPDATE SET name = $1, personality = $2, brand_voice = $3, \
                     enabled = $4, default_lang = $5, inactivity_close_minutes = $6, handoff_phrases = $8, topics_to_avoid = $9, updated_at = $7",
                )
                .bind(&profile.name)
                .bind(profile.personality.as_str())
                .bind(&profile.brand_voice)
                .bind(profile.enabled)
                .bind(&profile.default_lang)
                .bind(profile.inactivity_close_minutes)
                .bind(now)
                .bind(serde_json::to_string(&profile.handoff_phrases)?)
                .bind(serde_json::to_string(&profile.topics_to_avoid)?)
                .execute(&mut *tx)
                .await?;
                let after = AgentProfile { updated_at: now, ..profile };
                let action = match &before {
                    Some(b) if b.enabled != after.enabled => if after.enabled { "publish" } else { "unpublish" },
                    Some(_) => "update",
                    None => "create",
                };
                bump_content_version(&mut tx).await?;
                audit(&mut tx, actor, action, "agent_profile", 1, before.map(|b| json!(b)), Some(json!(after))).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(after)
            }

            async fn list_short_answers(&self) -> StoreResult<Vec<ShortAnswerRow>> {
                sqlx::query("SELECT id, question, answer, citations_enabled, created_at, updated_at FROM short_answers ORDER BY id")
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(from_row)
                    .collect()
            }

            async fn get_short_answer(&self, id: i64) -> StoreResult<ShortAnswerRow> {
                let row = sqlx::query("SELECT id, question, answer, citations_enabled, created_at, updated_at FROM short_answers WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("short answer"))?;
                from_row(&row)
            }

            async fn create_short_answer(&self, actor: &Actor, new: NewShortAnswer) -> StoreResult<ShortAnswerRow> {
                let mut tx = self.write.begin().await?;
                let sa = insert_short_answer(&mut tx, actor, &new).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(sa)
            }

            async fn update_short_answer(&self, actor: &Actor, id: i64, new: NewShortAnswer) -> StoreResult<ShortAnswerRow> {
                let mut tx = self.write.begin().await?;
                let before = fetch_short_answer(&mut tx, id).await?;
                sqlx::query("UPDATE short_answers SET question = $1, answer = $2, citations_enabled = $3, updated_at = $4 WHERE id = $5")
                    .bind(&new.question)
                    .bind(&new.answer)
                    .bind(new.citations_enabled)
                    .bind(now_ms())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let after = fetch_short_answer(&mut tx, id).await?;
                bump_content_version(&mut tx).await?;
                audit(&mut tx, actor, "update", "short_answer", id, Some(sa_json(&before)), Some(sa_json(&after))).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(after)
            }

            async fn delete_short_answer(&self, actor: &Actor, id: i64) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let before = fetch_short_answer(&mut tx, id).await?;
                sqlx::query("DELETE FROM short_answers WHERE id = $1").bind(id).execute(&mut *tx).await?;
                bump_content_version(&mut tx).await?;
                audit(&mut tx, actor, "delete", "short_answer", id, Some(sa_json(&before)), None).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(())
            }

            fn local_content_changes(&self) -> u64 {
                self.local_changes.load(std::sync::atomic::Ordering::Acquire)
            }

            async fn content_version(&self) -> StoreResult<i64> {
                Ok(sqlx::query("SELECT version FROM content_version WHERE id = 1").fetch_one(&self.read).await?.try_get("version")?)
            }

            async fn list_audit(&self, filter: AuditFilter) -> StoreResult<Vec<AuditEntry>> {
                let rows = sqlx::query(
                    "SELECT id, actor_user_id, actor_label, action, entity_type, entity_id, before_json, after_json, created_at FROM audit_log \
                     WHERE ($1 IS NULL OR entity_type = $1) AND ($2 IS NULL OR actor_user_id = $2) AND ($3 IS NULL OR action = $3) \
                     ORDER BY id DESC LIMIT $4",
                )
                .bind(filter.entity_type)
                .bind(filter.actor_user_id)
                .bind(filter.action)
                .bind(filter.limit)
                .fetch_all(&self.read)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(AuditEntry {
                            id: r.try_get("id")?,
                            actor_user_id: r.try_get("actor_user_id")?,
                            actor_label: r.try_get("actor_label")?,
                            action: r.try_get("action")?,
                            entity_type: r.try_get("entity_type")?,
                            entity_id: r.try_get("entity_id")?,
                            before: r.json_opt_col("before_json")?,
                            after: r.json_opt_col("after_json")?,
                            created_at: r.try_get("created_at")?,
                        })
                    })
                    .collect()
            }

            async fn enqueue_job(&self, new: NewJob) -> StoreResult<Option<i64>> {
                let now = now_ms();
                let mut tx = self.write.begin().await?;
                if let Some(key) = &new.dedupe_key {
                    // A finished job frees its key for the next run.
                    sqlx::query("UPDATE jobs SET dedupe_key = NULL WHERE dedupe_key = $1 AND status IN ('done', 'dead')")
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                }
                let row = sqlx::query(
                    "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, dedupe_key, created_at, updated_at) \
                     VALUES ($1, $2, 'queued', 0, $3, $4, $5, $6, $6) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
                )
                .bind(&new.kind)
                .bind(new.payload.to_string())
                .bind(new.max_attempts)
                .bind(new.run_at)
                .bind(&new.dedupe_key)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(row.map(|r| r.try_get("id")).transpose()?)
            }

            async fn claim_job_of(
                &self,
                worker: &str,
                now: i64,
                lease_ms: i64,
                filter: KindFilter<'_>,
            ) -> StoreResult<Option<Job>> {
                // The kinds are bound as parameters after the three fixed ones.
                let list = |kinds: &[&str]| (4..4 + kinds.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
                let (kinds, filter_sql): (&[&str], String) = match filter {
                    KindFilter::Any => (&[], String::new()),
                    KindFilter::Only([]) => (&[], " AND 1 = 0".into()),
                    KindFilter::Only(k) => (k, format!(" AND kind IN ({})", list(k))),
                    KindFilter::Except([]) => (&[], String::new()),
                    KindFilter::Except(k) => (k, format!(" AND kind NOT IN ({})", list(k))),
                };
                let sql = format!($claim_sql, cols = JOB_COLUMNS, filter = filter_sql);
                let mut q = sqlx::query(&sql).bind(worker).bind(now).bind(now - lease_ms);
                for k in kinds {
                    q = q.bind(*k);
                }
                let row = q.fetch_optional(&self.write).await?;
                row.as_ref().map(job_from_row).transpose()
            }

            async fn release_jobs(&self, worker: &str, now: i64) -> StoreResult<u64> {
                Ok(sqlx::query(
                    "UPDATE jobs SET status = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
                     run_at = $1, locked_by = NULL, locked_at = NULL, updated_at = $1 \
                     WHERE status = 'running' AND locked_by = $2",
                )
                .bind(now)
                .bind(worker)
                .execute(&self.write)
                .await?
                .rows_affected())
            }

            async fn touch_job(&self, id: i64, worker: &str, now: i64) -> StoreResult<bool> {
                Ok(sqlx::query("UPDATE jobs SET locked_at = $1 WHERE id = $2 AND status = 'running' AND locked_by = $3")
                    .bind(now)
                    .bind(id)
                    .bind(worker)
                    .execute(&self.write)
                    .await?
                    .rows_affected()
                    == 1)
            }

            async fn complete_job(&self, id: i64) -> StoreResult<()> {
                sqlx::query("UPDATE jobs SET status = 'done', locked_by = NULL, updated_at = $1 WHERE id = $2")
                    .bind(now_ms())
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn fail_job(&self, id: i64, error: &str, retry_at: i64) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
                     run_at = $1, last_error = $2, locked_by = NULL, updated_at = $3 WHERE id = $4",
                )
                .bind(retry_at)
                .bind(error)
                .bind(now_ms())
                .bind(id)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn list_jobs(&self, status: Option<JobStatus>, limit: i64) -> StoreResult<Vec<Job>> {
                sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE ($1 IS NULL OR status = $1) ORDER BY id DESC LIMIT $2"))
                    .bind(status.map(|s| s.as_str()))
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(job_from_row)
                    .collect()
            }

            async fn retry_job(&self, actor: &Actor, id: i64) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let done = sqlx::query(
                    "UPDATE jobs SET status = 'queued', attempts = 0, run_at = $1, updated_at = $1 WHERE id = $2 AND status = 'dead'",
                )
                .bind(now_ms())
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done == 0 {
                    return Err(StoreError::NotFound("dead job"));
                }
                audit(&mut tx, actor, "update", "job", id, Some(json!({"status": "dead"})), Some(json!({"status": "queued"}))).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn job_counts(&self) -> StoreResult<Vec<(String, String, i64)>> {
                let rows = sqlx::query(
                    "SELECT kind, status, COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running') \
                     GROUP BY kind, status ORDER BY kind, status",
                )
                .fetch_all(&self.read)
                .await?;
                rows.iter().map(|r| Ok((r.try_get("kind")?, r.try_get("status")?, r.try_get("n")?))).collect()
            }
        }
    };
}

pub(crate) use impl_store;
