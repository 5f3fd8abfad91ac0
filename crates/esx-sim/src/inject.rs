//! Fault injection: per-method latency, dropped connections, HTTP errors, session expiry and
//! failing tasks, for testing how clients cope.
//!
//! A spec is a comma-separated list of rules (`--inject` may also be given several times):
//!
//! | rule | effect |
//! |---|---|
//! | `latency:Method=MS` | every `Method` call is answered `MS` milliseconds late |
//! | `drop:Method=N` | the first `N` `Method` calls get their connection closed, no answer |
//! | `cut:Method=N` | the first `N` `Method` calls are carried out, but their answer is cut off halfway: the status line, the headers and half the body, then the connection closes |
//! | `http500:Method=N`, `http503:Method=N` | the first `N` `Method` calls get that HTTP status |
//! | `fail-task:Method` or `fail-task:Method=N` | tasks of `Method` (the first `N`) fail with `SystemError` |
//! | `session-ttl=SECS` | sessions end `SECS` seconds after login, however busy |
//! | `pause-before-commit=N` | the process's `N`-th datastore write stops before its temporary file is renamed over the target, prints `esx-sim: paused before committing PATH` on stderr and waits (at most 60 s, then aborts) to be killed: crash tests `kill -9` it there. Process-wide: for the `esx-sim` program, one simulator per process |
//! | `full-datastore:NAME=MIB` | datastore `NAME` has only `MIB` MiB free at start (its capacity is set so): uploads past it get HTTP 507, disk, VM and snapshot tasks `NoDiskSpace` |
//!
//! `Method` is a SOAP operation name (`PowerOnVM_Task`) or `*` for every one. A running
//! simulator's free space can also be set with `Handle::set_datastore_free`.
//!
//! ```
//! let spec: esx_sim::inject::InjectSpec =
//!     "latency:Login=50,drop:RetrievePropertiesEx=1,fail-task:PowerOnVM_Task".parse().unwrap();
//! assert_eq!(spec.rules.len(), 3);
//! ```

use std::time::Duration;

/// A fault-injection spec item could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InjectError {
    /// The rule's kind is unknown.
    #[error("unknown fault-injection rule {0:?} (expected latency:, drop:, cut:, http500:, http503:, fail-task:, full-datastore:, session-ttl= or pause-before-commit=)")]
    Kind(String),
    /// The rule lacks its `=NUMBER` or the number is not one.
    #[error("fault-injection rule {0:?} needs =NUMBER")]
    Number(String),
    /// The rule names no method.
    #[error("fault-injection rule {0:?} names no method")]
    Method(String),
}

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// Answer late.
    Latency(Duration),
    /// Close the connection without answering, for the first `n` calls.
    Drop(u64),
    /// Carry the call out, then cut its answer off halfway, for the first `n` calls.
    Cut(u64),
    /// Answer with this HTTP status, for the first `n` calls.
    Http(u16, u64),
    /// Fail the method's tasks (the first `n`, or all when `None`).
    FailTask(Option<u64>),
}

/// One rule: a method (or `*`) and what happens to its calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The SOAP operation, or `*`.
    pub method: String,
    /// The effect.
    pub kind: RuleKind,
}

impl Rule {
    fn applies(&self, method: &str) -> bool {
        self.method == "*" || self.method == method
    }
}

/// A parsed fault-injection spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InjectSpec {
    /// Per-method rules, in the order given.
    pub rules: Vec<Rule>,
    /// Sessions end this long after login.
    pub session_ttl: Option<Duration>,
    /// Datastores with only this many bytes free at start (`full-datastore:NAME=MIB`).
    pub datastore_free: Vec<(String, u64)>,
    /// The datastore write (counted from 1 over the process) to pause before its commit
    /// (`pause-before-commit=N`; see [`crate::files::pause_before_commit`]).
    pub pause_before_commit: Option<u64>,
}

