//! The picker's page at `/picker` and its JSON API under `/picker/api`: log in with a staff
//! account (the agent console's accounts and sessions), see today's waves and a wave's pick
//! list in route order, confirm each line by scanning or typing the sku and quantity (the
//! mis-pick check answers at once), follow the batch's progress and the day's counters.
//!
//! The session is its own HttpOnly, SameSite=Strict cookie scoped to `/picker`; every POST
//! except the login carries the session's CSRF token in `X-CSRF-Token`.

use std::sync::LazyLock;

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::pages::Page;
use super::staff_auth::StaffDoor;
use super::{AppError, AppState};
use crate::domain::{Duty, TZ};
use crate::fulfillment::picking::ScanOutcome;
use crate::services::{AgentSession, ScanRequest};

const DOOR: StaffDoor = StaffDoor {
    cookie: "freshbot_picker",
    path: "/picker",
    duty: Duty::Picking,
    login_hint: "log in first",
};
static PAGE: LazyLock<Page> = LazyLock::new(|| Page::new(include_str!("picker.html")));

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/picker", get(page))
        .route("/picker/", get(page))
        .route("/picker/api/login", post(login))
        .route("/picker/api/logout", post(logout))
        .route("/picker/api/me", get(me))
        .route("/picker/api/waves", get(waves))
        .route("/picker/api/waves/{id}", get(wave))
        .route("/picker/api/scan", post(scan))
        .route("/picker/api/day", get(day))
}

/// The staff member of the request's session cookie.
async fn picker(state: &AppState, headers: &HeaderMap) -> Result<AgentSession, AppError> {
    DOOR.session(state, headers).await
}

/// The staff member of a write request: a valid session and its CSRF token in the header.
async fn writer(state: &AppState, headers: &HeaderMap) -> Result<AgentSession, AppError> {
    DOOR.writer(state, headers).await
}

fn body<T>(b: Result<Json<T>, axum::extract::rejection::JsonRejection>) -> Result<T, AppError> {
    b.map(|Json(v)| v)
        .map_err(|e| AppError::BadRequest(e.body_text()))
}

async fn page() -> Response {
    PAGE.respond(StatusCode::OK)
}

#[derive(Deserialize)]
struct LoginBody {
    login: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    b: Result<Json<LoginBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, AppError> {
    let b = body(b)?;
    let (cookie, session) = DOOR.login(&state, &b.login, &b.password).await?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({ "picker": session, "csrf": session.csrf })),
    )
        .into_response())
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let cleared = DOOR.logout(&state, &headers).await?;
    Ok(([(header::SET_COOKIE, cleared)], Json(json!({ "ok": true }))).into_response())
}

async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, AppError> {
    let p = picker(&state, &headers).await?;
    Ok(Json(json!({ "picker": p, "csrf": p.csrf })))
}

#[derive(Deserialize)]
struct DayQuery {
    date: Option<String>,
}

/// The requested local day, today by default.
fn day_of(state: &AppState, q: &DayQuery) -> Result<NaiveDate, AppError> {
    match q.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(state.services.now().with_timezone(&TZ).date_naive()),
        Some(d) => d
            .parse()
            .map_err(|_| AppError::BadRequest(format!("date {d:?} is not YYYY-MM-DD"))),
    }
}

async fn waves(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DayQuery>,
) -> Result<Json<Value>, AppError> {
    picker(&state, &headers).await?;
    let date = day_of(&state, &q)?;
    Ok(Json(json!({
        "date": date,
        "waves": state.services.picker_waves(date).await?,
    })))
}

async fn wave(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<Value>, AppError> {
    picker(&state, &headers).await?;
    Ok(Json(
        json!({ "wave": state.services.picker_wave(id).await? }),
    ))
}

async fn day(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DayQuery>,
) -> Result<Json<Value>, AppError> {
    picker(&state, &headers).await?;
    let date = day_of(&state, &q)?;
    Ok(Json(
        json!({ "day": state.services.picking_day(date).await? }),
    ))
}

#[derive(Deserialize)]
struct ScanBody {
    order: String,
    sku: String,
    /// Quantity put in the tote in the line's unit, as typed ("1.5") or a number.
    qty: Value,
}

/// A typed amount in thousandths: "1.5" or 1.5 -> 1500; at most three decimals, not negative.
fn amount_milli(v: &Value) -> Result<i64, String> {
    let text = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return Err("qty must be a number such as 2 or 1.5".into()),
    };
    let bad = || format!("{text:?} is not a quantity; type e.g. 2 or 1.5");
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    if (int.is_empty() && frac.is_empty())
        || frac.len() > 3
        || int.len() > 6
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let int: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad())?
    };
    let frac: i64 = format!("{frac:0<3}").parse().map_err(|_| bad())?;
    Ok(int * 1000 + frac)
}

