//! freshbot: a chat-first platform for fresh-produce delivery businesses.
//!
//! Dependencies point one way: adapters (`cli`, `http`) -> `services` -> `domain`.
//! `domain`, `nlu` and `fulfillment` are pure: no I/O, no clocks, no randomness of their own.

pub mod analytics;
pub mod app;
pub mod channels;
pub mod cli;
pub mod config;
pub mod conversation;
pub mod demo;
pub mod dialog;
pub mod domain;
pub mod fulfillment;
pub mod handoff;
pub mod http;
pub mod nlu;
pub mod runtime;
pub mod services;
pub mod shared_data;
pub mod simulate;
pub mod store;
