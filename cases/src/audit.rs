//! The audit log: who changed which ticket or task, when, and how. Supervisors and the justice
//! bureau's inspections read it; every write to a ticket or task adds a row in the same
//! transaction, so the log cannot miss a change that happened.

use sqlx::{AnyConnection, Row};

use crate::{Store, StoreError};

/// The actor the store writes for changes nobody typed (automatic tickets, SLA flags).
pub(crate) const SYSTEM: &str = "system";

/// One audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Row id (time-ordered).
    pub id: String,
    /// When (unix ms).
    pub at: i64,
    /// Who: a console user, a lawyer id, or `system`.
    pub actor: String,
    /// What was done: `created`, `status`, `assigned`, `call_linked`, `sla_breach`, ...
    pub action: String,
    /// `ticket` or `task`.
    pub entity: String,
    /// The ticket's or task's id.
    pub entity_id: String,
    /// What changed, as JSON (e.g. `{"from":"open","to":"in_progress"}`).
    pub detail: String,
}

/// Appends an audit row inside the caller's transaction.
pub(crate) async fn record(
    conn: &mut AnyConnection,
    at: i64,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor, action, entity, entity_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(crate::new_id())
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(entity)
    .bind(entity_id)
    .bind(detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// The audit trail of one ticket or task (`entity` is `ticket` or `task`), oldest first:
    /// the console's history tab and the test of "every change is logged".
    pub async fn audit_entries(
        &self,
        entity: &str,
        entity_id: &str,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, entity, entity_id, detail FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY at, id",
        )
        .bind(entity)
        .bind(entity_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    entity: r.try_get("entity")?,
                    entity_id: r.try_get("entity_id")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }
}
