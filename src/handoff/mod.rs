//! Human handoff rules: queue order, the expected wait, what the customer is told at each
//! step, handling records and the live event feed of the agent console. Pure apart from the
//! in-process event hub; the use cases are in `services::handoff`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::{Channel, Lang, Reply};

/// Handoff settings (`[handoff]` in freshbot.toml).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HandoffSettings {
    /// Seconds a customer may wait unclaimed before the one apology (`FRESHBOT_HANDOFF_SLA_SECS`).
    pub sla_secs: u64,
    /// Expected handling time per conversation while there is no history
    /// (`FRESHBOT_HANDOFF_DEFAULT_WAIT_SECS`).
    pub default_wait_secs: u64,
    /// How long a console login lasts.
    pub session_hours: u32,
}

impl Default for HandoffSettings {
    fn default() -> Self {
        Self {
            sla_secs: 300,
            default_wait_secs: 180,
            session_hours: 12,
        }
    }
}

/// Where a queue entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffStatus {
    /// In the queue, no agent yet.
    Waiting,
    /// An agent holds the conversation: the bot is silent.
    Claimed,
    /// Back with the bot (released by the agent, or the customer went back while waiting).
    Closed,
}

impl HandoffStatus {
    pub fn code(self) -> &'static str {
        match self {
            HandoffStatus::Waiting => "waiting",
            HandoffStatus::Claimed => "claimed",
            HandoffStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Waiting, Self::Claimed, Self::Closed]
            .into_iter()
            .find(|v| v.code() == s)
    }
}

/// How a handled conversation ended, chosen by the agent on release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffOutcome {
    Resolved,
    Unresolved,
    /// The customer went back to the bot before an agent took the conversation.
    CustomerLeft,
}

impl HandoffOutcome {
    pub fn code(self) -> &'static str {
        match self {
            HandoffOutcome::Resolved => "resolved",
            HandoffOutcome::Unresolved => "unresolved",
            HandoffOutcome::CustomerLeft => "customer_left",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Resolved, Self::Unresolved, Self::CustomerLeft]
            .into_iter()
            .find(|v| v.code() == s)
    }
}

/// One entry of the handoff queue, open or closed (a closed one is the handling record).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandoffEntry {
    pub id: i64,
    pub channel: Channel,
    pub user: String,
    pub customer_id: i64,
    pub reason: String,
    pub summary: String,
    /// Higher first: complaints +2, priority-tier members +1.
    pub priority: i32,
    pub status: HandoffStatus,
    pub agent_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub first_reply_at: Option<DateTime<Utc>>,
    pub sla_apology_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
}

/// Queue priority of a request: complaints before members of a priority tier before the rest.
pub fn priority(reason: &str, priority_member: bool) -> i32 {
    i32::from(reason == "complaint") * 2 + i32::from(priority_member)
}

/// The order agents see the queue in: priority first, then who waited longest.
pub fn sort_queue(entries: &mut [HandoffEntry]) {
    entries.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(a.created_at.cmp(&b.created_at))
            .then(a.id.cmp(&b.id))
    });
}

/// Expected wait for the customer at `position` (1 = next): the mean of recent handling times
/// per conversation ahead, or `default_per_conversation` while there is no history.
pub fn estimate_wait(
    position: u64,
    recent_handling_secs: &[i64],
    default_per_conversation: Duration,
) -> Duration {
    let per = if recent_handling_secs.is_empty() {
        default_per_conversation.as_secs()
    } else {
        let sum: i64 = recent_handling_secs.iter().map(|s| (*s).max(0)).sum();
        u64::try_from(sum).unwrap_or(0) / recent_handling_secs.len() as u64
    };
    Duration::from_secs(per.saturating_mul(position.max(1)))
}

/// The conversation a handoff interrupts, as the handoff use cases need it: the language it
/// is in, how its state leaves the handoff, and what the bot says when an agent takes or
/// returns it or the wait runs past the SLA. The conversation engine implements it for the
/// dialog's state, so the use cases (`services::handoff`) need no dialog type and write the
/// customer's note in the transaction of the change it reports.
pub trait HandoffConversation: Serialize + DeserializeOwned + Default + Send + Sync {
    fn lang(&self) -> Lang;
    /// The bot takes over again from where the state stands.
    fn leave_handoff(&mut self);
    fn claimed_note(lang: Lang, agent_name: &str) -> Reply;
    fn released_note(lang: Lang, agent_name: &str, summary: &str) -> Reply;
    fn sla_apology(lang: Lang) -> Reply;
}

/// A waiting customer's place in the queue and the expected wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub position: u64,
    pub wait: Duration,
}

/// Canned replies of the console: `(key, zh, en)`.
pub const CANNED_REPLIES: &[(&str, &str, &str)] = &[
    (
        "greeting",
        "您好,我是客服,很高兴为您服务。",
        "Hello, I'm here to help you.",
    ),
    (
        "checking",
        "请稍等,我帮您查一下。",
        "One moment please, let me check.",
    ),
    (
        "refund",
        "已为您登记退款,1-3 个工作日原路退回。",
        "I've noted your refund; it will reach your original payment method in 1-3 working days.",
    ),
    (
        "rescheduled",
        "已为您改好送货时间。",
        "I've moved your delivery to the new time.",
    ),
    (
        "sorry",
        "非常抱歉给您带来不便。",
        "I'm very sorry for the trouble.",
    ),
    (
        "anything_else",
        "还有其他可以帮您的吗?",
        "Is there anything else I can help with?",
    ),
];

/// A message to send on a customer's own channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub channel: Channel,
    pub user: String,
    pub replies: Vec<Reply>,
}

