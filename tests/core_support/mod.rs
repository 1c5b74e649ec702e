//! A tiny in-process router for scripted multi-node tests. Every message is serialised and deserialised on
//! the way (a field that cannot cross a real network fails here first), every sent message is checked
//! against the sender's durable state (persist-before-send), and storage can be made to lag so that a crash
//! loses unacknowledged writes.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use synod::kv::{KvCommand, KvOutput, KvStore};
use synod::paxos::{
    Applied, Config, DurableStateOf, EnvelopeOf, Event, MessageKind, Node, NodeId, ProposeOutcome, Reply, Request,
    RoleKind, Slot, WriteBatch,
};

pub type KvNode = Node<KvStore>;

pub struct Cluster {
    pub configs: BTreeMap<NodeId, Config>,
    pub nodes: BTreeMap<NodeId, Option<KvNode>>,
    pub disks: BTreeMap<NodeId, DurableStateOf<KvStore>>,
    /// Writes issued but not yet durable, per node.
    pub unsynced: BTreeMap<NodeId, VecDeque<WriteBatch<KvCommand, KvStore>>>,
    /// When true, every write is durable as soon as it is issued.
    pub sync_immediately: bool,
    pub network: VecDeque<EnvelopeOf<KvStore>>,
    /// Directed links that drop everything.
    pub cut: BTreeSet<(NodeId, NodeId)>,
    /// Directed links that drop only one kind of message.
    pub blocked: BTreeSet<(NodeId, NodeId, MessageKind)>,
    /// Directed links whose messages of one kind are held back in `parked` rather than delivered.
    pub holding: BTreeSet<(NodeId, NodeId, MessageKind)>,
    /// Messages held back by `holding`, oldest first, until `release_parked`.
    pub parked: Vec<EnvelopeOf<KvStore>>,
    /// Nodes whose clocks stand still: `tick` passes them by (they still receive messages).
    pub frozen: BTreeSet<NodeId>,
    /// Nodes whose writes stay volatile until `sync` is called for them, whatever `sync_immediately` says.
    pub lagging: BTreeSet<NodeId>,
    pub replies: Vec<Reply<KvOutput>>,
    pub applied: BTreeMap<NodeId, Vec<Applied<KvCommand, KvOutput>>>,
    pub events: Vec<(NodeId, Event)>,
    /// Messages that left a node before the state they reveal was durable.
    pub persist_violations: Vec<String>,
    pub delivered: BTreeMap<MessageKind, u64>,
}

impl Cluster {
    pub fn new(nodes: usize, tweak: impl Fn(&mut Config)) -> Cluster {
        let mut cluster = Cluster {
            configs: BTreeMap::new(),
            nodes: BTreeMap::new(),
            disks: BTreeMap::new(),
            unsynced: BTreeMap::new(),
            sync_immediately: true,
            network: VecDeque::new(),
            cut: BTreeSet::new(),
            blocked: BTreeSet::new(),
            holding: BTreeSet::new(),
            parked: Vec::new(),
            lagging: BTreeSet::new(),
            frozen: BTreeSet::new(),
            replies: Vec::new(),
            applied: BTreeMap::new(),
            events: Vec::new(),
            persist_violations: Vec::new(),
            delivered: BTreeMap::new(),
        };
        for id in 1..=nodes as NodeId {
            let mut config = Config::cluster(id, nodes);
            tweak(&mut config);
            cluster.nodes.insert(id, Some(Node::new(config.clone()).expect("valid config")));
            cluster.configs.insert(id, config);
            cluster.disks.insert(id, DurableStateOf::<KvStore>::default());
            cluster.unsynced.insert(id, VecDeque::new());
            cluster.applied.insert(id, Vec::new());
        }
        cluster
    }

    pub fn node(&self, id: NodeId) -> &KvNode {
        self.nodes[&id].as_ref().unwrap_or_else(|| panic!("node {id} is down"))
    }

    pub fn node_mut(&mut self, id: NodeId) -> &mut KvNode {
        self.nodes.get_mut(&id).unwrap().as_mut().unwrap_or_else(|| panic!("node {id} is down"))
    }

