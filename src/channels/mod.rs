//! Channel adapters: each turns its platform's messages into [`crate::conversation::Inbound`]
//! and sends replies back through a [`Sender`]; no flow logic lives here. The outbox
//! dispatcher pushes events to customers through the same senders.

pub mod dispatcher;
pub mod outbound;
pub mod telegram;
pub mod web;
pub mod wechat;

pub use outbound::{SendError, Sender, Senders};
