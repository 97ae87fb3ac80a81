//! Statistics pages, the QA form (dialplans/qa.toml: configurable questions and weights), QA
//! evaluations and the review queue.

use std::path::Path;

use axum::Json;
use axum::extract::{Path as UrlPath, State};
use hotline_cases::{beijing_day, beijing_day_start, unix_now_ms};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Auth;
use crate::board::region_scope;
use crate::cases_api::visible_call;
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};

/// One QA question.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QaQuestion {
    /// Stable id (answers are keyed by it).
    pub id: String,
    /// Chinese text.
    pub text_zh: String,
    /// English text.
    pub text_en: String,
    /// Relative weight (> 0).
    pub weight: f64,
    /// Highest score (scores are 0..=max).
    pub max: u32,
}

/// The QA form supervisors fill in, loaded and checked at start.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QaForm {
    /// The questions in order.
    #[serde(rename(deserialize = "question"), default)]
    pub questions: Vec<QaQuestion>,
}

impl QaForm {
    /// Parses and checks a form: at least one question, unique ids, positive weights and max.
    pub fn parse(text: &str) -> Result<QaForm, String> {
        let form: QaForm = toml::from_str(text).map_err(|e| e.to_string())?;
        if form.questions.is_empty() {
            return Err("no [[question]]".into());
        }
        let mut seen = std::collections::HashSet::new();
        for q in &form.questions {
            if !seen.insert(q.id.as_str()) {
                return Err(format!("question id {:?} appears twice", q.id));
            }
            if !q.weight.is_finite() || q.weight <= 0.0 || q.max == 0 {
                return Err(format!(
                    "question {:?}: weight and max must be positive",
                    q.id
                ));
            }
        }
        Ok(form)
    }

    /// Loads `qa.toml` from a dialplan directory.
    pub fn load(dir: &Path) -> Result<QaForm, String> {
        let path = dir.join("qa.toml");
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        QaForm::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Loads `qa.toml` if the dialplan directory has one: a missing file gives an empty form
    /// (QA evaluations are refused until one is configured), a broken one an error.
    pub fn load_if_present(dir: &Path) -> Result<QaForm, String> {
        if dir.join("qa.toml").exists() {
            QaForm::load(dir)
        } else {
            Ok(QaForm::default())
        }
    }

    /// The weighted score in percent; every question must be answered within 0..=max.
    pub fn score(&self, answers: &serde_json::Map<String, Value>) -> Result<i64, String> {
        if self.questions.is_empty() {
            return Err("no QA form is configured (dialplans/qa.toml)".into());
        }
        let (mut got, mut total) = (0.0, 0.0);
        for q in &self.questions {
            let v = answers
                .get(&q.id)
                .and_then(Value::as_f64)
                .ok_or_else(|| format!("question {:?} is not answered", q.id))?;
            if !(0.0..=f64::from(q.max)).contains(&v) {
                return Err(format!(
                    "question {:?}: score {v} is not within 0..={}",
                    q.id, q.max
                ));
            }
            got += q.weight * v / f64::from(q.max);
            total += q.weight;
        }
        if let Some(k) = answers
            .keys()
            .find(|k| !self.questions.iter().any(|q| &q.id == *k))
        {
            return Err(format!("unknown question {k:?}"));
        }
        Ok((100.0 * got / total).round() as i64)
    }
}

/// `?day=YYYY-MM-DD` / `?days=N` queries.
#[derive(Deserialize)]
pub struct StatsQuery {
    day: Option<String>,
    days: Option<i64>,
}

fn parse_day(s: &str) -> ApiResult<i64> {
    let d: jiff::civil::Date = s
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("day {s:?} is not YYYY-MM-DD")))?;
    let utc_midnight = jiff::tz::TimeZone::UTC
        .to_timestamp(d.at(0, 0, 0, 0))
        .map_err(|e| ApiError::BadRequest(e.to_string()))?
        .as_millisecond();
    Ok(utc_midnight - 8 * 3_600_000)
}

/// `[from, to)` of the last `days` Beijing days including today.
fn last_days(days: Option<i64>) -> ApiResult<(i64, i64)> {
    let days = days.unwrap_or(14);
    if !(1..=366).contains(&days) {
        return Err(ApiError::BadRequest("days must be 1 to 366".into()));
    }
    let today = beijing_day(unix_now_ms());
    Ok((
        beijing_day_start(today - days + 1),
        beijing_day_start(today + 1),
    ))
}

