//! `spawn_app()`: a freshbot with demo data on its own database and a random port.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use freshbot::config::{Secret, Settings};
use freshbot::domain::{AddressId, Channel, Customer, Lang, LatLon, Quantity, Sku, Unit};
use freshbot::services::{ManualClock, OrderLineRequest, PlaceOrder, Services};

/// Which database a test runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// PostgreSQL if `FRESHBOT_TEST_POSTGRES` is set; otherwise prints that the test is skipped,
    /// or fails with `FRESHBOT_REQUIRE_POSTGRES=1` (`.ci/run`), so CI cannot count a PostgreSQL
    /// variant as passed without running it.
    pub fn postgres(test: &str) -> Option<Backend> {
        match std::env::var("FRESHBOT_TEST_POSTGRES") {
            Ok(url) if !url.trim().is_empty() => Some(Backend::Postgres(url)),
            _ => {
                assert!(
                    std::env::var("FRESHBOT_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                    "FRESHBOT_REQUIRE_POSTGRES=1 but FRESHBOT_TEST_POSTGRES is not set ({test})"
                );
                eprintln!(
                    "SKIPPED {test} on PostgreSQL: set FRESHBOT_TEST_POSTGRES=postgres://... to run it"
                );
                None
            }
        }
    }
}

/// Runs a test body on SQLite and on PostgreSQL (when configured) as two test functions.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(b) = $crate::common::Backend::postgres(stringify!($name)) {
                    super::$name(b).await
                }
            }
        }
    };
}

pub const ADMIN_TOKEN: &str = "test-admin-token";

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub services: Services,
    /// The senders the app pushes and relays through (with the test's doubles).
    pub senders: freshbot::channels::Senders,
    pub clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

/// 2026-11-25 07:00 in Shanghai: before the first slot of the day closes.
pub fn morning() -> DateTime<Utc> {
    "2026-11-24T23:00:00Z".parse().unwrap()
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with_senders(backend, tweak, freshbot::channels::Senders::new()).await
}

/// As [`spawn_app_with`], with channel senders replaced (recording doubles).
pub async fn spawn_app_with_senders(
    backend: Backend,
    tweak: impl FnOnce(&mut Settings),
    senders: freshbot::channels::Senders,
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings {
        data_dir: dir.path().join("data"),
        bind: "127.0.0.1:0".into(),
        admin_token: Secret::new(ADMIN_TOKEN),
        ..Settings::default()
    };
    if let Backend::Postgres(base) = &backend {
        settings.database_url = Some(fresh_postgres_database(base).await);
    }
    // Waves leave when a test says so (tests/integration/dispatch.rs turns the sweeper on).
    settings.dispatch.auto = false;
    tweak(&mut settings);
    let clock = Arc::new(ManualClock::new(morning()));
    let app = freshbot::app::Application::build_with_senders(
        settings,
        true,
        clock.clone(),
        crate::stories::NLU.clone(),
        senders,
    )
    .await
    .unwrap();
    let addr = app.local_addr().unwrap();
    let services = app.services().clone();
    let senders = app.senders().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        addr,
        services,
        senders,
        clock,
        _dir: dir,
    }
}

/// Creates an empty database next to the one in `base` and returns its URL.
async fn fresh_postgres_database(base: &str) -> String {
    use sea_orm::ConnectionTrait;
    let name = format!("freshbot_test_{:016x}", rand::random::<u64>());
    let admin = sea_orm::Database::connect(base)
        .await
        .expect("FRESHBOT_TEST_POSTGRES must be reachable");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    admin.close().await.ok();
    match base.rfind('/') {
        Some(i) if base[..i].contains("://") && !base[..i].ends_with('/') => {
            format!("{}/{name}", &base[..i])
        }
        _ => format!("{}/{name}", base.trim_end_matches('/')),
    }
}

impl TestApp {
    /// A conversation engine over this app's services (a fresh one simulates a restart).
    pub fn engine(
        &self,
        nlu: Arc<dyn freshbot::conversation::Understand>,
    ) -> freshbot::conversation::Engine {
        let faq =
            freshbot::conversation::faq::parse_faq(freshbot::conversation::faq::FAQ_YAML).unwrap();
        freshbot::conversation::Engine::new(
            self.services.clone(),
            nlu,
            faq,
            &format!("http://{}", self.addr),
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A new web customer with an address on Nanjing East Road (zone huangpu).
    pub async fn customer(&self, name: &str) -> (Customer, AddressId) {
        let c = self
            .services
            .identify(Channel::Web, name, Lang::Zh)
            .await
            .unwrap();
        let a = self
            .services
            .add_address(
                &c,
                "上海市黄浦区南京东路300号",
                Some(LatLon::new(31.2352, 121.4800).unwrap()),
            )
            .await
            .unwrap();
        assert_eq!(a.zone, "huangpu");
        (c, a.id.unwrap())
    }

    /// A new web customer's order of two jin of tomatoes and a box of eggs for the first
    /// free slot (above the minimum order).
    pub async fn placed_order(&self, name: &str) -> freshbot::domain::Order {
        let (c, addr) = self.customer(name).await;
        let slot = self.slot_starts("huangpu").await[0];
        self.services
            .place_order(&c, tomatoes_and_eggs(slot, addr))
            .await
            .unwrap()
    }

    /// The customer that the chat engine created for web user `user`.
    pub async fn web_customer(&self, user: &str) -> Customer {
        self.services
            .identify(Channel::Web, user, Lang::Zh)
            .await
            .unwrap()
    }

    /// Starts of the bookable slots in the customer's zone, soonest first.
    pub async fn slot_starts(&self, zone: &str) -> Vec<DateTime<Utc>> {
        self.services
            .free_slots(zone)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.start)
            .collect()
    }
}

/// Two jin of tomatoes and a box of eggs (above the minimum order) for `slot` and `addr`.
pub fn tomatoes_and_eggs(slot: DateTime<Utc>, addr: AddressId) -> PlaceOrder {
    order(
        vec![
            line("VEG-TOMATO", "2", Unit::Jin),
            line("EGG-CHICKEN", "1", Unit::Box),
        ],
        slot,
        addr,
    )
}

pub fn line(sku: &str, amount: &str, unit: Unit) -> OrderLineRequest {
    OrderLineRequest {
        sku: Sku::parse(sku).unwrap(),
        quantity: Quantity::parse(amount, unit).unwrap(),
    }
}

pub fn order(lines: Vec<OrderLineRequest>, slot: DateTime<Utc>, address: AddressId) -> PlaceOrder {
    PlaceOrder {
        channel: Channel::Web,
        lines,
        slot_start: slot,
        address,
        auto_substitute: true,
    }
}

/// Stock of a sku as `(on_hand, reserved)` in thousandths.
pub async fn stock(app: &TestApp, sku: &str) -> (i64, i64) {
    let tx = app.services.store().begin_read().await.unwrap();
    let s = tx
        .stock_level(&Sku::parse(sku).unwrap())
        .await
        .unwrap()
        .unwrap();
    (s.on_hand_milli, s.reserved_milli)
}

/// Booked places of a slot in a zone.
pub async fn booked(app: &TestApp, slot: DateTime<Utc>, zone: &str) -> u32 {
    let tx = app.services.store().begin_read().await.unwrap();
    tx.slot_usage(slot, zone)
        .await
        .unwrap()
        .map(|(b, _)| b)
        .unwrap_or(0)
}
