//! The RON litmus file as written: a serde mirror of docs/format.md.
//!
//! Names stay strings here ([`Lit`], which remembers where each string is);
//! [`super::lower`] resolves them. Unknown fields are rejected everywhere so typos
//! are reported instead of ignored.

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Deserializer, de};

use super::literal::Lit;
use crate::ir::{Observation, Val};

/// A whole litmus file: `Litmus(name: ..., threads: ..., condition: ..., ...)`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Litmus")]
pub(crate) struct LitmusFile {
    pub name: Lit,
    #[serde(default)]
    pub doc: Option<Lit>,
    #[serde(default)]
    pub init: Entries<Val>,
    /// Go channels and their capacities: `{ "ch": 0, "jobs": 2 }`; `None`
    /// declares a nil channel.
    #[serde(default)]
    pub channels: Entries<Option<Val>>,
    /// Variables of several machine words: `{ "iface": 2 }`.
    #[serde(default)]
    pub words: Entries<Val>,
    pub threads: Threads,
    pub condition: Lit,
    /// herd7's `locations [...]`: more observables to show in `--format herd`.
    #[serde(default)]
    pub locations: Vec<Lit>,
    #[serde(default)]
    pub expect: Entries<Observation>,
    #[serde(default)]
    pub outcomes: Entries<Vec<Lit>>,
    #[serde(default)]
    pub races: Entries<bool>,
}

/// Threads, either as a list (`[[...], [...]]`, named P0, P1, ...) or as a map from
/// thread name to code (`{"writer": [...], "reader": [...]}`), in file order.
#[derive(Clone, Debug)]
pub(crate) enum Threads {
    Unnamed(Vec<Vec<Instr>>),
    Named(Vec<(Lit, Vec<Instr>)>),
}

/// One instruction as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) enum Instr {
    /// `Load("r0", "x")`
    Load(Lit, Lit),
    /// `Store("x", 1)` or `Store("x", "r0 + 1")`
    Store(Lit, Operand),
    /// `AtomicLoad("r0", "x")`
    AtomicLoad(Lit, Lit),
    /// `AtomicStore("x", 1)`
    AtomicStore(Lit, Operand),
    /// `Fence`
    Fence,
    /// `Xchg("r0", "x", 1)`
    Xchg(Lit, Lit, Operand),
    /// `FetchAdd("r0", "x", 1)`
    FetchAdd(Lit, Lit, Operand),
    /// `Cas("r0", "x", expected, new)`
    Cas(Lit, Lit, Operand, Operand),
    /// `Let("r1", "r0 * 2")`
    Let(Lit, Operand),
    /// `If(cond: "r0 == 1", then: [...], else: [...])`
    If {
        cond: Lit,
        then: Vec<Instr>,
        #[serde(default, rename = "else")]
        otherwise: Vec<Instr>,
    },
    /// `Loop(body: [...], until: "r0 == 1")`: run `body`, repeat until `until` holds.
    Loop { body: Vec<Instr>, until: Lit },
    /// `Lock("m")`: `m.Lock()` on a `sync.Mutex`.
    Lock(Lit),
    /// `Unlock("m")`: `m.Unlock()`.
    Unlock(Lit),
    /// `TryLock("ok", "m")`: `ok := m.TryLock()`.
    TryLock(Lit, Lit),
    /// `RLock("rw")`: `rw.RLock()` on a `sync.RWMutex`.
    RLock(Lit),
    /// `RUnlock("rw")`: `rw.RUnlock()`.
    RUnlock(Lit),
    /// `TryRLock("ok", "rw")`: `ok := rw.TryRLock()`.
    TryRLock(Lit, Lit),
    /// `Add("wg", n)`: `wg.Add(n)` on a `sync.WaitGroup`.
    Add(Lit, Operand),
    /// `Done("wg")`: `wg.Done()`.
    Done(Lit),
    /// `Wait("wg")`: `wg.Wait()`.
    Wait(Lit),
    /// `Go("worker")`: starts the named thread as a goroutine.
    Go(Lit),
    /// `OnceDo("once", [...])`: `once.Do(func() { ... })` on a `sync.Once`.
    OnceDo(Lit, Vec<Instr>),
    /// `Send("ch", v)`: `ch <- v`.
    Send(Lit, Operand),
    /// `Recv("r0", "ch")`: `r0 = <-ch`.
    Recv(Lit, Lit),
    /// `RecvOk("r0", "ok", "ch")`: `r0, ok = <-ch`.
    RecvOk(Lit, Lit, Lit),
    /// `Close("ch")`: `close(ch)`.
    Close(Lit),
    /// `Select(cases: [...], default: [...])`: Go's `select`; `default` is
    /// optional (present, even empty, means the select never blocks).
    Select {
        cases: Vec<SelectCase>,
        #[serde(default, deserialize_with = "present")]
        default: Option<Vec<Instr>>,
    },
}

/// One case of a `Select`, with its body.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) enum SelectCase {
    /// `Send("ch", v, [...])`: `case ch <- v:`.
    Send(Lit, Operand, Vec<Instr>),
    /// `Recv("r0", "ch", [...])`: `case r0 = <-ch:`.
    Recv(Lit, Lit, Vec<Instr>),
    /// `RecvOk("r0", "ok", "ch", [...])`: `case r0, ok = <-ch:`.
    RecvOk(Lit, Lit, Lit, Vec<Instr>),
}

impl SelectCase {
    /// The case's channel and body.
    pub fn parts(&self) -> (&Lit, &[Instr]) {
        match self {
            SelectCase::Send(ch, _, body)
            | SelectCase::Recv(_, ch, body)
            | SelectCase::RecvOk(_, _, ch, body) => (ch, body),
        }
    }

