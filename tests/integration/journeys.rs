//! Customer journeys (`tests/journeys/`), played by the simulated customer of
//! `freshbot::simulate` over the web chat API, each on a fresh demo shop so that one journey's
//! stock and slot bookings never decide another's. The outcome is read from `/api/chat/orders`,
//! never from what the bot said.
//!
//! The bot does not yet reach every goal (#24). `tests/journeys/known_failures.txt` lists the
//! journeys that fail today; this test fails when any other journey fails or when any order
//! goes wrong that is not listed, and it says which listed ones now pass so the list only
//! shrinks. The whole report goes to `target/journeys-report.md`.

use std::collections::BTreeSet;
use std::path::Path;

use freshbot::simulate::{Journey, Played, Simulator, load_dir};
use futures_util::StreamExt;

use crate::common::{ADMIN_TOKEN, Backend, morning, spawn_app};

async fn play(
    journey: &Journey,
    backend: Backend,
) -> Result<freshbot::simulate::JourneyRun, freshbot::simulate::SimError> {
    let app = spawn_app(backend).await;
    let sim = Simulator {
        http: reqwest::Client::new(),
        base: format!("http://{}", app.addr),
        admin_token: Some(ADMIN_TOKEN.into()),
        today: morning().with_timezone(&freshbot::domain::TZ).date_naive(),
    };
    sim.run(journey).await
}

fn known_failures() -> BTreeSet<String> {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/journeys/known_failures.txt"),
    )
    .unwrap_or_default()
    .lines()
    .map(|l| l.split('#').next().unwrap_or("").trim().to_owned())
    .filter(|l| !l.is_empty())
    .collect()
}

async fn run_journeys(backend: Backend, every: usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/journeys");
    let all = load_dir(&dir).unwrap();
    assert!(all.len() >= 300, "{} journeys", all.len());
    let chosen: Vec<&(String, Journey)> = all.iter().step_by(every).collect();
    let runs: Vec<_> = futures_util::stream::iter(chosen.iter().map(|(set, j)| {
        let backend = backend.clone();
        async move { (set.clone(), j, play(j, backend).await) }
    }))
    .buffered(4)
    .collect()
    .await;
    let played: Vec<Played> = runs
        .into_iter()
        .map(|(set, journey, run)| Played { set, journey, run })
        .collect();
    let report = format!(
        "{}\n## Failures\n\n{}",
        freshbot::simulate::markdown(&played),
        freshbot::simulate::failures(&played)
    );
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/journeys-report.md");
    std::fs::write(&out, &report).ok();
    println!("{}", freshbot::simulate::markdown(&played));
    let known = known_failures();
    let regressions: Vec<String> = played
        .iter()
        .filter(|p| !p.reached() && !known.contains(&p.journey.id))
        .map(|p| format!("{}: {}\n{}", p.journey.id, p.why(), p.transcript()))
        .collect();
    let fixed: Vec<&str> = played
        .iter()
        .filter(|p| p.reached() && known.contains(&p.journey.id))
        .map(|p| p.journey.id.as_str())
        .collect();
    if !fixed.is_empty() {
        println!(
            "now reached, take them off tests/journeys/known_failures.txt: {}",
            fixed.join(" ")
        );
    }
    assert!(
        regressions.is_empty(),
        "{} journeys failed that used to reach their goal (report: {}):\n{}",
        regressions.len(),
        out.display(),
        regressions.join("\n\n")
    );
}

/// Every journey on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn journeys_reach_their_goals_sqlite() {
    run_journeys(Backend::Sqlite, 1).await;
}

/// Every tenth journey on PostgreSQL (a fresh database each): the same verdicts on the other
/// backend without 300 databases in CI.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn journeys_reach_their_goals_postgres() {
    if let Some(b) = Backend::postgres("journeys") {
        run_journeys(b, 10).await;
    }
}