/// `GET /api/stats/hourly`.
pub async fn hourly(
    State(s): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> ApiResult<Json<Value>> {
    let start = match q.day.as_deref() {
        Some(d) => parse_day(d)?,
        None => beijing_day_start(beijing_day(unix_now_ms())),
    };
    let scope = region_scope(&auth, &s.center.plan());
    let hours = s.store.stats_hourly(start, scope.as_deref()).await?;
    let hours: Vec<Value> = hours
        .iter()
        .map(|h| json!({ "hour": h.hour, "calls": h.calls, "answered": h.answered }))
        .collect();
    Ok(Json(json!({ "hours": hours })))
}

/// `GET /api/stats/daily`.
pub async fn daily(
    State(s): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> ApiResult<Json<Value>> {
    let (from, to) = last_days(q.days)?;
    let scope = region_scope(&auth, &s.center.plan());
    let days: Vec<Value> = s
        .store
        .stats_daily(from, to, scope.as_deref())
        .await?
        .iter()
        .map(|d| {
            let rate = if d.calls > 0 {
                d.answered as f64 / d.calls as f64
            } else {
                0.0
            };
            json!({ "day": d.day, "calls": d.calls, "answered": d.answered, "answer_rate": rate,
                    "satisfied": d.satisfied, "basically_satisfied": d.basically_satisfied,
                    "unsatisfied": d.unsatisfied })
        })
        .collect();
    Ok(Json(json!({ "days": days })))
}

/// `GET /api/stats/categories`.
pub async fn categories(
    State(s): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> ApiResult<Json<Value>> {
    let (from, to) = last_days(q.days)?;
    let scope = region_scope(&auth, &s.center.plan());
    let list: Vec<Value> = s
        .store
        .stats_categories(from, to, scope.as_deref())
        .await?
        .iter()
        .map(|c| json!({ "category": c.category, "calls": c.calls }))
        .collect();
    Ok(Json(json!({ "categories": list })))
}

/// `GET /api/stats/regions`.
pub async fn regions(
    State(s): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> ApiResult<Json<Value>> {
    let (from, to) = last_days(q.days)?;
    let plan = s.center.plan();
    let scope = region_scope(&auth, &plan);
    let list: Vec<Value> = s
        .store
        .stats_regions(from, to, scope.as_deref())
        .await?
        .iter()
        .map(|r| {
            let name = plan
                .hierarchy
                .get(&hotline_ivr::RegionId::new(r.region.clone()))
                .map(|h| h.zh.clone());
            json!({ "region": r.region, "name": name, "calls": r.calls })
        })
        .collect();
    Ok(Json(json!({ "regions": list })))
}

/// `GET /api/qa/form`.
pub async fn form(State(s): State<AppState>) -> Json<QaForm> {
    Json(s.qa.clone())
}

/// `GET /api/review-queue`.
pub async fn review_queue(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let scope = region_scope(&auth, &s.center.plan());
    // Scoped in the query: filtering the newest 500 of all regions here would hide a quiet
    // county's items behind a busy one's.
    let items: Vec<Value> = s
        .store
        .review_queue_in(false, scope.as_deref(), 500)
        .await?
        .iter()
        .map(|i| {
            json!({ "call_id": i.call_id, "ticket_id": i.ticket_id, "reason": i.reason.as_str(),
                         "added_at": i.added_at, "evaluated": i.evaluated, "region": i.region })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// `POST /api/calls/{id}/qa` body.
#[derive(Deserialize)]
pub struct QaBody {
    answers: serde_json::Map<String, Value>,
    #[serde(default)]
    comment: String,
}

/// `POST /api/calls/{id}/qa`.
pub async fn evaluate(
    State(s): State<AppState>,
    auth: Auth,
    UrlPath(id): UrlPath<String>,
    ApiJson(b): ApiJson<QaBody>,
) -> ApiResult<Json<Value>> {
    visible_call(&s, &auth, &id).await?;
    let score = s.qa.score(&b.answers).map_err(|e| ApiError::Invalid {
        message: e.clone(),
        problems: vec![e],
    })?;
    let answers = Value::Object(b.answers).to_string();
    let e = s
        .store
        .add_qa_evaluation(
            &id,
            &auth.user.username,
            &answers,
            b.comment.trim(),
            score,
            unix_now_ms(),
        )
        .await?;
    Ok(Json(
        json!({ "score": score, "evaluation": crate::json::qa(&e) }),
    ))
}

/// `GET /api/calls/{id}/qa`.
pub async fn evaluations(
    State(s): State<AppState>,
    auth: Auth,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<Json<Value>> {
    visible_call(&s, &auth, &id).await?;
    let list: Vec<Value> = s
        .store
        .qa_of_call(&id)
        .await?
        .iter()
        .map(crate::json::qa)
        .collect();
    Ok(Json(json!({ "evaluations": list })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_form_loads_and_scores() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dialplans");
        let form = QaForm::load(&dir).unwrap();
        let full: serde_json::Map<String, Value> = form
            .questions
            .iter()
            .map(|q| (q.id.clone(), json!(q.max)))
            .collect();
        assert_eq!(form.score(&full), Ok(100));
        let zero: serde_json::Map<String, Value> = form
            .questions
            .iter()
            .map(|q| (q.id.clone(), json!(0)))
            .collect();
        assert_eq!(form.score(&zero), Ok(0));
        let mut missing = full.clone();
        missing.remove(&form.questions[0].id);
        assert!(form.score(&missing).is_err());
        let mut over = full.clone();
        over.insert(form.questions[0].id.clone(), json!(99));
        assert!(form.score(&over).is_err());
    }

    #[test]
    fn weights_count() {
        let f = QaForm::parse(
            "[[question]]\nid='a'\ntext_zh='a'\ntext_en='a'\nweight=3\nmax=5\n[[question]]\nid='b'\ntext_zh='b'\ntext_en='b'\nweight=1\nmax=1\n",
        )
        .unwrap();
        let a: serde_json::Map<String, Value> = serde_json::from_str(r#"{"a":5,"b":0}"#).unwrap();
        assert_eq!(f.score(&a), Ok(75));
        assert!(QaForm::parse("").is_err());
        assert!(
            QaForm::parse("[[question]]\nid='a'\ntext_zh='a'\ntext_en='a'\nweight=0\nmax=5\n")
                .is_err()
        );
        assert_eq!(parse_day("2026-01-01").unwrap(), 1_767_196_800_000);
    }
}
