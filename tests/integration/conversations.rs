//! Conversation state: optimistic concurrency and inbound dedupe.

use freshbot::domain::Channel;
use serde::{Deserialize, Serialize};

use crate::common::{Backend, spawn_app};
use crate::on_both_backends;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Notes {
    seen: Vec<String>,
}

/// Two instances write one conversation: the second gets a version conflict, reloads, and
/// neither update is lost.
async fn concurrent_writers_lose_no_update(backend: Backend) {
    let app = spawn_app(backend).await;
    let store = app.services.store();
    let now = app.services.now();

    // Deterministic interleaving: both load version 1; A saves; B's save conflicts.
    let tx = store.begin_write().await.unwrap();
    assert_eq!(
        tx.save_conversation(Channel::Telegram, "u1", r#"{"seen":[]}"#, None, now)
            .await
            .unwrap(),
        Ok(1)
    );
    tx.commit().await.unwrap();
    let tx = store.begin_write().await.unwrap();
    assert_eq!(
        tx.save_conversation(Channel::Telegram, "u1", r#"{"seen":["a"]}"#, Some(1), now)
            .await
            .unwrap(),
        Ok(2)
    );
    tx.commit().await.unwrap();
    let tx = store.begin_write().await.unwrap();
    assert!(
        tx.save_conversation(Channel::Telegram, "u1", r#"{"seen":["b"]}"#, Some(1), now)
            .await
            .unwrap()
            .is_err()
    );
    drop(tx);

    // Through the service, twenty concurrent writers each append once; all twenty survive.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let s = app.services.clone();
        tasks.spawn(async move {
            s.update_conversation::<Notes, _, _>(Channel::Web, "busy-user", |n| {
                n.seen.push(format!("w{i}"))
            })
            .await
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    let (notes, version) = app
        .services
        .load_conversation::<Notes>(Channel::Web, "busy-user")
        .await
        .unwrap();
    assert_eq!(notes.seen.len(), 20, "{:?}", notes.seen);
    assert_eq!(version, Some(20));
}
on_both_backends!(concurrent_writers_lose_no_update);

/// A redelivered message id is recognised; the same id on another channel is a new message.
async fn inbound_messages_are_deduplicated(backend: Backend) {
    let app = spawn_app(backend).await;
    assert!(
        app.services
            .first_delivery(Channel::Wechat, "6054768590064713728")
            .await
            .unwrap()
    );
    assert!(
        !app.services
            .first_delivery(Channel::Wechat, "6054768590064713728")
            .await
            .unwrap()
    );
    assert!(
        app.services
            .first_delivery(Channel::Telegram, "6054768590064713728")
            .await
            .unwrap()
    );
}
on_both_backends!(inbound_messages_are_deduplicated);
