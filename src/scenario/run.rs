//! Runs a scenario on the simulator the way the playground's runner replays a run (actions at tick T are
//! applied once the simulator has reached T, after that tick's work), resolves the messages its `drop`,
//! `duplicate` and `deliver` lines mean, and checks its claims. The concrete actions it applied are the
//! scenario's run record: the playground replays them and gets the same run.

use crate::check::{check_with, CheckOptions, CheckOutcome};
use crate::paxos::{Event, NodeId};
use crate::sim::{Sim, UserAction};

use super::claim::{describe_violations, Seen, LINEARIZABLE};
use super::parse::{Action, MessageSelector, Scenario, ScenarioError, Verdict};

/// What running a scenario gave.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Every action applied, at its tick: what the playground replays.
    pub actions: Vec<(u64, UserAction)>,
    /// Claims and the verdict that did not hold.
    pub failures: Vec<Failure>,
    /// The invariants the checker reported, in order (one entry per invariant).
    pub violations: Vec<String>,
    /// The trace hash at the end (same natively and in Wasm).
    pub trace_hash: u64,
}

/// A claim that did not hold: where it was written, and what was seen instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub line: Option<usize>,
    pub tick: u64,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}, tick {}: {}", self.tick, self.message),
            None => write!(f, "end (tick {}): {}", self.tick, self.message),
        }
    }
}

/// Runs `scenario` to its end. An action that cannot happen (no such message in flight, a client operation
/// while the previous one is unanswered) is an error naming its line; claims that fail are listed in the outcome.
pub fn run(scenario: &Scenario) -> Result<Outcome, ScenarioError> {
    run_observed(scenario, &mut |_| {})
}

/// [`run`], calling `observe` at every tick once its actions are applied (`synod scenario check --events`).
pub fn run_observed(scenario: &Scenario, observe: &mut dyn FnMut(&Sim)) -> Result<Outcome, ScenarioError> {
    let mut sim = Sim::new(scenario.config(), scenario.seed, Vec::new(), false).map_err(|message| ScenarioError {
        line: None,
        field: "scenario".into(),
        message,
    })?;
    let mut outcome = Outcome { actions: Vec::new(), failures: Vec::new(), violations: Vec::new(), trace_hash: 0 };
    let mut seen = Seen::default();
    if let Some(faults) = &scenario.faults {
        let faults = faults.apply(&sim.config().faults);
        apply(&mut sim, &mut outcome, UserAction::SetFaults { faults });
    }
    if scenario.retries {
        apply(&mut sim, &mut outcome, UserAction::SetRetries { on: true });
    }
    let (mut next_action, mut next_claim) = (0, 0);
    loop {
        let now = sim.now();
        while let Some(timed) = scenario.timeline.get(next_action).filter(|timed| timed.tick == now) {
            next_action += 1;
            for action in resolve(&sim, &timed.item).map_err(|message| ScenarioError {
                line: Some(timed.line),
                field: format!("at {now}"),
                message,
            })? {
                apply(&mut sim, &mut outcome, action);
            }
        }
        observe(&sim);
        for (_, node, event) in sim.recent_events().filter(|(tick, _, _)| *tick == now) {
            if let Event::SnapshotInstalled { .. } = event {
                seen.snapshots_installed.insert(*node);
            }
        }
        while let Some(timed) = scenario.expectations.get(next_claim).filter(|timed| timed.tick == now) {
            next_claim += 1;
            if let Err(message) = timed.item.check(&sim, &seen) {
                outcome.failures.push(Failure { line: Some(timed.line), tick: now, message });
            }
        }
        for violation in sim.violations() {
            if !outcome.violations.contains(&violation.invariant) {
                outcome.violations.push(violation.invariant.clone());
            }
        }
        if now >= scenario.end {
            break;
        }
        sim.tick();
    }
    verdict(scenario, &sim, &mut outcome);
    outcome.trace_hash = sim.trace().hash();
    Ok(outcome)
}

fn apply(sim: &mut Sim, outcome: &mut Outcome, action: UserAction) {
    outcome.actions.push((sim.now(), action.clone()));
    sim.apply_action(action);
}