    pub fn live(&self) -> Vec<NodeId> {
        self.nodes.iter().filter(|(_, node)| node.is_some()).map(|(id, _)| *id).collect()
    }

    /// Collects a node's effects: writes go to its disk (now, or later when `sync_immediately` is off),
    /// messages to the network after the persist-before-send check.
    pub fn flush(&mut self, id: NodeId) {
        for _ in 0..100 {
            let Some(node) = self.nodes.get_mut(&id).unwrap().as_mut() else { return };
            let ready = node.ready();
            if ready.is_empty() {
                return;
            }
            let disk = &self.disks[&id];
            for envelope in &ready.messages {
                if let Err(why) = disk.backs(&envelope.message) {
                    self.persist_violations.push(format!("node {id}: {why}"));
                }
                let json = serde_json::to_string(envelope).expect("messages serialise");
                self.network.push_back(serde_json::from_str(&json).expect("messages deserialise"));
            }
            self.replies.extend(ready.replies);
            self.applied.get_mut(&id).unwrap().extend(ready.applied);
            self.events.extend(ready.events.into_iter().map(|event| (id, event)));
            if let Some(batch) = ready.write {
                self.unsynced.get_mut(&id).unwrap().push_back(batch);
                if self.sync_immediately && !self.lagging.contains(&id) {
                    self.sync(id);
                }
            }
        }
        panic!("node {id} never runs out of effects");
    }

    /// Makes every write node `id` issued durable and tells the node.
    pub fn sync(&mut self, id: NodeId) {
        let mut newest = None;
        while let Some(batch) = self.unsynced.get_mut(&id).unwrap().pop_front() {
            self.disks.get_mut(&id).unwrap().apply_batch(&batch);
            newest = Some(batch.id);
        }
        if let (Some(batch), Some(node)) = (newest, self.nodes.get_mut(&id).unwrap().as_mut()) {
            node.persisted(batch);
            self.flush(id); // Messages that waited for this write leave now.
        }
    }

    /// Delivers one message, or drops it if its link is cut or its receiver is down.
    pub fn deliver_one(&mut self) -> bool {
        let Some(envelope) = self.network.pop_front() else { return false };
        let (from, kind) = (envelope.from, envelope.message.kind());
        if self.cut.contains(&(from, envelope.to)) || self.blocked.contains(&(from, envelope.to, kind)) {
            return true;
        }
        if self.holding.contains(&(from, envelope.to, kind)) {
            self.parked.push(envelope);
            return true;
        }
        let to = envelope.to;
        *self.delivered.entry(envelope.message.kind()).or_default() += 1;
        if let Some(node) = self.nodes.get_mut(&to).unwrap().as_mut() {
            node.receive(envelope);
            self.flush(to);
        }
        true
    }

    /// Delivers messages, the new ones they cause included, until the network is quiet.
    pub fn deliver_all(&mut self) {
        for _ in 0..1_000_000 {
            if !self.deliver_one() {
                return;
            }
        }
        panic!("the network never goes quiet");
    }

    /// Delivers only what is in flight now (one network delay), not what it causes.
    pub fn deliver_round(&mut self) -> usize {
        let in_flight = self.network.len();
        for _ in 0..in_flight {
            self.deliver_one();
        }
        in_flight
    }

    pub fn tick(&mut self) {
        let ticking: Vec<NodeId> = self.live().into_iter().filter(|id| !self.frozen.contains(id)).collect();
        for id in ticking {
            self.node_mut(id).tick();
            self.flush(id);
        }
        self.deliver_all();
    }

    pub fn ticks(&mut self, count: usize) {
        for _ in 0..count {
            self.tick();
        }
    }

    /// Ticks until `done` holds, at most `limit` ticks.
    pub fn tick_until(&mut self, limit: usize, done: impl Fn(&Cluster) -> bool) {
        for _ in 0..limit {
            if done(self) {
                return;
            }
            self.tick();
        }
        assert!(done(self), "condition still false after {limit} ticks");
    }

