//! What an operator watches: `GET /metrics` in the Prometheus text format (behind the admin
//! token, since it shows business volume), HTTP counts and latencies per route, and a request
//! id on every request's log lines and response.
//!
//! Recording sites elsewhere use the `metrics` macros (turn latency per channel in the
//! conversation engine, outbox lag and retries in the dispatcher); business figures (orders by
//! status, cancellations by reason, outbox backlog, handoff queue) are read from the database
//! at scrape time, so every instance reports the same numbers and a restart loses none.

use std::sync::OnceLock;
use std::time::Instant;

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Instrument;

use super::{AppError, AppState};

/// Header carrying the request id in and out.
const REQUEST_ID: &str = "x-request-id";

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's Prometheus recorder. The `metrics` macros record into one global recorder, so
/// the first app built in a process installs it and later ones (tests build many) share it.
pub fn recorder() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let latency = [
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ];
            let lag = [0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0];
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".into()), &latency)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("freshbot_outbox_lag_seconds".into()),
                        &lag,
                    )
                })
                .map_err(|e| e.to_string())
                .and_then(|b| b.install_recorder().map_err(|e| e.to_string()));
            match installed {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed; /metrics is empty");
                    None
                }
            }
        })
        .as_ref()
}

/// Wraps every route of `router` (call after the last route is added): counts and times each
/// request by route and status, and runs it in a span carrying its request id.
pub fn observed(router: Router) -> Router {
    recorder();
    router.route_layer(axum::middleware::from_fn(observe))
}

async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(req.headers());
    let method = req.method().as_str().to_owned();
    // The route pattern, not the path: `/track/{token}` must not become one series per token.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let span = tracing::info_span!("request", request_id = %id, %method, %route);
    let mut response = next.run(req).instrument(span).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("freshbot_http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("freshbot_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    response
}

/// The caller's request id when it is a sane token (a load balancer's), else a new one.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or_else(|| format!("{:016x}", rand::random::<u64>()), str::to_owned)
}

/// `GET /metrics` (`Authorization: Bearer $FRESHBOT_ADMIN_TOKEN`).
pub async fn metrics_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    super::admin::require_admin(&state, &headers)?;
    let counts = state.services.operational_counts().await?;
    let g = |name: &'static str, v: i64| metrics::gauge!(name).set(v as f64);
    g("freshbot_outbox_pending", counts.outbox_pending);
    g(
        "freshbot_outbox_oldest_due_seconds",
        counts.outbox_oldest_due_secs,
    );
    g("freshbot_outbox_failed", counts.outbox_failed);
    g("freshbot_handoff_waiting", counts.handoff_waiting);
    g("freshbot_handoff_claimed", counts.handoff_claimed);
    for (status, n) in counts.orders_by_status {
        metrics::gauge!("freshbot_orders", "status" => status).set(n as f64);
    }
    for (reason, n) in counts.cancellations_by_reason {
        metrics::gauge!("freshbot_cancellations", "reason" => reason).set(n as f64);
    }
    let Some(recorder) = recorder() else {
        return Ok((
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder not installed",
        )
            .into_response());
    };
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        recorder.render(),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_is_kept_only_when_it_is_a_sane_token() {
        let mut h = HeaderMap::new();
        h.insert(REQUEST_ID, HeaderValue::from_static("lb-7f3a_19"));
        assert_eq!(request_id(&h), "lb-7f3a_19");
        h.insert(REQUEST_ID, HeaderValue::from_static("a b\"<script>"));
        let fresh = request_id(&h);
        assert_eq!(fresh.len(), 16);
        assert!(fresh.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(request_id(&HeaderMap::new()), request_id(&HeaderMap::new()));
    }
}
