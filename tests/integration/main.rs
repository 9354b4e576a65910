//! Integration tests: the real app against a temporary SQLite file and, when
//! `FRESHBOT_TEST_POSTGRES` holds a URL, against a fresh PostgreSQL database per test.
//! One test binary (modules below) keeps link time down.

#![allow(clippy::unwrap_used)] // test helpers may panic: a failed setup is a failed test

mod browser;
mod common;
mod conversations;
mod dispatch;
mod fake_telegram;
mod handoff;
mod http_api;
mod journeys;
mod notify;
mod observability;
mod orders;
mod picker;
mod scheduled_jobs;
mod stories;
mod substitution;
mod telegram;
mod terminal_chat;
mod warehouse;
mod web_chat;
mod web_pages;
mod wechat;
