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

/// The same message delivered four times at once (a web client retrying over a slow network):
/// one delivery is answered, the others are duplicates, and the conversation and transcript
/// hold the turn once.
async fn concurrent_redeliveries_have_one_effect(backend: Backend) {
    use freshbot::conversation::{Content, Inbound};
    let app = spawn_app(backend).await;
    let engine = app.engine(crate::stories::NLU.clone());
    let inbound = Inbound {
        channel: Channel::Web,
        user: "retrying-user".into(),
        message_id: Some("m-1".into()),
        lang: None,
        content: Content::Text("配送费多少".into()),
    };
    let mut turns = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (engine, inbound) = (engine.clone(), inbound.clone());
        turns.spawn(async move { engine.handle(inbound).await.unwrap() });
    }
    let mut answered = 0;
    while let Some(turn) = turns.join_next().await {
        let turn = turn.unwrap();
        if turn.duplicate {
            assert!(turn.replies.is_empty());
        } else {
            assert!(!turn.replies.is_empty());
            answered += 1;
        }
    }
    assert_eq!(answered, 1);
    let (_, version) = app
        .services
        .load_conversation::<serde_json::Value>(Channel::Web, "retrying-user")
        .await
        .unwrap();
    assert_eq!(version, Some(1), "one saved turn");
    // A later redelivery is a duplicate too; a new id is a new turn.
    assert!(engine.handle(inbound.clone()).await.unwrap().duplicate);
    let next = Inbound {
        message_id: Some("m-2".into()),
        ..inbound
    };
    assert!(!engine.handle(next).await.unwrap().duplicate);
}
on_both_backends!(concurrent_redeliveries_have_one_effect);