impl InjectSpec {
    /// Whether the spec does nothing.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
            && self.session_ttl.is_none()
            && self.datastore_free.is_empty()
            && self.pause_before_commit.is_none()
    }

    /// Adds the rules of another spec (for repeated `--inject`).
    pub fn extend(&mut self, other: InjectSpec) {
        self.rules.extend(other.rules);
        self.datastore_free.extend(other.datastore_free);
        if other.session_ttl.is_some() {
            self.session_ttl = other.session_ttl;
        }
        if other.pause_before_commit.is_some() {
            self.pause_before_commit = other.pause_before_commit;
        }
    }
}

fn number(item: &str, v: &str) -> Result<u64, InjectError> {
    v.trim()
        .parse()
        .map_err(|_| InjectError::Number(item.to_owned()))
}

impl std::str::FromStr for InjectSpec {
    type Err = InjectError;
    fn from_str(s: &str) -> Result<Self, InjectError> {
        let mut spec = InjectSpec::default();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            if let Some(v) = item.strip_prefix("session-ttl=") {
                spec.session_ttl = Some(Duration::from_secs(number(item, v)?));
                continue;
            }
            if let Some(v) = item.strip_prefix("pause-before-commit=") {
                spec.pause_before_commit = Some(number(item, v)?);
                continue;
            }
            let (kind, rest) = item
                .split_once(':')
                .ok_or_else(|| InjectError::Kind(item.to_owned()))?;
            let (method, value) = match rest.split_once('=') {
                Some((m, v)) => (m.trim(), Some(v)),
                None => (rest.trim(), None),
            };
            if method.is_empty() {
                return Err(InjectError::Method(item.to_owned()));
            }
            let need = || value.ok_or_else(|| InjectError::Number(item.to_owned()));
            if kind.trim() == "full-datastore" {
                let mib = number(item, need()?)?;
                spec.datastore_free
                    .push((method.to_owned(), mib.saturating_mul(1 << 20)));
                continue;
            }
            let kind = match kind.trim() {
                "latency" => RuleKind::Latency(Duration::from_millis(number(item, need()?)?)),
                "drop" => RuleKind::Drop(number(item, need()?)?),
                "cut" => RuleKind::Cut(number(item, need()?)?),
                "http500" => RuleKind::Http(500, number(item, need()?)?),
                "http503" => RuleKind::Http(503, number(item, need()?)?),
                "fail-task" => RuleKind::FailTask(value.map(|v| number(item, v)).transpose()?),
                _ => return Err(InjectError::Kind(item.to_owned())),
            };
            spec.rules.push(Rule {
                method: method.to_owned(),
                kind,
            });
        }
        Ok(spec)
    }
}

/// What to do with one SOAP call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallPlan {
    /// Wait this long before answering.
    pub delay: Duration,
    /// Close the connection instead of answering.
    pub drop: bool,
    /// Carry the call out, then cut the answer off halfway.
    pub cut: bool,
    /// Answer with this HTTP status instead.
    pub status: Option<u16>,
}

/// The spec plus how many times each counted rule has fired.
#[derive(Debug, Clone, Default)]
pub struct Injector {
    spec: InjectSpec,
    fired: Vec<u64>,
}

impl Injector {
    /// An injector for `spec`.
    pub fn new(spec: InjectSpec) -> Injector {
        let fired = vec![0; spec.rules.len()];
        Injector { spec, fired }
    }

    /// Whether any rule acts on calls (latency, drop, HTTP status), so the method name must be
    /// read before dispatch.
    pub fn has_call_rules(&self) -> bool {
        self.spec
            .rules
            .iter()
            .any(|r| !matches!(r.kind, RuleKind::FailTask(_)))
    }

    /// The session lifetime, if limited.
    pub fn session_ttl(&self) -> Option<Duration> {
        self.spec.session_ttl
    }

    /// Decides the fate of one call of `method` (counting it against the rules it meets).
    pub fn on_call(&mut self, method: &str) -> CallPlan {
        let mut plan = CallPlan::default();
        for (rule, fired) in self.spec.rules.iter().zip(self.fired.iter_mut()) {
            if !rule.applies(method) {
                continue;
            }
            match rule.kind {
                RuleKind::Latency(d) => plan.delay += d,
                RuleKind::Drop(n) if *fired < n && !plan.drop && plan.status.is_none() => {
                    *fired += 1;
                    plan.drop = true;
                }
                RuleKind::Cut(n) if *fired < n && !plan.drop && plan.status.is_none() => {
                    *fired += 1;
                    plan.cut = true;
                }
                RuleKind::Http(code, n) if *fired < n && !plan.drop && plan.status.is_none() => {
                    *fired += 1;
                    plan.status = Some(code);
                }
                _ => {}
            }
        }
        plan
    }