    pub fn leaders(&self) -> Vec<NodeId> {
        self.live().into_iter().filter(|id| self.node(*id).role() == RoleKind::Leader).collect()
    }

    /// Ticks until exactly one leader leads and every live node knows it.
    pub fn elect(&mut self) -> NodeId {
        self.tick_until(200, |cluster| {
            let leaders = cluster.leaders();
            leaders.len() == 1 && cluster.live().iter().all(|id| cluster.node(*id).leader() == Some(leaders[0]))
        });
        self.leaders()[0]
    }

    pub fn propose(&mut self, at: NodeId, client: u64, seq: u64, command: KvCommand) -> ProposeOutcome {
        let outcome = self.node_mut(at).propose(Request { client, seq, command });
        self.flush(at);
        outcome
    }

    pub fn reply(&self, client: u64, seq: u64) -> Option<&Reply<KvOutput>> {
        self.replies.iter().find(|reply| reply.client == client && reply.seq == seq)
    }

    pub fn crash(&mut self, id: NodeId) {
        self.nodes.insert(id, None);
        self.unsynced.get_mut(&id).unwrap().clear(); // Unacknowledged writes are lost.
    }

    pub fn restart(&mut self, id: NodeId) {
        assert!(self.nodes[&id].is_none(), "node {id} is already up");
        let node = Node::recover(self.configs[&id].clone(), &self.disks[&id]).expect("recovers");
        self.nodes.insert(id, Some(node));
        self.applied.get_mut(&id).unwrap().clear();
        self.flush(id);
    }

    /// Cuts both directions between every node of `a` and every node of `b`.
    pub fn partition(&mut self, a: &[NodeId], b: &[NodeId]) {
        for x in a {
            for y in b {
                self.cut.insert((*x, *y));
                self.cut.insert((*y, *x));
            }
        }
    }

    pub fn heal(&mut self) {
        self.cut.clear();
        self.blocked.clear();
    }

    /// Puts every parked message back on the network (ahead of what is in flight) and stops holding new ones.
    pub fn release_parked(&mut self) {
        self.holding.clear();
        for envelope in self.parked.drain(..).rev() {
            self.network.push_front(envelope);
        }
    }

    /// Every request node `id` applied since it last started, as `(slot, command)`.
    pub fn applied_commands(&self, id: NodeId) -> Vec<(Slot, KvCommand)> {
        self.applied[&id].iter().map(|applied| (applied.slot, applied.request.command.clone())).collect()
    }

    pub fn kv(&self, id: NodeId) -> &KvStore {
        self.node(id).machine()
    }

    /// Asserts every pair of live nodes agrees on every slot both know as chosen.
    pub fn assert_chosen_agree(&self) {
        let live = self.live();
        for a in &live {
            for b in &live {
                let (na, nb) = (self.node(*a), self.node(*b));
                let start = na.log().start().max(nb.log().start());
                let end = na.first_unchosen().min(nb.first_unchosen());
                for slot in start..end {
                    let (ea, eb) = (na.log().get(slot).unwrap(), nb.log().get(slot).unwrap());
                    assert_eq!(ea.value(), eb.value(), "nodes {a} and {b} disagree on chosen slot {slot}");
                }
            }
        }
    }

    pub fn chosen_slots(&self, id: NodeId) -> Slot {
        self.node(id).first_unchosen()
    }
}

pub fn put(key: &str, value: &str) -> KvCommand {
    KvCommand::Put { key: key.into(), value: value.into() }
}

pub fn get(key: &str) -> KvCommand {
    KvCommand::Get { key: key.into() }
}

pub fn append(key: &str, value: &str) -> KvCommand {
    KvCommand::Append { key: key.into(), value: value.into() }
}

impl Cluster {
    /// Proposes without collecting effects, so several proposals share one flush (batching).
    pub fn propose_unflushed(&mut self, at: NodeId, client: u64, seq: u64, command: KvCommand) -> ProposeOutcome {
        self.node_mut(at).propose(Request { client, seq, command })
    }
}