/// One agent's handling record summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AgentStats {
    pub agent_id: i64,
    pub login: String,
    pub name: String,
    /// Conversations this agent closed.
    pub handled: u64,
    /// Held right now.
    pub holding: u64,
    /// Mean seconds from the customer's request to the agent's first message.
    pub avg_first_reply_secs: Option<i64>,
    /// Mean seconds from claim to release.
    pub avg_handling_secs: Option<i64>,
    pub resolved: u64,
    pub unresolved: u64,
}

fn mean(v: &[i64]) -> Option<i64> {
    (!v.is_empty()).then(|| v.iter().sum::<i64>() / v.len() as i64)
}

/// Summaries per agent from queue entries; `agents` is `(id, login, name)`.
pub fn agent_stats(agents: &[(i64, String, String)], entries: &[HandoffEntry]) -> Vec<AgentStats> {
    agents
        .iter()
        .map(|(id, login, name)| {
            let mine: Vec<&HandoffEntry> =
                entries.iter().filter(|e| e.agent_id == Some(*id)).collect();
            let closed: Vec<&&HandoffEntry> = mine
                .iter()
                .filter(|e| e.status == HandoffStatus::Closed)
                .collect();
            let first: Vec<i64> = closed
                .iter()
                .filter_map(|e| Some((e.first_reply_at? - e.created_at).num_seconds()))
                .collect();
            let handling: Vec<i64> = closed
                .iter()
                .filter_map(|e| Some((e.closed_at? - e.claimed_at?).num_seconds()))
                .collect();
            let outcome = |o: HandoffOutcome| {
                closed
                    .iter()
                    .filter(|e| e.outcome.as_deref() == Some(o.code()))
                    .count() as u64
            };
            AgentStats {
                agent_id: *id,
                login: login.clone(),
                name: name.clone(),
                handled: closed.len() as u64,
                holding: mine
                    .iter()
                    .filter(|e| e.status == HandoffStatus::Claimed)
                    .count() as u64,
                avg_first_reply_secs: mean(&first),
                avg_handling_secs: mean(&handling),
                resolved: outcome(HandoffOutcome::Resolved),
                unresolved: outcome(HandoffOutcome::Unresolved),
            }
        })
        .collect()
}

/// What the console hears live: something changed in the queue or in a conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HandoffEvent {
    /// An entry was added, claimed, transferred or closed.
    Queue { handoff_id: i64 },
    /// A new transcript line in a conversation under handoff.
    Message {
        handoff_id: i64,
        role: String,
        text: String,
    },
}

/// In-process fan-out of [`HandoffEvent`]s to open consoles. A console that falls behind
/// misses events and reloads (the page refetches on every event anyway).
#[derive(Clone)]
pub struct Events {
    tx: tokio::sync::broadcast::Sender<HandoffEvent>,
}

impl Default for Events {
    fn default() -> Self {
        Self {
            tx: tokio::sync::broadcast::channel(256).0,
        }
    }
}

impl Events {
    pub fn publish(&self, e: HandoffEvent) {
        // No console listening is fine.
        let _ = self.tx.send(e);
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<HandoffEvent> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, priority: i32, minute: u32) -> HandoffEntry {
        HandoffEntry {
            id,
            channel: Channel::Web,
            user: format!("u{id}"),
            customer_id: id,
            reason: "requested".into(),
            summary: String::new(),
            priority,
            status: HandoffStatus::Waiting,
            agent_id: None,
            created_at: format!("2026-11-25T08:{minute:02}:00Z").parse().unwrap(),
            claimed_at: None,
            closed_at: None,
            first_reply_at: None,
            sla_apology_at: None,
            outcome: None,
        }
    }

    #[test]
    fn complaints_and_priority_members_go_first_then_the_longest_waiting() {
        assert_eq!(priority("complaint", false), 2);
        assert_eq!(priority("requested", true), 1);
        assert!(priority("complaint", false) > priority("requested", true));
        let mut q = vec![
            entry(1, 0, 0),
            entry(2, 1, 5),
            entry(3, 2, 9),
            entry(4, 0, 1),
        ];
        sort_queue(&mut q);
        let ids: Vec<i64> = q.iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![3, 2, 1, 4]);
    }

    #[test]
    fn the_wait_estimate_uses_recent_handling_or_the_default() {
        let d = Duration::from_secs(240);
        assert_eq!(estimate_wait(2, &[], d), Duration::from_secs(480));
        assert_eq!(estimate_wait(1, &[60, 180], d), Duration::from_secs(120));
        assert_eq!(estimate_wait(3, &[60, 180], d), Duration::from_secs(360));
    }

    #[test]
    fn stats_count_only_the_agents_own_closed_conversations() {
        let mut a = entry(1, 0, 0);
        a.status = HandoffStatus::Closed;
        a.agent_id = Some(7);
        a.claimed_at = Some(a.created_at + chrono::Duration::seconds(30));
        a.first_reply_at = Some(a.created_at + chrono::Duration::seconds(50));
        a.closed_at = Some(a.created_at + chrono::Duration::seconds(330));
        a.outcome = Some("resolved".into());
        let mut b = entry(2, 0, 0);
        b.status = HandoffStatus::Claimed;
        b.agent_id = Some(7);
        let mut c = entry(3, 0, 0);
        c.status = HandoffStatus::Closed;
        c.agent_id = Some(8);
        let s = agent_stats(&[(7, "mei".into(), "Mei".into())], &[a, b, c]);
        assert_eq!(s[0].handled, 1);
        assert_eq!(s[0].holding, 1);
        assert_eq!(s[0].avg_first_reply_secs, Some(50));
        assert_eq!(s[0].avg_handling_secs, Some(300));
        assert_eq!(s[0].resolved, 1);
    }
}
