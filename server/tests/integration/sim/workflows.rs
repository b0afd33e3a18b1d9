//! Random workflows for the simulation: every node kind, branches and
//! parallel paths meeting at Joins, error edges, approvals with N-of-M and
//! deadlines, confidence gates, delays, reversible Http steps. Built as
//! nested chains so every graph is valid by construction (the test fails
//! loudly if validation disagrees).

use app::domain::graph::*;
use fastrand::Rng;

pub struct Gen<'a> {
    rng: &'a mut Rng,
    url: String,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    n: usize,
    /// Nodes left to place (keeps graphs small).
    budget: i32,
    /// The For each whose body is being built.
    frame: Option<String>,
}

/// A place a next node hangs from: (node id, port).
type Tail = (String, String);

pub fn workflow(rng: &mut Rng, url: &str) -> WorkflowDef {
    let budget = rng.i32(3..12);
    let mut g = Gen {
        rng,
        url: url.to_string(),
        nodes: vec![Node::new(
            "start",
            "Start",
            NodeKind::Start { input_schema: None },
        )],
        edges: vec![],
        n: 0,
        budget,
        frame: None,
    };
    let tail = g.chain(("start".into(), PORT_OUT.into()), 0);
    g.end(tail);
    let mut def = WorkflowDef {
        nodes: g.nodes,
        edges: g.edges,
        settings: Settings::default(),
    };
    if g.rng.u8(..4) == 0 {
        def.settings.confidence_threshold = Some(0.9);
    }
    def
}

