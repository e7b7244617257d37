//! The agent-tools SQL both backends share (see `sql.rs` for the rules).
//! `impl_tool_store!` is invoked next to `impl_store!`, whose helpers
//! (`audit`, `event`, `bump_content_version`, `fetch_conversation`,
//! `contact_from_row`, `Tx`, `DbRow`) it uses.
//!
//! Secret header values are kept in `actions.secrets` only: the
//! `definition` column, the audit rows and every serialisation of an
//! [`frontdesk_core::actions::ActionDef`] leave them out.

pub(crate) const ACTION_COLUMNS: &str = "id, name, enabled, definition, secrets, created_at, updated_at";
pub(crate) const CRM_FIELD_COLUMNS: &str = "key, label, kind, options, agent_read, agent_write";
pub(crate) const CONTACT_COLUMNS_SQL: &str = "id, email, name, phone, properties, created_at";

macro_rules! impl_tool_store {
    ($store:ty) => {
        use crate::sql_agent_tools::{ACTION_COLUMNS, CONTACT_COLUMNS_SQL, CRM_FIELD_COLUMNS};
        use frontdesk_core::actions::ActionDef;
        use frontdesk_core::crm::CrmField;
        use frontdesk_core::values::ValueKind;

        fn action_from_row(r: &DbRow) -> StoreResult<ActionRow> {
            let mut def: ActionDef = r.json_col("definition")?;
            let secrets: Vec<(String, String)> = r.json_col("secrets")?;
            def.id = r.try_get("id")?;
            def.enabled = r.try_get("enabled")?;
            Ok(ActionRow {
                def: def.with_secrets(&secrets),
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        }

        fn crm_field_from_row(r: &DbRow) -> StoreResult<CrmField> {
            Ok(CrmField {
                key: r.try_get("key")?,
                label: r.try_get("label")?,
                kind: r.enum_col("kind", ValueKind::parse)?,
                values: r.json_col("options")?,
                agent_read: r.try_get("agent_read")?,
                agent_write: r.try_get("agent_write")?,
            })
        }

        async fn fetch_action(tx: &mut Tx<'_>, id: i64) -> StoreResult<ActionRow> {
            let row = sqlx::query(&format!("SELECT {ACTION_COLUMNS} FROM actions WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound("action"))?;
            action_from_row(&row)
        }

        async fn fetch_crm_field(tx: &mut Tx<'_>, key: &str) -> StoreResult<CrmField> {
            let row = sqlx::query(&format!("SELECT {CRM_FIELD_COLUMNS} FROM crm_fields WHERE key = $1"))
                .bind(key)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound("CRM field"))?;
            crm_field_from_row(&row)
        }

        async fn fetch_contact(tx: &mut Tx<'_>, id: i64) -> StoreResult<Contact> {
            let row = sqlx::query(&format!("SELECT {CONTACT_COLUMNS_SQL} FROM contacts WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound("contact"))?;
            contact_from_row(&row)
        }

        fn action_name_conflict(e: sqlx::Error, name: &str) -> StoreError {
            match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict(format!("an action named {name:?} already exists")),
                e => e,
            }
        }

        /// The definition as stored (no secret values) and the secrets beside it.
        fn action_columns(def: &ActionDef) -> StoreResult<(String, String)> {
            Ok((serde_json::to_string(&def.without_secrets())?, serde_json::to_string(&def.secrets())?))
        }

        /// A property's value as text (what `crm::readable_view` would show).
        fn property_text(values: &Value, key: &str) -> Option<String> {
            match values.get(key)? {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                v => Some(v.to_string()),
            }
        }

        #[async_trait]
        impl ToolStore for $store {
            async fn list_actions(&self) -> StoreResult<Vec<ActionRow>> {
                sqlx::query(&format!("SELECT {ACTION_COLUMNS} FROM actions ORDER BY name"))
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(action_from_row)
                    .collect()
            }

            async fn get_action(&self, id: i64) -> StoreResult<ActionRow> {
                let row = sqlx::query(&format!("SELECT {ACTION_COLUMNS} FROM actions WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("action"))?;
                action_from_row(&row)
            }

            async fn get_action_by_name(&self, name: &str) -> StoreResult<ActionRow> {
                let row = sqlx::query(&format!("SELECT {ACTION_COLUMNS} FROM actions WHERE name = $1"))
                    .bind(name)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("action"))?;
                action_from_row(&row)
            }

            async fn create_action(&self, actor: &Actor, def: ActionDef) -> StoreResult<ActionRow> {
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                let (definition, secrets) = action_columns(&def)?;
                let id: i64 = sqlx::query(
                    "INSERT INTO actions (name, enabled, definition, secrets, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                )
                .bind(&def.name)
                .bind(def.enabled)
                .bind(&definition)
                .bind(&secrets)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| action_name_conflict(e, &def.name))?
                .try_get("id")?;
                let a = fetch_action(&mut tx, id).await?;
                bump_content_version(&mut tx).await?;
                // `json!(a)` serialises secret headers as {"name", "secret": true, "set"}.
                audit(&mut tx, actor, "create", "action", id, None, Some(json!(a))).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(a)
            }

            async fn update_action(&self, actor: &Actor, id: i64, mut def: ActionDef) -> StoreResult<ActionRow> {
                let mut tx = self.write.begin().await?;
                let before = fetch_action(&mut tx, id).await?;
                def.keep_secrets_from(&before.def);
                if let Some(h) = def.headers.iter().find(|h| h.secret && h.value.is_empty()) {
                    return Err(StoreError::Invalid(format!("the secret header {} has no value", h.name)));
                }
                let (definition, secrets) = action_columns(&def)?;
                sqlx::query(
                    "UPDATE actions SET name = $1, enabled = $2, definition = $3, secrets = $4, updated_at = $5 WHERE id = $6",
                )
                .bind(&def.name)
                .bind(def.enabled)
                .bind(&definition)
                .bind(&secrets)
                .bind(now_ms())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| action_name_conflict(e, &def.name))?;
                let after = fetch_action(&mut tx, id).await?;
                bump_content_version(&mut tx).await?;
                audit(&mut tx, actor, "update", "action", id, Some(json!(before)), Some(json!(after))).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(after)
            }

            async fn delete_action(&self, actor: &Actor, id: i64) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let before = fetch_action(&mut tx, id).await?;
                sqlx::query("DELETE FROM actions WHERE id = $1").bind(id).execute(&mut *tx).await?;
                bump_content_version(&mut tx).await?;
                audit(&mut tx, actor, "delete", "action", id, Some(json!(before)), None).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(())
            }

            async fn list_crm_fields(&self) -> StoreResult<Vec<CrmField>> {
                sqlx::query(&format!("SELECT {CRM_FIELD_COLUMNS} FROM crm_fields ORDER BY position, key"))
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(crm_field_from_row)
                    .collect()
            }

            async fn create_crm_field(&self, actor: &Actor, field: CrmField) -> StoreResult<CrmField> {
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                let position: i64 = sqlx::query("SELECT COALESCE(MAX(position), 0) + 1 AS p FROM crm_fields")
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("p")?;
                sqlx::query(
                    "INSERT INTO crm_fields (key, label, kind, options, agent_read, agent_write, position, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                )
                .bind(&field.key)
                .bind(&field.label)
                .bind(field.kind.as_str())
                .bind(serde_json::to_string(&field.values)?)
                .bind(field.agent_read)
                .bind(field.agent_write)
                .bind(position)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict(_) => StoreError::Conflict(format!("a field with the key {:?} already exists", field.key)),
                    e => e,
                })?;
                let f = fetch_crm_field(&mut tx, &field.key).await?;
                bump_content_version(&mut tx).await?;
                audit(&mut tx, actor, "create", "crm_field", &f.key, None, Some(json!(f))).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(f)
            }

            async fn update_crm_field(&self, actor: &Actor, key: &str, field: CrmField) -> StoreResult<CrmField> {
                let mut tx = self.write.begin().await?;
                let before = fetch_crm_field(&mut tx, key).await?;
                sqlx::query(
                    "UPDATE crm_fields SET label = $1, kind = $2, options = $3, agent_read = $4, agent_write = $5, updated_at = $6 \
                     WHERE key = $7",
                )
                .bind(&field.label)
                .bind(field.kind.as_str())
                .bind(serde_json::to_string(&field.values)?)
                .bind(field.agent_read)
                .bind(field.agent_write)
                .bind(now_ms())
                .bind(key)
                .execute(&mut *tx)
                .await?;
                let after = fetch_crm_field(&mut tx, key).await?;
                bump_content_version(&mut tx).await?;
                audit(&mut tx, actor, "update", "crm_field", key, Some(json!(before)), Some(json!(after))).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(after)
            }

            async fn delete_crm_field(&self, actor: &Actor, key: &str) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let before = fetch_crm_field(&mut tx, key).await?;
                sqlx::query("DELETE FROM crm_fields WHERE key = $1").bind(key).execute(&mut *tx).await?;
                bump_content_version(&mut tx).await?;
                audit(&mut tx, actor, "delete", "crm_field", key, Some(json!(before)), None).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(())
            }

            async fn contact_for_conversation(&self, conversation_id: i64) -> StoreResult<Option<Contact>> {
                let row = sqlx::query(
                    "SELECT ct.id, ct.email, ct.name, ct.phone, ct.properties, ct.created_at \
                     FROM conversations c JOIN contacts ct ON ct.id = c.contact_id WHERE c.id = $1",
                )
                .bind(conversation_id)
                .fetch_optional(&self.read)
                .await?;
                row.as_ref().map(contact_from_row).transpose()
            }

            async fn update_contact_properties(&self, u: ContactUpdate) -> StoreResult<(Contact, Vec<PropertyChange>)> {
                if u.actor == ContactActor::Agent && u.conversation_id.is_none() {
                    return Err(StoreError::Invalid("the agent updates a contact within a conversation".into()));
                }
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                let contact_id = match u.target {
                    ContactTarget::Contact(id) => id,
                    ContactTarget::Conversation(cid) => match fetch_conversation(&mut tx, cid).await?.contact_id {
                        Some(id) => id,
                        None => {
                            // An anonymous visitor becomes a contact when they tell us something.
                            let id: i64 = sqlx::query(
                                "INSERT INTO contacts (properties, created_at, updated_at) VALUES ('{}', $1, $1) RETURNING id",
                            )
                            .bind(now)
                            .fetch_one(&mut *tx)
                            .await?
                            .try_get("id")?;
                            sqlx::query("UPDATE conversations SET contact_id = $1 WHERE id = $2")
                                .bind(id)
                                .bind(cid)
                                .execute(&mut *tx)
                                .await?;
                            id
                        }
                    },
                };
                let before = fetch_contact(&mut tx, contact_id).await?;
                if let Some(cid) = u.conversation_id {
                    if fetch_conversation(&mut tx, cid).await?.contact_id != Some(contact_id) {
                        return Err(StoreError::Invalid(format!("conversation {cid} is not with contact {contact_id}")));
                    }
                }
                let mut current = contact_values(&before);
                let mut properties = match &before.properties {
                    Value::Object(o) => o.clone(),
                    _ => serde_json::Map::new(),
                };
                let mut changes: Vec<PropertyChange> = Vec::new();
                for (key, new) in u.changes {
                    let old = property_text(&current, &key);
                    if old == new {
                        continue;
                    }
                    match key.as_str() {
                        // The contact's own columns; the key is one of three fixed names.
                        "email" | "name" | "phone" => {
                            sqlx::query(&format!("UPDATE contacts SET {key} = $1 WHERE id = $2"))
                                .bind(&new)
                                .bind(contact_id)
                                .execute(&mut *tx)
                                .await
                                .map_err(|e| match StoreError::from(e) {
                                    StoreError::Conflict(_) => {
                                        StoreError::Conflict(format!("another contact already has this {key}"))
                                    }
                                    e => e,
                                })?;
                        }
                        _ => {
                            match &new {
                                Some(v) => properties.insert(key.clone(), Value::String(v.clone())),
                                None => properties.remove(&key),
                            };
                        }
                    }
                    if let Value::Object(c) = &mut current {
                        match &new {
                            Some(v) => c.insert(key.clone(), Value::String(v.clone())),
                            None => c.remove(&key),
                        };
                    }
                    changes.push(PropertyChange { key, before: old, after: new });
                }
                if changes.is_empty() {
                    tx.commit().await?;
                    return Ok((before, changes));
                }
                sqlx::query("UPDATE contacts SET properties = $1, updated_at = $2 WHERE id = $3")
                    .bind(Value::Object(properties).to_string())
                    .bind(now)
                    .bind(contact_id)
                    .execute(&mut *tx)
                    .await?;
                let (actor_kind, actor_user_id) = match &u.actor {
                    ContactActor::Agent => ("agent", None),
                    ContactActor::User(a) => ("human", a.user_id),
                };
                if let Some(cid) = u.conversation_id {
                    for c in &changes {
                        let data = json!({
                            "contact_id": contact_id,
                            "property": c.key,
                            "before": c.before,
                            "after": c.after,
                            "by": actor_kind,
                        });
                        event(&mut tx, cid, EventKind::ContactUpdated, actor_kind, actor_user_id, data, now).await?;
                    }
                }
                if let ContactActor::User(actor) = &u.actor {
                    let before_json: serde_json::Map<String, Value> =
                        changes.iter().map(|c| (c.key.clone(), json!(c.before))).collect();
                    let after_json: serde_json::Map<String, Value> =
                        changes.iter().map(|c| (c.key.clone(), json!(c.after))).collect();
                    audit(&mut tx, actor, "update", "contact", contact_id, Some(Value::Object(before_json)), Some(Value::Object(after_json)))
                        .await?;
                }
                let after = fetch_contact(&mut tx, contact_id).await?;
                tx.commit().await?;
                Ok((after, changes))
            }
        }
    };
}

pub(crate) use impl_tool_store;
