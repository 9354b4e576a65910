//! The figures of a simulation run: success per journey type and language, messages to a
//! placed order, wrong orders; and the failures with their transcripts.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::customer::{JourneyRun, Line, SimError};
use super::journey::{Goal, Journey};

/// One journey's result in a run.
pub struct Played<'a> {
    /// `dev`, `held_out`, or empty.
    pub set: String,
    pub journey: &'a Journey,
    pub run: Result<JourneyRun, SimError>,
}

impl Played<'_> {
    pub fn reached(&self) -> bool {
        self.run.as_ref().is_ok_and(|r| r.outcome.reached)
    }

    pub fn wrong(&self) -> bool {
        self.run.as_ref().is_ok_and(|r| r.outcome.wrong)
    }

    pub fn why(&self) -> String {
        match &self.run {
            Ok(r) => r.outcome.why.clone(),
            Err(e) => format!("not played: {e}"),
        }
    }

    /// The conversation, one line per message, for a failure report.
    pub fn transcript(&self) -> String {
        let Ok(r) = &self.run else {
            return String::new();
        };
        r.transcript
            .iter()
            .map(|l| match l {
                Line::Customer(t) => format!("  > {t}"),
                Line::Bot(t) => format!("  < {}", t.replace('\n', " / ")),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[derive(Default, Clone, Copy)]
struct Tally {
    n: usize,
    ok: usize,
}

impl Tally {
    fn add(&mut self, ok: bool) {
        self.n += 1;
        self.ok += usize::from(ok);
    }

    fn pct(self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            100.0 * self.ok as f64 / self.n as f64
        }
    }
}

/// Summary figures of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub journeys: usize,
    pub reached: usize,
    pub wrong: usize,
    /// Mean messages of the order journeys that placed their order.
    pub mean_messages_to_order: f64,
}

pub fn summary(played: &[Played<'_>]) -> Summary {
    summary_of(&played.iter().collect::<Vec<_>>())
}

/// A Markdown report: per set, tables by flow x language and by failure class.
pub fn markdown(played: &[Played<'_>]) -> String {
    let mut out = String::new();
    let mut sets: Vec<&str> = played.iter().map(|p| p.set.as_str()).collect();
    sets.sort();
    sets.dedup();
    for set in sets {
        let these: Vec<&Played> = played.iter().filter(|p| p.set == set).collect();
        let name = if set.is_empty() { "journeys" } else { set };
        let mut by_flow: BTreeMap<(&str, &str), Tally> = BTreeMap::new();
        let mut by_lang: BTreeMap<&str, Tally> = BTreeMap::new();
        let mut by_class: BTreeMap<&str, Tally> = BTreeMap::new();
        for p in &these {
            let lang = p.journey.lang.code();
            by_flow
                .entry((p.journey.flow.as_str(), lang))
                .or_default()
                .add(p.reached());
            by_lang.entry(lang).or_default().add(p.reached());
            for c in &p.journey.classes {
                by_class.entry(c.as_str()).or_default().add(p.reached());
            }
        }
        let s = summary_of(&these);
        let _ = writeln!(
            out,
            "### {name}: {}/{} reached ({:.1}%), {} wrong, {:.2} messages to a placed order\n",
            s.reached,
            s.journeys,
            100.0 * s.reached as f64 / s.journeys.max(1) as f64,
            s.wrong,
            s.mean_messages_to_order
        );
        let _ = writeln!(out, "| flow | zh | en |\n|---|---|---|");
        let mut flows: Vec<&str> = by_flow.keys().map(|(f, _)| *f).collect();
        flows.dedup();
        for f in flows {
            let cell = |l: &str| {
                by_flow
                    .get(&(f, l))
                    .map(|t| format!("{}/{} ({:.0}%)", t.ok, t.n, t.pct()))
                    .unwrap_or_else(|| "-".into())
            };
            let _ = writeln!(out, "| {f} | {} | {} |", cell("zh"), cell("en"));
        }
        let lang = |l: &str| {
            by_lang
                .get(l)
                .map(|t| format!("{}/{} ({:.1}%)", t.ok, t.n, t.pct()))
                .unwrap_or_else(|| "-".into())
        };
        let _ = writeln!(out, "| **all** | {} | {} |\n", lang("zh"), lang("en"));
        let _ = writeln!(out, "| class | reached |\n|---|---|");
        for (c, t) in &by_class {
            let _ = writeln!(out, "| {c} | {}/{} ({:.0}%) |", t.ok, t.n, t.pct());
        }
        out.push('\n');
    }
    out
}

fn summary_of(played: &[&Played<'_>]) -> Summary {
    let orders: Vec<usize> = played
        .iter()
        .filter(|p| matches!(p.journey.goal, Goal::Order(_)) && p.reached())
        .filter_map(|p| p.run.as_ref().ok().map(|r| r.messages))
        .collect();
    Summary {
        journeys: played.len(),
        reached: played.iter().filter(|p| p.reached()).count(),
        wrong: played.iter().filter(|p| p.wrong()).count(),
        mean_messages_to_order: if orders.is_empty() {
            0.0
        } else {
            orders.iter().sum::<usize>() as f64 / orders.len() as f64
        },
    }
}

/// The failures, each with why and its conversation.
pub fn failures(played: &[Played<'_>]) -> String {
    let mut out = String::new();
    for p in played.iter().filter(|p| !p.reached()) {
        let _ = writeln!(
            out,
            "{} [{}{}]: {}\n{}",
            p.journey.id,
            p.set,
            if p.wrong() { ", WRONG" } else { "" },
            p.why(),
            p.transcript()
        );
    }
    out
}