impl Gen<'_> {
    fn id(&mut self, prefix: &str) -> String {
        self.n += 1;
        format!("{prefix}{}", self.n)
    }

    fn link(&mut self, (from, port): Tail, to: &str) {
        self.edges.push(Edge::new(&from, &port, to));
    }

    fn add(&mut self, tail: Tail, mut node: Node) -> String {
        node.parent = self.frame.clone();
        let id = node.id.clone();
        self.nodes.push(node);
        self.link(tail, &id);
        self.budget -= 1;
        id
    }

    fn end(&mut self, tail: Tail) {
        let id = self.id("end");
        self.add(tail, Node::new(&id, &id, NodeKind::End { output: None }));
    }

    /// A chain of elements from `tail`; returns where it ends.
    fn chain(&mut self, mut tail: Tail, depth: u32) -> Tail {
        // at least one element, so parallel arms never share an edge
        let len = self.rng.u32(1..4);
        for i in 0..len {
            if i > 0 && self.budget <= 0 {
                break;
            }
            tail = self.element(tail, depth);
        }
        tail
    }

    fn element(&mut self, tail: Tail, depth: u32) -> Tail {
        let pick = if depth >= 2 {
            self.rng.u8(0..5)
        } else {
            self.rng.u8(0..10)
        };
        match pick {
            0 => self.transform(tail),
            1 => self.http(tail),
            2 => self.delay(tail),
            3 | 4 => self.approval(tail),
            5 => self.branch(tail, depth),
            6 => self.parallel(tail, depth),
            7 => self.fail_branch(tail, depth),
            8 => self.for_each(tail, depth),
            _ => self.bounded_loop(tail, depth),
        }
    }

    fn transform(&mut self, tail: Tail) -> Tail {
        let id = self.id("t");
        let conf = match self.rng.u8(..4) {
            0 => ", confidence: 0.8".to_string(),
            1 => ", confidence: 0.95".to_string(),
            _ => String::new(),
        };
        let expr = format!("{{v: {}{conf}}}", self.rng.u8(..10));
        let id = self.add(
            tail,
            Node::new(&id, &id, NodeKind::Transform { expression: expr }),
        );
        (id, PORT_OUT.into())
    }

    fn request(&self, undo: bool) -> HttpRequest {
        HttpRequest {
            method: "POST".into(),
            url: if undo {
                format!("{}?undo", self.url)
            } else {
                self.url.clone()
            },
            headers: Default::default(),
            body: Some("{{ input | tojson }}".into()),
        }
    }

    fn http(&mut self, tail: Tail) -> Tail {
        let id = self.id("h");
        let mut node = Node::new(
            &id,
            &id,
            NodeKind::Http {
                request: self.request(false),
                response_schema: None,
            },
        );
        node.retry.transient = RetryPolicy {
            initial_delay_ms: 1_000,
            jitter: 0.0,
            ..RetryPolicy::attempts(self.rng.u32(1..4))
        };
        if self.rng.u8(..4) == 0 {
            // the receiver's slow answers outlast this
            node.timeout_ms = Some(60);
        }
        if self.rng.u8(..3) == 0 {
            node.reversible = true;
            node.compensation = Some(self.request(true));
        }
        let handled = self.rng.u8(..3) == 0;
        let id = self.add(tail, node);
        if handled {
            // the error path ends on its own
            let t = self.transform((id.clone(), PORT_ERROR.into()));
            self.end(t);
        }
        (id, PORT_OUT.into())
    }

    fn delay(&mut self, tail: Tail) -> Tail {
        let id = self.id("d");
        let ms = self.rng.u64(1_000..60_000);
        let id = self.add(
            tail,
            Node::new(&id, &id, NodeKind::Delay { duration_ms: ms }),
        );
        (id, PORT_OUT.into())
    }

    fn approval(&mut self, tail: Tail) -> Tail {
        let id = self.id("a");
        let deadline = match self.rng.u8(..5) {
            0 => Some(DeadlineAction::Reject),
            1 => Some(DeadlineAction::Approve),
            2 => Some(DeadlineAction::Escalate {
                role: "admin".into(),
            }),
            _ => None,
        }
        .map(|action| Deadline {
            after_ms: self.rng.u64(10_000..120_000),
            action,
        });
        let users = if self.rng.u8(..4) == 0 {
            vec!["gil".to_string()]
        } else {
            vec![]
        };
        let cfg = ApprovalConfig {
            title: "Check {{ input.x }}".into(),
            instructions: String::new(),
            approvers: Approvers {
                roles: vec!["approver".into()],
                users,
            },
            required_approvals: self.rng.u32(1..3),
            allow_self_approval: self.rng.bool(),
            form: vec![],
            deadline,
        };
        let rejected_edge = self.rng.bool();
        let id = self.add(tail, Node::new(&id, &id, NodeKind::Approval(cfg)));
        if rejected_edge {
            self.end((id.clone(), PORT_REJECTED.into()));
        }
        (id, PORT_OUT.into())
    }

    fn branch_node(&mut self, tail: Tail) -> String {
        let id = self.id("b");
        let cond = BranchCondition {
            label: "big".into(),
            expression: ".input.x > 5".into(),
        };
        self.add(
            tail,
            Node::new(
                &id,
                &id,
                NodeKind::Branch {
                    conditions: vec![cond],
                },
            ),
        )
    }

    fn join(&mut self, a: Tail, b: Tail) -> Tail {
        let id = self.id("j");
        let id = self.add(a, Node::new(&id, &id, NodeKind::Join {}));
        self.link(b, &id);
        (id, PORT_OUT.into())
    }

    /// A Branch whose two arms meet again at a Join.
    fn branch(&mut self, tail: Tail, depth: u32) -> Tail {
        let b = self.branch_node(tail);
        let big = self.chain((b.clone(), "big".into()), depth + 1);
        let small = self.chain((b, PORT_DEFAULT.into()), depth + 1);
        self.join(big, small)
    }

    /// Two paths in parallel from one step, meeting at a Join.
    fn parallel(&mut self, tail: Tail, depth: u32) -> Tail {
        let t = self.transform(tail);
        let left = self.chain(t.clone(), depth + 1);
        let right = self.chain(t, depth + 1);
        self.join(left, right)
    }

    /// A Branch whose `big` arm fails the run on purpose.
    fn fail_branch(&mut self, tail: Tail, depth: u32) -> Tail {
        let b = self.branch_node(tail);
        let f = self.id("f");
        self.add(
            (b.clone(), "big".into()),
            Node::new(
                &f,
                &f,
                NodeKind::Fail {
                    message: "too big".into(),
                },
            ),
        );
        self.chain((b, PORT_DEFAULT.into()), depth + 1)
    }

    /// A For each over a short list whose body is a chain of its own
    /// (approvals, calls, delays, failures and nested For each included).
    fn for_each(&mut self, tail: Tail, depth: u32) -> Tail {
        let id = self.id("e");
        let cfg = ForEachConfig {
            items: format!("[range({})] | map({{x: .}})", self.rng.u8(0..4)),
            concurrency: self.rng.u32(1..3),
            tolerated_failures: self.rng.bool().then(|| self.rng.u64(0..2)),
            tolerated_failure_percent: None,
            collect_results: self.rng.u8(..4) != 0,
        };
        let id = self.add(tail, Node::new(&id, &id, NodeKind::ForEach(cfg)));
        let outer = self.frame.replace(id.clone());
        let start = self.id("s");
        self.nodes
            .push(Node::new(&start, &start, NodeKind::Start { input_schema: None }).inside(&id));
        let body = self.chain((start, PORT_OUT.into()), depth + 1);
        self.end(body);
        self.frame = outer;
        (id, PORT_OUT.into())
    }

    /// A bounded loop: an entry with max_iterations, a body, and a step
    /// that goes back: a Branch that asks for a set number of passes, or an
    /// Approval whose rejection goes back. Sometimes `exhausted` ends.
    fn bounded_loop(&mut self, tail: Tail, depth: u32) -> Tail {
        let entry = self.id("l");
        let mut node = Node::new(
            &entry,
            &entry,
            NodeKind::Transform {
                expression: format!("{{pass: (.steps.{entry}.iterations // [] | length)}}"),
            },
        );
        node.max_iterations = Some(self.rng.u32(1..4));
        let id = self.add(tail, node);
        let body = self.chain((id.clone(), PORT_OUT.into()), depth + 1);
        let exit = if self.rng.bool() {
            let a = self.id("a");
            let cfg = ApprovalConfig {
                title: "Again? {{ input.x }}".into(),
                instructions: String::new(),
                approvers: Approvers {
                    roles: vec!["approver".into()],
                    users: vec![],
                },
                required_approvals: 1,
                allow_self_approval: true,
                form: vec![],
                deadline: None,
            };
            let a = self.add(body, Node::new(&a, &a, NodeKind::Approval(cfg)));
            self.link((a.clone(), PORT_REJECTED.into()), &id);
            (a, PORT_OUT.into())
        } else {
            let b = self.id("b");
            let times = self.rng.u8(0..4);
            let cond = BranchCondition {
                label: "again".into(),
                expression: format!("(.steps.{entry}.iterations // [] | length) < {times}"),
            };
            let b = self.add(
                body,
                Node::new(
                    &b,
                    &b,
                    NodeKind::Branch {
                        conditions: vec![cond],
                    },
                ),
            );
            self.link((b.clone(), "again".into()), &id);
            (b, PORT_DEFAULT.into())
        };
        if self.rng.bool() {
            self.end((id, PORT_EXHAUSTED.into()));
        }
        exit
    }
}
