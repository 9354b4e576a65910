//! Full customer turns (HTTP + NLU + dialog + database) through the web chat API.
//!
//! `cargo bench --bench chat` runs 1 and 32 concurrent customers on a temporary SQLite file;
//! with `FRESHBOT_BENCH_POSTGRES=postgres://...` it also runs on a fresh PostgreSQL database.
//! Every customer first orders (5 turns), then asks the usual questions in a loop.

#![allow(clippy::unwrap_used)] // a benchmark that cannot set up should stop loudly

/// The allocator of the `freshbot` binary (src/main.rs), so the numbers are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const QUESTIONS: [&str; 6] = [
    "配送费多少",
    "有草莓吗",
    "我的订单到哪了",
    "你好",
    "where is my order",
    "几点可以送",
];

/// The ordering turns of a customer, in order: the order text, the shared location (a new
/// address), the slot, the substitution consent and the confirmation (which writes the order,
/// its lines, the stock reservation, the slot booking and the outbox).
const ORDERING_STEPS: [&str; 5] = ["order", "location", "slot", "consent", "confirm"];

/// Latency of one turn, and which ordering step it was (`None` for a question).
type Turn = (Duration, Option<&'static str>);

struct Result {
    latencies: Vec<Turn>,
    wall: Duration,
}

async fn customer(http: reqwest::Client, base: String, turns: usize) -> Vec<Turn> {
    let mut lat = Vec::with_capacity(turns + 8);
    let token: Value = http
        .post(format!("{base}/api/chat/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    let mut last = Value::Null;
    let send = |body: Value| {
        let http = http.clone();
        let base = base.clone();
        let token = token.clone();
        async move {
            let t = Instant::now();
            let r: Value = http
                .post(format!("{base}/api/chat/messages"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (t.elapsed(), r)
        }
    };
    let payload = |r: &Value, prefix: &str| {
        r["replies"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["buttons"].as_array().into_iter().flatten())
            .filter_map(|b| b["payload"].as_str())
            .find(|p| p.starts_with(prefix))
            .map(str::to_owned)
    };
    let mut steps = ORDERING_STEPS.iter();
    for body in [
        json!({"text": "我要两斤西红柿和一盒鸡蛋"}),
        json!({"location": {"lat": 31.2352, "lon": 121.48}}),
    ] {
        let (d, r) = send(body).await;
        lat.push((d, steps.next().copied()));
        last = r;
    }
    for prefix in ["slot:", "yes", "yes"] {
        let step = steps.next().copied();
        if let Some(p) = payload(&last, prefix) {
            let (d, r) = send(json!({"button": p})).await;
            lat.push((d, step));
            last = r;
        }
    }
    for i in 0..turns {
        let (d, _) = send(json!({"text": QUESTIONS[i % QUESTIONS.len()]})).await;
        lat.push((d, None));
    }
    lat
}

async fn run(database_url: Option<String>, customers: usize, turns: usize) -> Result {
    let dir = tempfile::tempdir().unwrap();
    let settings = freshbot::config::Settings {
        data_dir: dir.path().to_owned(),
        database_url,
        bind: "127.0.0.1:0".into(),
        ..Default::default()
    };
    // What `serve` uses: the default model, or with the `bert` feature and its model folders
    // set (scripts/ensure-libtorch.sh) the blend, to measure what the encoder costs a turn.
    let nlu = Arc::new(freshbot::nlu::shipped_nlu().unwrap());
    let app = freshbot::app::Application::build_with(
        settings,
        true,
        Arc::new(freshbot::services::SystemClock),
        nlu,
    )
    .await
    .unwrap();
    let base = format!("http://{}", app.local_addr().unwrap());
    tokio::spawn(app.run_until_stopped());
    // The customers run on their own thread and runtime, so the server's workers serve only
    // the server, and a profile tells the client's CPU (thread `bench-client`) from the
    // server's (`tokio-runtime-worker`, sqlx's `sqlx-sqlite-worker-*`).
    let client = std::thread::Builder::new()
        .name("bench-client".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let http = reqwest::Client::new();
                let start = Instant::now();
                let mut tasks = tokio::task::JoinSet::new();
                for _ in 0..customers {
                    tasks.spawn(customer(http.clone(), base.clone(), turns));
                }
                let mut latencies = Vec::new();
                while let Some(r) = tasks.join_next().await {
                    latencies.extend(r.unwrap());
                }
                Result {
                    latencies,
                    wall: start.elapsed(),
                }
            })
        })
        .unwrap();
    tokio::task::spawn_blocking(move || client.join().unwrap())
        .await
        .unwrap()
}

/// The `p` quantile in milliseconds, rounded to 0.01.
fn quantile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let ms = sorted[((sorted.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
    (ms * 100.0).round() / 100.0
}

fn report(label: &str, customers: usize, r: Result) {
    let sorted = |filter: &dyn Fn(Option<&str>) -> bool| {
        let mut v: Vec<Duration> = r
            .latencies
            .iter()
            .filter(|(_, step)| filter(*step))
            .map(|(d, _)| *d)
            .collect();
        v.sort();
        v
    };
    let all = sorted(&|_| true);
    let ordering = sorted(&|s| s.is_some());
    let questions = sorted(&|s| s.is_none());
    // Each ordering step apart: p50 and p99 in ms.
    let steps: serde_json::Map<String, Value> = ORDERING_STEPS
        .iter()
        .map(|step| {
            let v = sorted(&|s| s == Some(*step));
            (
                (*step).to_owned(),
                json!([quantile_ms(&v, 0.5), quantile_ms(&v, 0.99)]),
            )
        })
        .collect();
    let n = all.len();
    println!(
        "{}",
        json!({
            "database": label,
            "customers": customers,
            "turns": n,
            "turns_per_s": (n as f64 / r.wall.as_secs_f64()).round(),
            "p50_ms": quantile_ms(&all, 0.5),
            "p99_ms": quantile_ms(&all, 0.99),
            "ordering_turns": ordering.len(),
            "ordering_p99_ms": quantile_ms(&ordering, 0.99),
            "question_p50_ms": quantile_ms(&questions, 0.5),
            "question_p99_ms": quantile_ms(&questions, 0.99),
            "ordering_steps_p50_p99_ms": steps,
        })
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let turns: usize = std::env::var("FRESHBOT_BENCH_TURNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let mut targets = vec![("sqlite".to_owned(), None)];
    if let Ok(base) = std::env::var("FRESHBOT_BENCH_POSTGRES") {
        targets.push(("postgres".to_owned(), Some(base)));
    }
    for (label, base) in targets {
        for customers in [1, 32] {
            let url = base.as_ref().map(|b| {
                let name = format!("freshbot_bench_{:08x}", rand::random::<u32>());
                rt.block_on(async {
                    use sea_orm::ConnectionTrait;
                    let admin = sea_orm::Database::connect(b.as_str()).await.unwrap();
                    admin
                        .execute_unprepared(&format!("CREATE DATABASE {name}"))
                        .await
                        .unwrap();
                });
                format!("{}/{name}", &b[..b.rfind('/').unwrap()])
            });
            let r = rt.block_on(run(url, customers, turns / customers.min(4)));
            report(&label, customers, r);
        }
    }
}
