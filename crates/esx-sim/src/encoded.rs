//! Property values kept encoded between calls, for the SOAP server's property collector.
//!
//! A listing client asks the same large values (a VM's `summary`, `config`, `guest`) of every
//! object, round after round, while nothing changes. Building each one and encoding it again
//! was most of the server's CPU per VM (docs/PERFORMANCE.md, "esx-sim beside vcsim"). Here the
//! XML of such a value is kept per object and property path, tagged with the
//! [`State::generation`] it was made at; any write access to the state moves the generation on
//! ([`crate::server::Shared::write`]), so a kept value is only ever served while the state it
//! came from is unchanged. It is handed out as [`Any::Unknown`] holding the encoded content,
//! which the encoder writes back verbatim.
//!
//! Only callers that encode the value to XML (the HTTP server, [`Ctx::encoded`]) get these:
//! in-process callers keep seeing typed values. `ESX_SIM_ENCODED_CACHE=0` in the environment
//! turns the cache off (to measure what it saves).
//!
//! [`Ctx::encoded`]: crate::state::Ctx::encoded

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::Ordering;
use std::sync::Mutex;

use esx_vim::Any;

use crate::state::{MoRef, State};

/// Values whose encoded content is shorter than this are not worth keeping.
const MIN_LEN: usize = 256;

/// Shards of the cache (lock contention between the server's threads stays low).
const SHARDS: usize = 32;

/// One path's value: its `xsi:type` and encoded content, or `None` when it is not kept
/// (small, or written with attributes an `Unknown` cannot carry).
type Kept = Option<(String, String)>;

/// What is kept of one object, at one generation.
#[derive(Debug, Default)]
struct Entry {
    generation: u64,
    paths: Vec<(String, Kept)>,
}

/// The cache: object id → kept values.
#[derive(Debug)]
pub struct Cache {
    shards: Vec<Mutex<HashMap<String, Entry>>>,
    hasher: std::collections::hash_map::RandomState,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: Default::default(),
        }
    }
}

impl Cache {
    fn shard(&self, id: &str) -> &Mutex<HashMap<String, Entry>> {
        &self.shards[(self.hasher.hash_one(id) as usize) % SHARDS]
    }

    /// Forgets everything (the state was replaced).
    pub fn clear(&self) {
        for s in &self.shards {
            if let Ok(mut m) = s.lock() {
                m.clear();
            }
        }
    }
}

/// Splits `<v xsi:type="T">content</v>` into (T, content); `None` when the element carries
/// anything else (attributes, a foreign namespace) or is empty.
fn split(xml: &str) -> Option<(String, String)> {
    let rest = xml.strip_prefix("<v xsi:type=\"")?;
    let (ty, rest) = rest.split_once("\">")?;
    if ty.contains('"') || ty.contains(':') {
        return None;
    }
    let content = rest.strip_suffix("</v>")?;
    Some((ty.to_owned(), content.to_owned()))
}

/// The encoded form of `v`, when worth keeping.
fn encode(v: &Any) -> Kept {
    if matches!(v, Any::Unknown { .. }) {
        return None;
    }
    let mut w = esx_vim::codec::Encoder::with_capacity(1024);
    v.encode_element(&mut w, "v");
    let xml = String::from_utf8(w.into_bytes()).ok()?;
    split(&xml).filter(|(_, c)| c.len() >= MIN_LEN)
}

/// Whether the cache is on (unless `ESX_SIM_ENCODED_CACHE=0`).
pub fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("ESX_SIM_ENCODED_CACHE").as_deref() != Ok("0"))
}

/// Property `path` of `r` as the server will encode it: the kept XML when the state is unchanged
/// since it was made, else `read()`'s value (kept for the next call when large).
pub fn read(
    state: &State,
    r: &MoRef,
    path: &str,
    read: impl FnOnce() -> crate::fault::MethodResult<Option<Any>>,
) -> crate::fault::MethodResult<Option<Any>> {
    let generation = state.generation.load(Ordering::Acquire);
    let shard = state.encoded.shard(&r.value);
    if let Ok(m) = shard.lock() {
        if let Some(e) = m.get(&r.value) {
            if e.generation == generation {
                if let Some((_, Some((ty, xml)))) = e.paths.iter().find(|(p, _)| p == path) {
                    return Ok(Some(Any::Unknown {
                        xsi_type: ty.clone(),
                        raw_xml: xml.clone(),
                    }));
                }
            }
        }
    }
    let v = read()?;
    let Some(v) = v else { return Ok(None) };
    let kept = encode(&v);
    let out = match &kept {
        Some((ty, xml)) => Any::Unknown {
            xsi_type: ty.clone(),
            raw_xml: xml.clone(),
        },
        None => v,
    };
    if let Ok(mut m) = shard.lock() {
        let e = m.entry(r.value.clone()).or_default();
        if e.generation != generation {
            e.generation = generation;
            e.paths.clear();
        }
        if !e.paths.iter().any(|(p, _)| p == path) {
            e.paths.push((path.to_owned(), kept));
        }
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_takes_plain_elements_only() {
        assert_eq!(
            split("<v xsi:type=\"VirtualMachineSummary\"><vm>x</vm></v>"),
            Some(("VirtualMachineSummary".into(), "<vm>x</vm>".into()))
        );
        assert_eq!(
            split("<v xsi:type=\"ManagedObjectReference\" type=\"VirtualMachine\">vm-1</v>"),
            None
        );
        assert_eq!(
            split("<v xsi:type=\"esxns:T\" xmlns:esxns=\"u\">x</v>"),
            None
        );
    }

    #[test]
    fn kept_values_encode_as_the_typed_ones_and_follow_changes() {
        let dir = std::env::temp_dir().join(format!("esx-sim-encoded-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut cfg = crate::Config::new(&dir);
        cfg.inventory = "dc=1,host=1,vm=2,ds=1,net=1".parse().unwrap_or_default();
        let mut state = State::new(cfg);
        assert!(crate::inventory::build(&mut state).is_ok());
        let ctx = crate::state::Ctx::default();
        let vm = state
            .objects
            .iter()
            .find_map(|(id, m)| match m {
                crate::state::Mo::VirtualMachine(_) => {
                    Some(crate::state::moref("VirtualMachine", id))
                }
                _ => None,
            })
            .unwrap();
        let typed = crate::property::read(&state, &ctx, &vm, "config")
            .unwrap()
            .unwrap();
        let enc = |v: &Any| {
            let mut w = esx_vim::codec::Encoder::new();
            v.encode_element(&mut w, "val");
            String::from_utf8(w.into_bytes()).unwrap()
        };
        let first = read(&state, &vm, "config", || Ok(Some(typed.clone())))
            .unwrap()
            .unwrap();
        assert!(matches!(first, Any::Unknown { .. }));
        assert_eq!(enc(&first), enc(&typed));
        // Served from the cache: the reader is not called.
        let again = read(&state, &vm, "config", || panic!("read again"))
            .unwrap()
            .unwrap();
        assert_eq!(enc(&again), enc(&typed));
        // A change of state: read afresh.
        state.changed();
        let mut called = false;
        read(&state, &vm, "config", || {
            called = true;
            Ok(Some(typed.clone()))
        })
        .unwrap();
        assert!(called);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