/// The concrete actions a scenario line means now.
fn resolve(sim: &Sim, action: &Action) -> Result<Vec<UserAction>, String> {
    let messages = |selector: &MessageSelector| -> Result<Vec<u64>, String> {
        // `in_flight` is in arrival order: (deliver_at, id).
        let matching: Vec<u64> = sim
            .network()
            .in_flight()
            .filter(|m| selector.id.is_none_or(|id| m.id == id))
            .filter(|m| selector.kind.is_none_or(|kind| m.kind == kind))
            .filter(|m| selector.from.is_none_or(|from| m.from == from))
            .filter(|m| selector.to.is_none_or(|to| m.to == to))
            .map(|m| m.id)
            .collect();
        if matching.is_empty() {
            let in_flight: Vec<String> = sim
                .network()
                .in_flight()
                .map(|m| format!("#{} {} {}->{} (arrives at tick {})", m.id, m.kind.name(), m.from, m.to, m.deliver_at))
                .collect();
            return Err(format!(
                "no {} is in flight at tick {}; in flight: {}",
                describe(selector),
                sim.now(),
                if in_flight.is_empty() { "nothing".into() } else { in_flight.join(", ") }
            ));
        }
        let take = if selector.all { matching.len() } else { 1 };
        Ok(matching.into_iter().take(take).collect())
    };
    Ok(match action {
        Action::Do(action) => {
            if let UserAction::ClientOp { .. } = action {
                if sim.visitor_busy() {
                    return Err("the previous client operation is still unanswered (the playground's client sends \
                                one at a time); give it time or send it to a node that can answer"
                        .into());
                }
            }
            if let UserAction::Restart { node } = action {
                if sim.node(*node).is_some() {
                    return Err(format!("node {node} is up; only a killed node restarts"));
                }
            }
            vec![action.clone()]
        }
        Action::Drop(selector) => messages(selector)?.into_iter().map(|id| UserAction::DropMessage { id }).collect(),
        Action::Duplicate(selector) => {
            messages(selector)?.into_iter().map(|id| UserAction::DuplicateMessage { id }).collect()
        }
        Action::Deliver(selector) => messages(selector)?.into_iter().map(|id| UserAction::DeliverNow { id }).collect(),
        Action::Faults(faults) => vec![UserAction::SetFaults { faults: faults.apply(&sim.config().faults) }],
    })
}

fn describe(selector: &MessageSelector) -> String {
    let end = |end: Option<NodeId>| end.map_or("*".to_string(), |id| id.to_string());
    let kind = selector.kind.map_or("message", |kind| kind.name());
    let id = selector.id.map_or(String::new(), |id| format!("#{id} "));
    format!("{id}{kind} {}->{}", end(selector.from), end(selector.to))
}

/// The checker's verdict at the end: the safety invariants so far, and the clients' history (operations still
/// pending count as indeterminate).
fn verdict(scenario: &Scenario, sim: &Sim, outcome: &mut Outcome) {
    let quick = CheckOptions { shrink_explanation: false, ..CheckOptions::default() };
    let linearizable = match check_with(sim.history(), &quick) {
        CheckOutcome::Linearizable => Ok(()),
        CheckOutcome::NotLinearizable { .. } => Err("the clients' history is not linearizable".to_string()),
        CheckOutcome::Unknown { key, steps } => {
            Err(format!("linearizability undecided after {steps} steps on key {key:?}"))
        }
    };
    if linearizable.is_err() && !outcome.violations.iter().any(|v| v == LINEARIZABLE) {
        outcome.violations.push(LINEARIZABLE.into());
    }
    let end = scenario.end;
    let failure = |message: String| Failure { line: None, tick: end, message };
    match &scenario.verdict {
        Verdict::Green => {
            if !sim.violations().is_empty() {
                outcome.failures.push(failure(format!("expected the checker green; {}", describe_violations(sim))));
            }
            if let Err(message) = linearizable {
                outcome.failures.push(failure(format!("expected the checker green; {message}")));
            }
        }
        Verdict::Violation(name) => {
            if !outcome.violations.contains(name) {
                outcome.failures.push(failure(format!(
                    "expected violation {name}; {}",
                    if outcome.violations.is_empty() {
                        "the checker stayed green".to_string()
                    } else {
                        format!("reported: {}", outcome.violations.join(", "))
                    }
                )));
            }
        }
    }
}