    /// The case's operation as written, without its body.
    pub fn source(&self) -> String {
        let q = |lit: &Lit| format!("{:?}", lit.text);
        match self {
            SelectCase::Send(ch, v, _) => format!("Send({}, {})", q(ch), v.source()),
            SelectCase::Recv(r, ch, _) => format!("Recv({}, {})", q(r), q(ch)),
            SelectCase::RecvOk(r, ok, ch, _) => format!("RecvOk({}, {}, {})", q(r), q(ok), q(ch)),
        }
    }
}

/// A field that, when present, is `Some` (so `default: []` differs from no
/// `default`).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<Instr>>, D::Error> {
    Vec::<Instr>::deserialize(deserializer).map(Some)
}

/// A value operand: an integer, or a register expression in a string.
#[derive(Clone, Debug)]
pub(crate) enum Operand {
    Int(Val),
    Expr(Lit),
}

impl Operand {
    /// How the operand reads in the file: `1` or `"r0 + 1"`.
    pub fn source(&self) -> String {
        match self {
            Operand::Int(v) => v.to_string(),
            Operand::Expr(lit) => format!("{:?}", lit.text),
        }
    }
}

impl Instr {
    /// How the instruction reads in the file, without nested code:
    /// `Store("x", 1)`, `If(cond: "r0 == 1")`.
    pub fn source(&self) -> String {
        let q = |lit: &Lit| format!("{:?}", lit.text);
        match self {
            Instr::Load(r, x) => format!("Load({}, {})", q(r), q(x)),
            Instr::Store(x, v) => format!("Store({}, {})", q(x), v.source()),
            Instr::AtomicLoad(r, x) => format!("AtomicLoad({}, {})", q(r), q(x)),
            Instr::AtomicStore(x, v) => format!("AtomicStore({}, {})", q(x), v.source()),
            Instr::Fence => "Fence".to_string(),
            Instr::Xchg(r, x, v) => format!("Xchg({}, {}, {})", q(r), q(x), v.source()),
            Instr::FetchAdd(r, x, v) => format!("FetchAdd({}, {}, {})", q(r), q(x), v.source()),
            Instr::Cas(r, x, e, n) => {
                format!("Cas({}, {}, {}, {})", q(r), q(x), e.source(), n.source())
            }
            Instr::Let(r, v) => format!("Let({}, {})", q(r), v.source()),
            Instr::If { cond, .. } => format!("If(cond: {})", q(cond)),
            Instr::Loop { until, .. } => format!("Loop(until: {})", q(until)),
            Instr::Lock(m) => format!("Lock({})", q(m)),
            Instr::Unlock(m) => format!("Unlock({})", q(m)),
            Instr::TryLock(ok, m) => format!("TryLock({}, {})", q(ok), q(m)),
            Instr::RLock(m) => format!("RLock({})", q(m)),
            Instr::RUnlock(m) => format!("RUnlock({})", q(m)),
            Instr::TryRLock(ok, m) => format!("TryRLock({}, {})", q(ok), q(m)),
            Instr::Add(wg, n) => format!("Add({}, {})", q(wg), n.source()),
            Instr::Done(wg) => format!("Done({})", q(wg)),
            Instr::Wait(wg) => format!("Wait({})", q(wg)),
            Instr::Go(t) => format!("Go({})", q(t)),
            Instr::OnceDo(once, _) => format!("OnceDo({}, [...])", q(once)),
            Instr::Send(ch, v) => format!("Send({}, {})", q(ch), v.source()),
            Instr::Recv(r, ch) => format!("Recv({}, {})", q(r), q(ch)),
            Instr::RecvOk(r, ok, ch) => format!("RecvOk({}, {}, {})", q(r), q(ok), q(ch)),
            Instr::Close(ch) => format!("Close({})", q(ch)),
            Instr::Select { cases, .. } => {
                let cases: Vec<String> = cases.iter().map(SelectCase::source).collect();
                format!("Select({})", cases.join(" | "))
            }
        }
    }
}

/// A RON map kept as a list of entries, so duplicates can be reported with spans.
#[derive(Clone, Debug)]
pub(crate) struct Entries<V>(pub Vec<(Lit, V)>);

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> de::Visitor<'de> for Visitor<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map such as { \"x\": 1 }")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Entries<V>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Visitor(PhantomData))
    }
}

impl<'de> Deserialize<'de> for Threads {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = Threads;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of threads `[[...], [...]]` or a map of named threads `{\"name\": [...]}`")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Threads, A::Error> {
                let mut threads = Vec::new();
                while let Some(code) = seq.next_element()? {
                    threads.push(code);
                }
                Ok(Threads::Unnamed(threads))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Threads, A::Error> {
                let mut threads = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    threads.push(entry);
                }
                Ok(Threads::Named(threads))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl<'de> Deserialize<'de> for Operand {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Operand;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a register expression in a string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Operand, E> {
                Ok(Operand::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Operand, E> {
                Val::try_from(v).map(Operand::Int).map_err(|_| {
                    E::custom(format!(
                        "expected an integer of at most {}, found {v}",
                        Val::MAX
                    ))
                })
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Operand, E> {
                Err(E::custom(if v.fract() == 0.0 {
                    format!(
                        "expected an integer between {} and {}, found {v:e}",
                        Val::MIN,
                        Val::MAX
                    )
                } else {
                    format!("expected an integer or a register expression, found the number {v}")
                }))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Operand, E> {
                Ok(Operand::Expr(Lit::record(v)))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}