    /// Whether a task of `method` must fail (counting it).
    pub fn fail_task(&mut self, method: &str) -> bool {
        for (rule, fired) in self.spec.rules.iter().zip(self.fired.iter_mut()) {
            if let RuleKind::FailTask(limit) = rule.kind {
                if rule.applies(method) && limit.is_none_or(|n| *fired < n) {
                    *fired += 1;
                    return true;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_rule() {
        let s: InjectSpec = "latency:Login=20, drop:*=2,http503:RetrieveProperties=1,\
                             http500:Logout=3,fail-task:PowerOnVM_Task=1,fail-task:Destroy_Task,session-ttl=5"
            .parse()
            .unwrap();
        assert_eq!(s.session_ttl, Some(Duration::from_secs(5)));
        let kinds: Vec<RuleKind> = s.rules.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            vec![
                RuleKind::Latency(Duration::from_millis(20)),
                RuleKind::Drop(2),
                RuleKind::Http(503, 1),
                RuleKind::Http(500, 3),
                RuleKind::FailTask(Some(1)),
                RuleKind::FailTask(None),
            ]
        );
        assert_eq!(s.rules[1].method, "*");
        let s: InjectSpec = "full-datastore:datastore1=5,full-datastore:other ds=0"
            .parse()
            .unwrap();
        assert_eq!(
            s.datastore_free,
            vec![("datastore1".into(), 5 << 20), ("other ds".into(), 0)]
        );
        assert!(s.rules.is_empty() && !s.is_empty());
        assert!("full-datastore:datastore1".parse::<InjectSpec>().is_err());
        let s: InjectSpec = "cut:PowerOnVM_Task=1,pause-before-commit=3"
            .parse()
            .unwrap();
        assert_eq!(s.rules[0].kind, RuleKind::Cut(1));
        assert_eq!(s.pause_before_commit, Some(3));
        assert!("pause-before-commit=x".parse::<InjectSpec>().is_err());
        assert!("full-datastore:=3".parse::<InjectSpec>().is_err());
    }

    #[test]
    fn refuses_bad_rules() {
        for (bad, want) in [
            ("slow:Login=1", InjectError::Kind("slow:Login=1".into())),
            ("latency:Login", InjectError::Number("latency:Login".into())),
            ("drop:Login=x", InjectError::Number("drop:Login=x".into())),
            ("http503:=1", InjectError::Method("http503:=1".into())),
            (
                "session-ttl=soon",
                InjectError::Number("session-ttl=soon".into()),
            ),
            ("Login", InjectError::Kind("Login".into())),
        ] {
            assert_eq!(bad.parse::<InjectSpec>(), Err(want), "{bad}");
        }
    }

    #[test]
    fn counts_calls_per_rule() {
        let mut i = Injector::new(
            "drop:Login=1,http503:Login=1,latency:*=5,fail-task:PowerOnVM_Task=2"
                .parse()
                .unwrap(),
        );
        let first = i.on_call("Login");
        assert!(first.drop && first.status.is_none());
        assert_eq!(first.delay, Duration::from_millis(5));
        assert_eq!(i.on_call("Login").status, Some(503));
        assert_eq!(
            i.on_call("Login"),
            CallPlan {
                delay: Duration::from_millis(5),
                ..Default::default()
            }
        );
        assert!(!i.on_call("Logout").drop);
        let mut c = Injector::new("cut:PowerOnVM_Task=1".parse().unwrap());
        assert!(c.on_call("PowerOnVM_Task").cut);
        assert!(!c.on_call("PowerOnVM_Task").cut);
        assert!(i.fail_task("PowerOnVM_Task"));
        assert!(!i.fail_task("PowerOffVM_Task"));
        assert!(i.fail_task("PowerOnVM_Task"));
        assert!(!i.fail_task("PowerOnVM_Task"));
    }
}
