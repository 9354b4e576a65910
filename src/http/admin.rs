//! Operator endpoints (`Authorization: Bearer $FRESHBOT_ADMIN_TOKEN`).

use axum::{
    Json,
    extract::{Path, State},
    http::HeaderMap,
};
use serde::{Deserialize, Serialize};

use super::{AppError, AppState};
use crate::domain::OrderStatus;
use crate::services::Actor;

pub(super) fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    let expected = state.admin_token.expose();
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // An empty configured token disables operator endpoints instead of opening them.
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        return Err(AppError::Unauthorized("unauthorized"));
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Deserialize)]
pub struct StatusBody {
    status: String,
}

#[derive(Serialize)]
pub struct StatusReply {
    number: String,
    status: OrderStatus,
}

/// `POST /api/admin/orders/{number}/status {"status"}`: moves an order along its lifecycle.
pub async fn set_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Result<Json<StatusBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<StatusReply>, AppError> {
    require_admin(&state, &headers)?;
    let Json(body) = body.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let to: OrderStatus = body
        .status
        .parse()
        .map_err(|e: crate::domain::OrderError| AppError::BadRequest(e.to_string()))?;
    let order = state
        .services
        .advance_status(Actor::Operator, &number, to)
        .await?;
    Ok(Json(StatusReply {
        number: order.number.to_string(),
        status: order.status,
    }))
}

#[derive(Serialize)]
pub struct CatalogItem {
    sku: String,
    name_zh: String,
    name_en: String,
    category: String,
    unit: crate::domain::Unit,
    price_fen: i64,
    in_stock: bool,
}

/// `GET /api/catalog`: what is for sale and whether it is in stock.
pub async fn catalog(State(state): State<AppState>) -> Result<Json<Vec<CatalogItem>>, AppError> {
    let items = state.services.catalog().await?;
    Ok(Json(
        items
            .iter()
            .map(|(p, s)| CatalogItem {
                sku: p.sku.to_string(),
                name_zh: p.name_zh.clone(),
                name_en: p.name_en.clone(),
                category: p.category.clone(),
                unit: p.unit,
                price_fen: p.price.get(),
                in_stock: s.available_milli() > 0,
            })
            .collect(),
    ))
}
