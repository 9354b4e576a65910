//! What the picker's screen shows: the waves of a day with their progress, and a wave's pick
//! list batch by batch in route order. Reads only; scans go through `Services::scan`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::{WarehouseError, local_day_start};
use crate::domain::Product;
use crate::services::Services;
use crate::store::repo::{PickTaskRow, PickWaveRow};

/// How far a set of pick lines has got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PickProgress {
    pub lines: usize,
    pub picked: usize,
    pub short: usize,
    pub pending: usize,
}

impl PickProgress {
    fn of<'a>(tasks: impl Iterator<Item = &'a PickTaskRow>) -> Self {
        let mut p = PickProgress::default();
        for t in tasks {
            p.lines += 1;
            match t.status.as_str() {
                "picked" => p.picked += 1,
                "short" => p.short += 1,
                _ => p.pending += 1,
            }
        }
        p
    }
}

/// A wave in the day's list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PickerWaveSummary {
    pub id: i64,
    pub slot_start: DateTime<Utc>,
    pub orders: i32,
    pub batches: i32,
    pub total_length: f64,
    pub progress: PickProgress,
}

/// One line of a pick list as the picker sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PickerLine {
    pub seq: i32,
    pub order: String,
    pub line_no: i32,
    pub sku: String,
    pub name_zh: String,
    pub name_en: String,
    /// Aisle number (1 = the first aisle, as signs in the warehouse count) and metres from
    /// the front cross aisle; absent for waves planned before locations were stored.
    pub aisle: Option<i32>,
    pub position: Option<f64>,
    pub qty_milli: i64,
    pub tolerance_milli: i64,
    pub unit: String,
    /// `pending`, `picked` or `short`.
    pub status: String,
    pub picked_milli: Option<i64>,
    pub scanned_by: Option<String>,
}

/// One batch: what one picker collects in one tour, in walking order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PickerBatch {
    pub batch_no: i32,
    pub zone: Option<String>,
    pub route_method: String,
    pub progress: PickProgress,
    pub lines: Vec<PickerLine>,
}

/// A wave's pick list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PickerWave {
    pub id: i64,
    pub slot_start: DateTime<Utc>,
    pub progress: PickProgress,
    pub batches: Vec<PickerBatch>,
}

fn summary(w: &PickWaveRow, tasks: &[PickTaskRow]) -> PickerWaveSummary {
    PickerWaveSummary {
        id: w.id,
        slot_start: w.slot_start,
        orders: w.orders,
        batches: w.batches,
        total_length: w.total_length,
        progress: PickProgress::of(tasks.iter()),
    }
}

fn line(t: &PickTaskRow, products: &BTreeMap<String, Product>) -> PickerLine {
    let p = products.get(t.sku.as_str());
    PickerLine {
        seq: t.route_seq,
        order: t.order_number.clone(),
        line_no: t.line_no,
        sku: t.sku.to_string(),
        name_zh: p.map(|p| p.name_zh.clone()).unwrap_or_default(),
        name_en: p.map(|p| p.name_en.clone()).unwrap_or_default(),
        aisle: t.aisle.map(|a| a + 1),
        position: t.position,
        qty_milli: t.expected_milli,
        tolerance_milli: t.tolerance_milli,
        unit: p.map(|p| p.unit.code().to_owned()).unwrap_or_default(),
        status: t.status.clone(),
        picked_milli: t.picked_milli,
        scanned_by: t.scanned_by.clone(),
    }
}

impl Services {
    /// The waves whose delivery slots start on local day `date`, with their progress.
    pub async fn picker_waves(
        &self,
        date: NaiveDate,
    ) -> Result<Vec<PickerWaveSummary>, WarehouseError> {
        let tx = self.store().begin_read().await?;
        let waves = tx
            .pick_waves_between(
                local_day_start(date),
                local_day_start(date + Duration::days(1)),
            )
            .await?;
        let mut out = Vec::with_capacity(waves.len());
        for w in &waves {
            out.push(summary(w, &tx.pick_tasks_of_wave(w.id).await?));
        }
        Ok(out)
    }

    /// A wave's pick list: batches in order, each line in route order with its location,
    /// product names and state.
    pub async fn picker_wave(&self, id: i64) -> Result<PickerWave, WarehouseError> {
        let tx = self.store().begin_read().await?;
        let wave = tx
            .pick_wave(id)
            .await?
            .ok_or(WarehouseError::UnknownWave(id))?;
        let tasks = tx.pick_tasks_of_wave(id).await?;
        let products: BTreeMap<String, Product> = tx
            .catalog()
            .await?
            .into_iter()
            .map(|(p, _)| (p.sku.to_string(), p))
            .collect();
        let mut batches: Vec<PickerBatch> = Vec::new();
        for t in &tasks {
            if batches.last().is_none_or(|b| b.batch_no != t.batch_no) {
                batches.push(PickerBatch {
                    batch_no: t.batch_no,
                    zone: t.zone.clone(),
                    route_method: t.route_method.clone(),
                    progress: PickProgress::default(),
                    lines: Vec::new(),
                });
            }
            if let Some(b) = batches.last_mut() {
                b.lines.push(line(t, &products));
            }
        }
        for b in &mut batches {
            b.progress = PickProgress::of(tasks.iter().filter(|t| t.batch_no == b.batch_no));
        }
        Ok(PickerWave {
            id: wave.id,
            slot_start: wave.slot_start,
            progress: PickProgress::of(tasks.iter()),
            batches,
        })
    }
}
