//! sea-orm entities, one per table (see `migrations/`).

pub mod addresses;
pub mod agents;
pub mod cancel_saves;
pub mod cancellations;
pub mod channel_identities;
pub mod conversations;
pub mod couriers;
pub mod customers;
pub mod delivery_zones;
pub mod handoff_queue;
pub mod inbound_messages;
pub mod order_lines;
pub mod order_number_seq;
pub mod order_status_history;
pub mod orders;
pub mod outbox;
pub mod pick_events;
pub mod pick_tasks;
pub mod pick_waves;
pub mod products;
pub mod purchase_drafts;
pub mod slot_capacity;
pub mod stock;
pub mod stock_movements;
pub mod web_pushes;
pub mod web_sessions;