/// What the picker reads after a scan, in both languages.
fn verdict(outcome: &ScanOutcome, substitute: Option<&str>) -> (&'static str, String, String) {
    let milli = |m: u32| {
        let s = format!("{}.{:03}", m / 1000, m % 1000);
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    };
    match outcome {
        ScanOutcome::Ok => ("ok", "正确 ✓".into(), "Correct ✓".into()),
        ScanOutcome::WrongSku { expected, scanned } => (
            "error",
            format!("商品错误: 扫描了 {scanned}, 应为 {expected}。请放回重拣"),
            format!(
                "Wrong product: scanned {scanned}, the list says {expected}. Put it back and pick again"
            ),
        ),
        ScanOutcome::WrongQuantity { expected, scanned } => (
            "error",
            format!(
                "数量错误: {} 超过 {}。请取出多余部分",
                milli(*scanned),
                milli(*expected)
            ),
            format!(
                "Wrong quantity: {} is more than {}. Take the extra out",
                milli(*scanned),
                milli(*expected)
            ),
        ),
        ScanOutcome::Short { missing, .. } => {
            let (zh, en) = match substitute {
                Some(s) => (
                    format!("已向顾客推荐替代品 {s}"),
                    format!("a substitute ({s}) was proposed to the customer"),
                ),
                None => (
                    "已通知顾客缺货".to_owned(),
                    "the customer was told it is missing".to_owned(),
                ),
            };
            (
                "short",
                format!("缺货 {}: {zh}", milli(*missing)),
                format!("Short by {}: {en}", milli(*missing)),
            )
        }
    }
}

async fn scan(
    State(state): State<AppState>,
    headers: HeaderMap,
    b: Result<Json<ScanBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let p = writer(&state, &headers).await?;
    let b = body(b)?;
    let qty_milli = amount_milli(&b.qty).map_err(AppError::BadRequest)?;
    if b.sku.trim().is_empty() || b.sku.len() > 64 {
        return Err(AppError::BadRequest("scan or type the sku".into()));
    }
    let report = state
        .services
        .scan(ScanRequest {
            order: b.order.trim().to_owned(),
            sku: b.sku,
            qty_milli,
            picker: p.login.clone(),
        })
        .await?;
    let (kind, zh, en) = verdict(&report.outcome, report.substitute.as_deref());
    Ok(Json(json!({
        "report": report,
        "mispick": report.is_mispick(),
        "verdict": { "kind": kind, "zh": zh, "en": en },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_amounts_become_thousandths() {
        for (v, m) in [
            (json!("2"), 2000),
            (json!(" 1.5 "), 1500),
            (json!(0.25), 250),
            (json!(3), 3000),
            (json!("0"), 0),
        ] {
            assert_eq!(amount_milli(&v), Ok(m), "{v}");
        }
        for v in [
            json!("-1"),
            json!("1.2345"),
            json!("abc"),
            json!(null),
            json!(""),
        ] {
            assert!(amount_milli(&v).is_err(), "{v}");
        }
    }

    #[test]
    fn the_page_runs_under_a_strict_policy() {
        let csp = PAGE.csp_text();
        assert!(csp.contains("script-src 'sha256-"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
    }

    #[test]
    fn short_picks_say_a_substitute_was_proposed() {
        let short = ScanOutcome::Short {
            expected: 2000,
            scanned: 500,
            missing: 1500,
        };
        let (kind, _, en) = verdict(&short, Some("VEG-BOKCHOY"));
        assert_eq!(kind, "short");
        assert!(en.contains("1.5") && en.contains("substitute"), "{en}");
        let (kind, _, en) = verdict(
            &ScanOutcome::WrongQuantity {
                expected: 1000,
                scanned: 3000,
            },
            None,
        );
        assert_eq!(kind, "error");
        assert!(en.contains("3 is more than 1"), "{en}");
    }
}
