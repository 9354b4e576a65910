//! `freshbot chat` as a customer uses it from a shell: piped lines in, numbered buttons out,
//! and `--user` coming back to the same customer.

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `freshbot chat` on the data dir with `lines` as its input; returns stdout.
fn chat(data_dir: &std::path::Path, user: &str, lines: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_freshbot"))
        .args(["chat", "--user", user, "--lang", "en"])
        .env("FRESHBOT_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("FRESHBOT_BERT_MODEL_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "freshbot chat failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn terminal_chat_numbers_buttons_and_resumes_the_customer() {
    let dir = tempfile::tempdir().unwrap();
    // Piped input: no line-editor escape codes, one prompt per line, buttons as [n].
    let first = chat(
        dir.path(),
        "alice",
        "hello\n1\n/quit\nnot read after quit\n",
    );
    assert!(
        !first.contains('\u{1b}'),
        "escape codes in piped output: {first:?}"
    );
    assert!(first.contains("[1] "), "no numbered buttons: {first}");
    assert_eq!(
        first.matches("> ").count(),
        3,
        "one prompt per line read: {first}"
    );
    let alice_before = cli_customer(dir.path(), "alice").await;
    assert!(alice_before.is_some(), "alice was created");
    // A second session of the same user is the same customer; another user is a new one.
    chat(dir.path(), "alice", "where is my order\n");
    chat(dir.path(), "bob", "hi\n");
    assert_eq!(cli_customer(dir.path(), "alice").await, alice_before);
    let bob = cli_customer(dir.path(), "bob").await;
    assert!(bob.is_some() && bob != alice_before);
}

async fn cli_customer(data_dir: &std::path::Path, user: &str) -> Option<i64> {
    let url = format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("freshbot.sqlite").display()
    );
    let store = freshbot::store::Store::connect(&url).await.unwrap();
    let tx = store.begin_read().await.unwrap();
    tx.customer_by_identity(freshbot::domain::Channel::Cli, user)
        .await
        .unwrap()
        .map(|c| c.id.0)
}
