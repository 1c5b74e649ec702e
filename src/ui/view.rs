//! The view model: plain data the components render, built from the simulator once per animation frame
//! (`from_sim`). Nothing here knows about Yew; nothing in the components knows about the simulator.
//!
//! Logs can hold thousands of entries: only the rows a node's log panel shows (its `LogWindow`) are built.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::check::invariants::describe_value;
use crate::paxos::{Ballot, MessageKind, NodeId, RoleKind, SlotState};
use crate::sim::{AttemptOutcome, FieldChange, KvNode, Machine, Sim, VisitorOp, VisitorOutcome};
use crate::storage::Storage;

/// Rows a log panel shows at once (its height in `style.css`: 12 × 22 px).
pub const LOG_ROWS_VISIBLE: usize = 12;
/// Rows built per log panel: those in view, plus one partly shown while scrolled between rows.
pub const LOG_ROWS_BUILT: usize = LOG_ROWS_VISIBLE + 1;
/// Messages drawn on the ring at most (a flooded network stays cheap to draw).
pub const DOTS_MAX: usize = 300;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleView {
    Leader,
    Follower,
    Candidate,
    Down,
}

impl RoleView {
    pub fn name(self) -> &'static str {
        match self {
            RoleView::Leader => "leader",
            RoleView::Follower => "follower",
            RoleView::Candidate => "candidate",
            RoleView::Down => "down",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRow {
    pub slot: u64,
    pub ballot: String,
    pub command: String,
    pub noop: bool,
    /// "accepted", "chosen", "applied" or "compacted".
    pub state: &'static str,
}

/// What the process holds in memory (empty while it is down).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryView {
    pub promised: String,
    pub log_entries: usize,
    pub applied_upto: u64,
    pub keys: usize,
    pub held_messages: usize,
}

/// What its disk holds: durable (synced) state, and writes issued but not yet synced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskView {
    pub promised: String,
    pub entries: usize,
    pub chosen_upto: u64,
    pub snapshot_upto: Option<u64>,
    pub unsynced_batches: usize,
    /// Where the disk is: "simulated" (the simulator's memory) or "IndexedDB" (the browser's disk).
    pub source: &'static str,
    /// The newest entry it holds, described.
    pub last_entry: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeView {
    pub id: NodeId,
    pub role: RoleView,
    pub paused: bool,
    pub ballot: String,
    pub promised: String,
    pub first_unchosen: u64,
    pub applied_upto: u64,
    pub leader: Option<NodeId>,
    /// Highest slot + 1 in the log (rows run from `log_start` to `log_end`, newest first on screen).
    pub log_start: u64,
    pub log_end: u64,
    /// The visible rows only, newest first.
    pub rows: Rc<[LogRow]>,
    /// The slot the first visible row shows.
    pub window_top: u64,
    pub kv: Rc<[(String, String)]>,
    pub memory: Option<MemoryView>,
    pub disk: DiskView,
    /// What the last event changed in this node, field by field (while stepping; empty otherwise).
    pub changes: Rc<[FieldChange]>,
    /// Whether it votes in the configuration in effect (issue 20), and whether it was removed and shut down.
    pub member: bool,
    pub retired: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageView {
    pub id: u64,
    pub from: NodeId,
    pub to: NodeId,
    pub kind: MessageKind,
    pub sent_at: u64,
    pub deliver_at: u64,
}

impl MessageView {
    /// How far along its way the message is, 0..=1, at fractional time `now`.
    pub fn progress(&self, now: f64) -> f64 {
        let span = (self.deliver_at.saturating_sub(self.sent_at)).max(1) as f64;
        ((now - self.sent_at as f64) / span).clamp(0.0, 1.0)
    }

    pub fn describe(&self) -> String {
        format!("{} {} → {}", self.kind.name(), self.from, self.to)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientOpView {
    pub index: usize,
    pub command: String,
    pub invoked_at: u64,
    /// The way it went: "→ node 2 → leader 5".
    pub path: String,
    pub outcome: String,
    /// "waiting", "ok", "rejected" or "timed-out" (a CSS class too).
    pub state: &'static str,
    /// Retrying: the tick it gives up at.
    pub deadline: Option<u64>,
    /// Retrying, between attempts: the tick the next one goes.
    pub next_attempt_at: Option<u64>,
    /// Each attempt, "node 2: rejected: no leader is known yet (tick 3)", when there was more than one or the
    /// operation retries.
    pub attempts: Vec<String>,
    /// Said when the session table answered a retry without applying it again.
    pub note: Option<String>,
}

impl ClientOpView {
    fn new(index: usize, op: &VisitorOp) -> ClientOpView {
        let mut path = format!("→ node {}", op.target);
        for (hop, node) in op.forwards.iter().enumerate() {
            // A follower forwards to the node it believes leads.
            let role = if hop + 1 == op.forwards.len() { "leader" } else { "node" };
            path.push_str(&format!(" → {role} {node}"));
        }
        let (outcome, state) = match &op.outcome {
            VisitorOutcome::Waiting => ("waiting for a reply…".into(), "waiting"),
            VisitorOutcome::Answered { at, slot, output } => (format!("slot {slot}: {output} (tick {at})"), "ok"),
            VisitorOutcome::Rejected { rejection, .. } => (format!("rejected: {rejection}"), "rejected"),
            VisitorOutcome::TimedOut { at } if op.deadline.is_some() => {
                (format!("gave up at tick {at}: outcome unknown"), "timed-out")
            }
            VisitorOutcome::TimedOut { at } => (format!("timed out at tick {at}: outcome unknown"), "timed-out"),
        };
        let attempts = if op.attempts.len() > 1 || op.deadline.is_some() {
            op.attempts
                .iter()
                .map(|attempt| format!("node {}: {}", attempt.node, attempt_outcome(&attempt.outcome)))
                .collect()
        } else {
            Vec::new()
        };
        let note = op.answered_by_session_table().map(|(first, answered)| {
            format!("Applied once, in slot {first}; the retry chosen in slot {answered} was answered from the session table, not applied again.")
        });
        ClientOpView {
            index,
            command: op.command.to_string(),
            invoked_at: op.invoked_at,
            path,
            outcome,
            state,
            deadline: op.deadline,
            next_attempt_at: op.next_attempt_at,
            attempts,
            note,
        }
    }

    pub fn done(&self) -> bool {
        self.state != "waiting"
    }
}

/// "no reply (tick 46)": how an attempt went, and when. (One `format!` for most: each costs the bundle code.)
fn attempt_outcome(outcome: &AttemptOutcome) -> String {
    let (what, at) = match outcome {
        AttemptOutcome::Waiting => return "waiting…".into(),
        AttemptOutcome::Answered { at } => ("answered".into(), at),
        AttemptOutcome::Rejected { at, rejection } => (rejection.to_string(), at),
        AttemptOutcome::Refused { at } => ("down, refused".into(), at),
        AttemptOutcome::TimedOut { at } => ("no reply".into(), at),
        AttemptOutcome::Superseded { at, by } => (format!("node {by} answered first"), at),
    };
    format!("{what} (tick {at})")
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckerView {
    pub ok: bool,
    pub summary: String,
    /// One line per violation, for people.
    pub explanation: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClusterView {
    pub now: u64,
    pub seed: u64,
    pub nodes: Vec<NodeView>,
    pub messages: Rc<[MessageView]>,
    pub messages_in_flight: usize,
    pub cut_links: Vec<(NodeId, NodeId)>,
    pub visitor_ops: Rc<[ClientOpView]>,
    pub visitor_busy: bool,
    /// Whether the visitor's client retries by itself.
    pub visitor_retries: bool,
    /// Whether the leaders hold read leases in this run (a `lease` read otherwise goes through the log).
    pub read_leases: bool,
    pub checker: CheckerView,
    pub trace_hash: u64,
    pub delivered: u64,
}

/// Per node, the slot at the top of its log panel; `None` follows the newest entry.
pub type LogWindows = BTreeMap<NodeId, u64>;

fn ballot(ballot: Ballot) -> String {
    if ballot.is_zero() {
        "—".into()
    } else {
        ballot.to_string()
    }
}

/// Builds the view of `sim`. `windows` says which log rows each node panel shows.
pub fn from_sim(sim: &Sim, windows: &LogWindows) -> ClusterView {
    let members = sim.members();
    let nodes = sim.machines().iter().enumerate().map(|(index, machine)| {
        let id = index as NodeId + 1;
        node_view(id, machine, members.contains(id), windows)
    });
    let network = sim.network();
    let messages: Vec<MessageView> = network
        .in_flight()
        .take(DOTS_MAX)
        .map(|m| MessageView {
            id: m.id,
            from: m.from,
            to: m.to,
            kind: m.kind,
            sent_at: m.sent_at,
            deliver_at: m.deliver_at,
        })
        .collect();
    let visitor_ops: Vec<ClientOpView> =
        sim.visitor_ops().iter().enumerate().map(|(index, op)| ClientOpView::new(index, op)).collect();
    ClusterView {
        now: sim.now(),
        seed: sim.seed(),
        nodes: nodes.collect(),
        messages_in_flight: network.len(),
        messages: Rc::from(messages),
        cut_links: network.cut_links().copied().collect(),
        visitor_ops: Rc::from(visitor_ops),
        visitor_busy: sim.visitor_busy(),
        visitor_retries: sim.visitor_retries(),
        read_leases: sim.config().lease_ticks() > 0,
        checker: checker_view(sim),
        trace_hash: sim.trace().hash(),
        delivered: sim.messages_delivered(),
    }
}

/// One node's card: its memory and log if it runs, else what its disk would reload. `member`: whether the
/// configuration in effect counts it.
fn node_view(id: NodeId, machine: &Machine, member: bool, windows: &LogWindows) -> NodeView {
    let disk = disk_view(machine);
    let Some(node) = &machine.node else { return down_node_view(id, machine, member, disk) };
    let log_start = node.log().start();
    let log_end = node.log().end().max(log_start);
    let newest = log_end.saturating_sub(1);
    let top = windows.get(&id).map_or(newest, |top| (*top).min(newest)).max(log_start);
    let kv: Vec<(String, String)> =
        node.machine().data.iter().map(|(key, value)| (key.clone(), value.clone())).collect();
    NodeView {
        id,
        role: match node.role() {
            RoleKind::Leader => RoleView::Leader,
            RoleKind::Follower => RoleView::Follower,
            RoleKind::Candidate => RoleView::Candidate,
        },
        paused: machine.paused,
        ballot: node.own_ballot().map_or("—".into(), ballot),
        promised: ballot(node.promised()),
        first_unchosen: node.first_unchosen(),
        applied_upto: node.applied_upto(),
        leader: node.leader(),
        log_start,
        log_end,
        rows: Rc::from(log_rows(node, top)),
        window_top: top,
        memory: Some(MemoryView {
            promised: ballot(node.promised()),
            log_entries: node.log().len(),
            applied_upto: node.applied_upto(),
            keys: kv.len(),
            held_messages: node.held_messages(),
        }),
        kv: Rc::from(kv),
        disk,
        changes: Rc::from(Vec::new()),
        member,
        retired: machine.retired,
    }
}

/// A node that is down: what its disk would reload, read only.
fn down_node_view(id: NodeId, machine: &Machine, member: bool, disk: DiskView) -> NodeView {
    let durable = machine.storage.durable();
    let log_end = durable.entries.keys().next_back().map_or(durable.log_start(), |slot| slot + 1);
    NodeView {
        id,
        role: RoleView::Down,
        paused: machine.paused,
        ballot: "—".into(),
        promised: ballot(durable.promised),
        first_unchosen: durable.chosen_upto,
        applied_upto: 0,
        leader: None,
        log_start: durable.log_start(),
        log_end,
        rows: Rc::from(Vec::new()),
        window_top: log_end.saturating_sub(1),
        kv: Rc::from(Vec::new()),
        memory: None,
        disk,
        changes: Rc::from(Vec::new()),
        member,
        retired: machine.retired,
    }
}

fn disk_view(machine: &Machine) -> DiskView {
    let durable = machine.storage.durable();
    DiskView {
        promised: ballot(durable.promised),
        entries: durable.entries.len(),
        chosen_upto: durable.chosen_upto,
        snapshot_upto: durable.snapshot.as_ref().map(|snapshot| snapshot.upto),
        unsynced_batches: machine.storage.pending().count(),
        source: "simulated",
        last_entry: durable
            .entries
            .iter()
            .next_back()
            .map(|(slot, entry)| format!("slot {slot}: {}", describe_value(&entry.value))),
    }
}

/// The rows of a node's log window: from slot `top` down, at most `LOG_ROWS_BUILT` of them.
fn log_rows(node: &KvNode, top: u64) -> Vec<LogRow> {
    let (log_start, log_end) = (node.log().start(), node.log().end());
    let mut rows = Vec::with_capacity(LOG_ROWS_BUILT);
    let mut slot = top;
    while rows.len() < LOG_ROWS_BUILT && slot >= log_start && log_end > log_start {
        let (entry, chosen) = match node.get(slot) {
            SlotState::Accepted(entry) => (Some(entry), false),
            SlotState::Chosen(entry) => (Some(entry), true),
            SlotState::Empty | SlotState::Compacted => (None, false),
        };
        rows.push(match entry {
            Some(entry) => LogRow {
                slot,
                ballot: entry.ballot.to_string(),
                command: describe_value(&entry.value),
                noop: entry.value.is_noop(),
                state: if slot < node.applied_upto() {
                    "applied"
                } else if chosen {
                    "chosen"
                } else {
                    "accepted"
                },
            },
            None => LogRow { slot, ballot: "—".into(), command: "(empty)".into(), noop: false, state: "empty" },
        });
        if slot == 0 {
            break;
        }
        slot -= 1;
    }
    rows
}

/// The checker's verdict so far, with the first violations explained.
fn checker_view(sim: &Sim) -> CheckerView {
    let violations = sim.violations();
    let Some(first) = violations.first() else {
        return CheckerView {
            ok: true,
            summary: "Safe: no two nodes disagree, histories linearizable so far".into(),
            explanation: Vec::new(),
        };
    };
    let mut explanation = vec![first.to_string()];
    explanation.extend(violations.iter().skip(1).take(3).map(|v| v.to_string()));
    CheckerView {
        ok: false,
        summary: format!(
            "Violation: {}{}",
            first.invariant,
            first.slot.map_or(String::new(), |slot| format!(" at slot {slot}"))
        ),
        explanation,
    }
}
