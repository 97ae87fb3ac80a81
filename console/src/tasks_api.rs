//! Callback and return-visit tasks: a lawyer sees and completes those assigned to them;
//! supervisors and admins see those in their scope and assign them.

use axum::Json;
use axum::extract::{Path, State};
use hotline_cases::{Role, unix_now_ms};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Auth;
use crate::board::{in_scope, region_scope};
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::json;

/// `GET /api/tasks` query.
#[derive(Deserialize)]
pub struct TaskQuery {
    kind: Option<String>,
    status: Option<String>,
    mine: Option<String>,
}

/// `GET /api/tasks`: a lawyer sees the tasks assigned to them; supervisors and admins those
/// in their scope (`mine=1`: assigned to them or to the supervisors' queue).
pub async fn list_tasks(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<TaskQuery>,
) -> ApiResult<Json<Value>> {
    let kind = q.kind.filter(|k| !k.is_empty());
    if let Some(k) = &kind {
        k.parse::<hotline_cases::TaskKind>()?;
    }
    let status = match q.status.as_deref() {
        None | Some("") => Some("open"),
        Some("all") => None,
        Some(s) => Some(s.parse::<hotline_cases::TaskStatus>()?.as_str()),
    };
    let (assignees, regions) = if auth.role() == Role::Lawyer {
        (Some(vec![auth.lawyer_id()?.to_owned()]), None)
    } else {
        let mine = (q.mine.as_deref() == Some("1")).then(|| {
            vec![
                auth.user.username.clone(),
                hotline_cases::SUPERVISORS.to_owned(),
            ]
        });
        (mine, region_scope(&auth, &state.center.plan()))
    };
    let list = state
        .store
        .list_tasks(
            kind.as_deref(),
            status,
            assignees.as_deref(),
            regions.as_deref(),
        )
        .await?;
    Ok(Json(
        json!({ "tasks": list.iter().map(json::task).collect::<Vec<_>>() }),
    ))
}

/// Loads a task and checks the user may act on it.
async fn visible_task(state: &AppState, auth: &Auth, id: &str) -> ApiResult<hotline_cases::Task> {
    let t = state
        .store
        .task(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("task {id} not found")))?;
    let ok = match auth.role() {
        Role::Lawyer => t.assigned_to.as_deref() == Some(auth.lawyer_id()?),
        _ => match (&region_scope(auth, &state.center.plan()), &t.ticket_id) {
            (None, _) => true,
            (scope, Some(tid)) => {
                let region = state.store.ticket(tid).await?.and_then(|t| t.region);
                in_scope(scope, region.as_deref())
            }
            (Some(_), None) => false,
        },
    };
    if ok {
        Ok(t)
    } else {
        Err(ApiError::Forbidden("this task is not yours".into()))
    }
}

/// `POST /api/tasks/{id}/done`.
pub async fn task_done(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    visible_task(&state, &auth, &id).await?;
    let t = state
        .store
        .complete_task(&id, &auth.user.username, unix_now_ms())
        .await?;
    let t = state.store.task(&t.id).await?.unwrap_or(t);
    Ok(Json(json::task(&t)))
}

/// `POST /api/tasks/{id}/assign` body.
#[derive(Deserialize)]
pub struct AssignTask {
    to: String,
}

/// `POST /api/tasks/{id}/assign`.
pub async fn task_assign(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AssignTask>,
) -> ApiResult<Json<Value>> {
    visible_task(&state, &auth, &id).await?;
    let to = b.to.trim();
    let known = to == hotline_cases::SUPERVISORS
        || state
            .center
            .plan()
            .roster
            .lawyer(&hotline_ivr::LawyerId::new(to))
            .is_some()
        || state.store.user(to).await?.is_some();
    if !known {
        return Err(ApiError::BadRequest(format!(
            "assign to a roster lawyer id, a console user or \"{}\" (not {to:?})",
            hotline_cases::SUPERVISORS
        )));
    }
    let t = state
        .store
        .assign_task(&id, to, &auth.user.username, unix_now_ms())
        .await?;
    Ok(Json(json::task(&t)))
}
