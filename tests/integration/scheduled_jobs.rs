//! The scheduled jobs of `serve` (delivery waves, handoff and substitution sweeps) run on one
//! instance at a time when several share a database, and move to another when it stops.

use chrono::Duration;

use crate::common::{Backend, spawn_app};
use crate::on_both_backends;

/// One instance holds a job while it keeps ticking; when it stops ticking (killed), another
/// takes the job over once the lease has run out, and the first cannot take it back.
async fn a_job_runs_on_one_instance_and_moves_when_it_stops(backend: Backend) {
    let app = spawn_app(backend).await;
    let s = &app.services;
    let ttl = Duration::seconds(45);
    assert!(s.lead_job("delivery_waves", "a", ttl).await.unwrap());
    assert!(!s.lead_job("delivery_waves", "b", ttl).await.unwrap());
    app.clock.advance(Duration::seconds(30));
    assert!(
        s.lead_job("delivery_waves", "a", ttl).await.unwrap(),
        "renewed"
    );
    app.clock.advance(Duration::seconds(30));
    assert!(
        !s.lead_job("delivery_waves", "b", ttl).await.unwrap(),
        "the renewal counts from the last tick"
    );
    // Other jobs are led independently.
    assert!(s.lead_job("handoff_sla", "b", ttl).await.unwrap());
    // "a" stops ticking.
    app.clock.advance(Duration::seconds(46));
    assert!(s.lead_job("delivery_waves", "b", ttl).await.unwrap());
    assert!(!s.lead_job("delivery_waves", "a", ttl).await.unwrap());
}
on_both_backends!(a_job_runs_on_one_instance_and_moves_when_it_stops);

/// Instances racing for a free job: exactly one wins.
async fn racing_instances_elect_exactly_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let s = app.services.clone();
        tasks.spawn(async move {
            s.lead_job(
                "substitution_offers",
                &format!("instance-{i}"),
                Duration::seconds(45),
            )
            .await
            .unwrap()
        });
    }
    let mut winners = 0;
    while let Some(won) = tasks.join_next().await {
        winners += usize::from(won.unwrap());
    }
    assert_eq!(winners, 1);
}
on_both_backends!(racing_instances_elect_exactly_one);
