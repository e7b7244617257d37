//! The workflow and ticket SQL both backends share (see `sql.rs` for the rules).

macro_rules! impl_workflow_store {
    ($store:ty) => {
        fn workflow_from_row(r: &DbRow) -> StoreResult<WorkflowRow> {
            let rules: Vec<frontdesk_core::workflow::Rule> =
                r.json_col("definition")?;
            Ok(WorkflowRow {
                workflow: frontdesk_core::workflow::Workflow {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    enabled: r.try_get("enabled")?,
                    rules,
                },
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        }

        async fn workflow_in(tx: &mut Tx<'_>, id: i64) -> StoreResult<WorkflowRow> {
            let row = sqlx::query(
                "SELECT id, name, enabled, definition, created_at, updated_at FROM workflows WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound("workflow"))?;
            workflow_from_row(&row)
        }

        async fn ticket_by<'e, E>(exec: E, column: &str, value: i64) -> StoreResult<Option<Ticket>>
        where
            E: sqlx::Executor<'e, Database = Db> + Copy,
        {
            // `column` is one of our own constants, never input.
            let Some(r) = sqlx::query(&format!(
                "SELECT id, conversation_id, status, priority, workflow_id, created_at, updated_at FROM tickets WHERE {column} = $1"
            ))
            .bind(value)
            .fetch_optional(exec)
            .await?
            else {
                return Ok(None);
            };
            let id: i64 = r.try_get("id")?;
            let notes = sqlx::query("SELECT id, body, created_at FROM ticket_notes WHERE ticket_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(exec)
                .await?
                .iter()
                .map(|n| Ok(TicketNote { id: n.try_get("id")?, body: n.try_get("body")?, created_at: n.try_get("created_at")? }))
                .collect::<StoreResult<Vec<_>>>()?;
            use frontdesk_core::workflow::{Priority, TicketStatus};
            Ok(Some(Ticket {
                id,
                conversation_id: r.try_get("conversation_id")?,
                status: r.enum_col("status", TicketStatus::parse)?,
                priority: r.enum_col("priority", Priority::parse)?,
                workflow_id: r.try_get("workflow_id")?,
                notes,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            }))
        }

        /// Creates (or reopens) the conversation's ticket inside the caller's
        /// transaction; returns its id.
        async fn upsert_ticket(tx: &mut Tx<'_>, conversation_id: i64, workflow_id: Option<i64>, now: i64) -> StoreResult<i64> {
            let before: Option<String> = sqlx::query("SELECT status FROM tickets WHERE conversation_id = $1")
                .bind(conversation_id)
                .fetch_optional(&mut **tx)
                .await?
                .map(|r| r.try_get("status"))
                .transpose()?;
            let id: i64 = sqlx::query(
                "INSERT INTO tickets (conversation_id, status, priority, workflow_id, created_at, updated_at) \
                 VALUES ($1, 'open', 'normal', $2, $3, $3) \
                 ON CONFLICT (conversation_id) DO UPDATE SET status = 'open', workflow_id = $2, updated_at = $3 RETURNING id",
            )
            .bind(conversation_id)
            .bind(workflow_id)
            .bind(now)
            .fetch_one(&mut **tx)
            .await?
            .try_get("id")?;
            let action = match before.as_deref() {
                None => Some("created"),
                Some("closed") => Some("reopened"),
                Some(_) => None,
            };
            if let Some(action) = action {
                event(tx, conversation_id, EventKind::Ticket, "agent", None, json!({"ticket_id": id, "action": action}), now).await?;
            }
            Ok(id)
        }

        /// A workflow's ticket actions in the turn's transaction (E5): the
        /// ticket is created and its priority, status and notes set; the
        /// assignment is left to `route_handoff`.
        async fn apply_workflow_ticket(
            tx: &mut Tx<'_>,
            conversation_id: i64,
            route: &WorkflowRoute,
            now: i64,
        ) -> StoreResult<i64> {
            use frontdesk_core::workflow::Action;
            let ticket = upsert_ticket(tx, conversation_id, Some(route.workflow_id), now).await?;
            for action in &route.actions {
                match action {
                    Action::SetPriority { priority } => {
                        sqlx::query("UPDATE tickets SET priority = $1 WHERE id = $2")
                            .bind(priority.as_str())
                            .bind(ticket)
                            .execute(&mut **tx)
                            .await?;
                    }
                    Action::SetStatus { status } => {
                        sqlx::query("UPDATE tickets SET status = $1 WHERE id = $2")
                            .bind(status.as_str())
                            .bind(ticket)
                            .execute(&mut **tx)
                            .await?;
                    }
                    Action::AddNote { text } => {
                        sqlx::query("INSERT INTO ticket_notes (ticket_id, body, created_at) VALUES ($1, $2, $3)")
                            .bind(ticket)
                            .bind(text)
                            .bind(now)
                            .execute(&mut **tx)
                            .await?;
                    }
                    Action::Assign { .. } | Action::AssignToAgent | Action::SendMessage { .. } => {}
                }
            }
            Ok(ticket)
        }

        #[async_trait::async_trait]
        impl WorkflowStore for $store {
            async fn list_workflows(&self) -> StoreResult<Vec<WorkflowRow>> {
                sqlx::query("SELECT id, name, enabled, definition, created_at, updated_at FROM workflows ORDER BY id")
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(workflow_from_row)
                    .collect()
            }

            async fn get_workflow(&self, id: i64) -> StoreResult<WorkflowRow> {
                let row = sqlx::query(
                    "SELECT id, name, enabled, definition, created_at, updated_at FROM workflows WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.read)
                .await?
                .ok_or(StoreError::NotFound("workflow"))?;
                workflow_from_row(&row)
            }

            async fn create_workflow(&self, actor: &Actor, workflow: frontdesk_core::workflow::Workflow) -> StoreResult<WorkflowRow> {
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                let id: i64 = sqlx::query(
                    "INSERT INTO workflows (name, enabled, definition, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
                )
                .bind(&workflow.name)
                .bind(workflow.enabled)
                .bind(serde_json::to_string(&workflow.rules)?)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                let row = workflow_in(&mut tx, id).await?;
                audit(&mut tx, actor, "create", "workflow", id, None, Some(json!(row.workflow))).await?;
                tx.commit().await?;
                Ok(row)
            }

            async fn update_workflow(&self, actor: &Actor, id: i64, workflow: frontdesk_core::workflow::Workflow) -> StoreResult<WorkflowRow> {
                let mut tx = self.write.begin().await?;
                let before = workflow_in(&mut tx, id).await?;
                sqlx::query("UPDATE workflows SET name = $1, enabled = $2, definition = $3, updated_at = $4 WHERE id = $5")
                    .bind(&workflow.name)
                    .bind(workflow.enabled)
                    .bind(serde_json::to_string(&workflow.rules)?)
                    .bind(now_ms())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let row = workflow_in(&mut tx, id).await?;
                audit(&mut tx, actor, "update", "workflow", id, Some(json!(before.workflow)), Some(json!(row.workflow))).await?;
                tx.commit().await?;
                Ok(row)
            }

            async fn delete_workflow(&self, actor: &Actor, id: i64) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let before = workflow_in(&mut tx, id).await?;
                let settings: Option<HandoffSettings> = sqlx::query("SELECT settings FROM handoff_settings WHERE id = 1")
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|r| r.try_get::<String, _>("settings"))
                    .transpose()?
                    .map(|s| serde_json::from_str(&s))
                    .transpose()?;
                if settings.is_some_and(|s| s.workflow_id == Some(id)) {
                    return Err(StoreError::Conflict(
                        "the handoff settings assign by this workflow: choose another routing first".into(),
                    ));
                }
                sqlx::query("DELETE FROM workflows WHERE id = $1").bind(id).execute(&mut *tx).await?;
                audit(&mut tx, actor, "delete", "workflow", id, Some(json!(before.workflow)), None).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn ticket_for_conversation(&self, conversation_id: i64) -> StoreResult<Option<Ticket>> {
                ticket_by(&self.read, "conversation_id", conversation_id).await
            }

            async fn get_ticket(&self, id: i64) -> StoreResult<Ticket> {
                ticket_by(&self.read, "id", id).await?.ok_or(StoreError::NotFound("ticket"))
            }

            async fn create_ticket(&self, conversation_id: i64, workflow_id: Option<i64>) -> StoreResult<Ticket> {
                let mut tx = self.write.begin().await?;
                let id = upsert_ticket(&mut tx, conversation_id, workflow_id, now_ms()).await?;
                tx.commit().await?;
                self.get_ticket(id).await
            }

            async fn list_tickets(&self, status: Option<frontdesk_core::workflow::TicketStatus>, limit: i64) -> StoreResult<Vec<Ticket>> {
                let ids: Vec<i64> = sqlx::query(
                    "SELECT id FROM tickets WHERE ($1 IS NULL OR status = $1) ORDER BY id DESC LIMIT $2",
                )
                .bind(status.map(|s| s.as_str()))
                .bind(limit.clamp(1, 500))
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<Result<_, _>>()?;
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    if let Some(t) = ticket_by(&self.read, "id", id).await? {
                        out.push(t);
                    }
                }
                Ok(out)
            }

            async fn update_ticket(&self, actor: &Actor, id: i64, update: TicketUpdate) -> StoreResult<Ticket> {
                let mut tx = self.write.begin().await?;
                use frontdesk_core::workflow::{Priority, TicketStatus};
                let r = sqlx::query("SELECT conversation_id, status, priority FROM tickets WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound("ticket"))?;
                let conversation_id: i64 = r.try_get("conversation_id")?;
                let before_status = r.enum_col("status", TicketStatus::parse)?;
                let before_priority = r.enum_col("priority", Priority::parse)?;
                let now = now_ms();
                let mut changes: Vec<Value> = Vec::new();
                if let Some(status) = update.status.filter(|s| *s != before_status) {
                    sqlx::query("UPDATE tickets SET status = $1, updated_at = $2 WHERE id = $3")
                        .bind(status.as_str())
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    let action = match status {
                        TicketStatus::Closed => "closed",
                        TicketStatus::Open => "reopened",
                    };
                    changes.push(json!({"ticket_id": id, "action": action}));
                }
                if let Some(priority) = update.priority.filter(|p| *p != before_priority) {
                    sqlx::query("UPDATE tickets SET priority = $1, updated_at = $2 WHERE id = $3")
                        .bind(priority.as_str())
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    changes.push(json!({"ticket_id": id, "action": "priority", "priority": priority.as_str()}));
                }
                if let Some(note) = update.note.as_deref() {
                    sqlx::query("INSERT INTO ticket_notes (ticket_id, body, created_at) VALUES ($1, $2, $3)")
                        .bind(id)
                        .bind(note)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("UPDATE tickets SET updated_at = $1 WHERE id = $2").bind(now).bind(id).execute(&mut *tx).await?;
                    changes.push(json!({"ticket_id": id, "action": "note"}));
                }
                for data in changes {
                    let kind = if actor.user_id.is_some() { "user" } else { "system" };
                    event(&mut tx, conversation_id, EventKind::Ticket, kind, actor.user_id, data, now).await?;
                }
                tx.commit().await?;
                self.get_ticket(id).await
            }
        }
    };
}

pub(crate) use impl_workflow_store;
