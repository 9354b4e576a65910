//! The demo business.

use crate::config::Settings;
use crate::store::Store;

pub async fn load(_store: &Store, _settings: &Settings) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::json!({}))
}
