//! sea-orm entities, one per table (see `migrations/`).

pub mod addresses;
pub mod agent_actions;
pub mod agent_sessions;
pub mod agents;
pub mod cancel_saves;
pub mod cancellations;
pub mod channel_contacts;
pub mod channel_identities;
pub mod chat_messages;
pub mod conversations;
pub mod couriers;
pub mod customers;
pub mod delivery_routes;
pub mod delivery_zones;
pub mod handoff_queue;
pub mod inbound_messages;
pub mod job_leases;
pub mod order_lines;
pub mod order_number_seq;
pub mod order_risk;
pub mod order_status_history;
pub mod orders;
pub mod outbox;
pub mod outbox_deliveries;
pub mod pick_events;
pub mod pick_tasks;
pub mod pick_waves;
pub mod products;
pub mod purchase_drafts;
pub mod purchase_orders;
pub mod route_stops;
pub mod slot_capacity;
pub mod stock;
pub mod stock_movements;
pub mod substitution_offers;
pub mod web_pushes;
pub mod web_sessions;

/// Every entity's columns with their types: (table, column, type). Rows read outside sqlx
/// (see `store::inline_sqlite`) are typed by it, as sqlx types them by the entity's fields.
pub(crate) fn column_types() -> Vec<(&'static str, &'static str, sea_orm::ColumnType)> {
    use sea_orm::{ColumnTrait, EntityName, IdenStatic, Iterable};
    let mut out = Vec::new();
    macro_rules! entities {
        ($($m:ident),*) => {$(
            for c in <$m::Column as Iterable>::iter() {
                out.push(($m::Entity.table_name(), c.as_str(), c.def().get_column_type().clone()));
            }
        )*};
    }
    entities!(
        addresses,
        agent_actions,
        agent_sessions,
        agents,
        cancel_saves,
        cancellations,
        channel_contacts,
        channel_identities,
        chat_messages,
        conversations,
        couriers,
        customers,
        delivery_routes,
        delivery_zones,
        handoff_queue,
        inbound_messages,
        job_leases,
        order_lines,
        order_number_seq,
        order_risk,
        order_status_history,
        orders,
        outbox,
        outbox_deliveries,
        pick_events,
        pick_tasks,
        pick_waves,
        products,
        purchase_drafts,
        purchase_orders,
        route_stops,
        slot_capacity,
        stock,
        stock_movements,
        substitution_offers,
        web_pushes,
        web_sessions
    );
    out
}
