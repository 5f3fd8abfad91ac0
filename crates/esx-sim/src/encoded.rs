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
//! A VM's whole `<objects>` element of a `RetrievePropertiesEx` page is kept the same way, per
//! set of property paths ([`object`]): a page of kept objects is then their concatenation into
//! one pre-sized reply ([`splice_objects`]), with no typed `ObjectContent` built, encoded and
//! freed per object and no escaping again.
//!
//! Only callers that encode the value to XML (the HTTP server, [`Ctx::encoded`]) get these:
//! in-process callers keep seeing typed values. `ESX_SIM_ENCODED_CACHE` in the environment
//! chooses what is kept, to measure what each step saves ([`Mode`]).
//!
//! [`Ctx::encoded`]: crate::state::Ctx::encoded

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use esx_vim::codec::Encode;
use esx_vim::{Any, ObjectContent};

use crate::state::{IdHash, MoRef, State};

/// Values whose encoded content is shorter than this are not worth keeping.
const MIN_LEN: usize = 256;

/// Shards of the cache (lock contention between the server's threads stays low).
const SHARDS: usize = 32;

/// One path's value: its `xsi:type` and encoded content, or `None` when it is not kept
/// (small, or written with attributes an `Unknown` cannot carry).
type Kept = Option<(String, String)>;

/// Sets of paths whose `<objects>` element is kept per object (a client asks one or two).
const MAX_OBJECT_FORMS: usize = 4;

/// What is kept of one object, at one generation: values by path, and whole `<objects>`
/// elements by the paths they report.
#[derive(Debug, Default)]
struct Entry {
    generation: u64,
    paths: Vec<(String, Kept)>,
    objects: Vec<(Vec<String>, Arc<str>)>,
}

impl Entry {
    /// Forgets what was kept at an older generation.
    fn at(&mut self, generation: u64) -> &mut Self {
        if self.generation != generation {
            self.generation = generation;
            self.paths.clear();
            self.objects.clear();
        }
        self
    }
}

/// The cache: object id → kept values. Ids are the simulator's own, so a fast hash will do.
#[derive(Debug)]
pub struct Cache {
    shards: Vec<Mutex<HashMap<String, Entry, IdHash>>>,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl Cache {
    fn shard(&self, id: &str) -> &Mutex<HashMap<String, Entry, IdHash>> {
        &self.shards[(IdHash::default().hash_one(id) as usize) % SHARDS]
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

/// What the cache keeps, from `ESX_SIM_ENCODED_CACHE`: `0` nothing, `values` property values
/// only, anything else (the default) values and whole object elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing: every reply is built and encoded afresh.
    Off,
    /// Large VM property values.
    Values,
    /// Values, and VMs' whole `<objects>` elements of `RetrievePropertiesEx` pages.
    Objects,
}

/// The mode this process runs in (read once from the environment).
pub fn mode() -> Mode {
    static MODE: std::sync::OnceLock<Mode> = std::sync::OnceLock::new();
    *MODE.get_or_init(|| match std::env::var("ESX_SIM_ENCODED_CACHE").as_deref() {
        Ok("0") => Mode::Off,
        Ok("values") => Mode::Values,
        _ => Mode::Objects,
    })
}

/// Whether values are kept (unless `ESX_SIM_ENCODED_CACHE=0`).
pub fn enabled() -> bool {
    mode() != Mode::Off
}

/// `oc` written as the `<objects>` element of a `RetrieveResult`.
pub fn object_xml(oc: &ObjectContent) -> Arc<str> {
    let mut w = esx_vim::codec::Encoder::with_capacity(2048);
    oc.encode(&mut w, "objects");
    match String::from_utf8(w.into_bytes()) {
        Ok(s) => Arc::from(s),
        Err(e) => Arc::from(String::from_utf8_lossy(e.as_bytes()).as_ref()),
    }
}

/// The `<objects>` element of `r` reporting `paths`, as [`object_xml`] writes what `build`
/// makes, and whether it is kept: kept while the state is unchanged since it was made (only when
/// it reports no missing property: a fault's text may name the moment). `None` when `build`
/// finds no object.
pub fn object(
    state: &State,
    r: &MoRef,
    paths: &[String],
    build: impl FnOnce() -> crate::fault::MethodResult<Option<ObjectContent>>,
) -> crate::fault::MethodResult<Option<(Arc<str>, bool)>> {
    let generation = state.generation.load(Ordering::Acquire);
    let shard = state.encoded.shard(&r.value);
    if let Ok(m) = shard.lock() {
        if let Some(e) = m.get(&r.value).filter(|e| e.generation == generation) {
            if let Some((_, xml)) = e.objects.iter().find(|(p, _)| p.as_slice() == paths) {
                return Ok(Some((xml.clone(), true)));
            }
        }
    }
    let Some(oc) = build()? else { return Ok(None) };
    let xml = object_xml(&oc);
    let keep = oc.missing_set.is_empty();
    if keep {
        if let Ok(mut m) = shard.lock() {
            let e = m.entry(r.value.clone()).or_default().at(generation);
            if e.objects.len() < MAX_OBJECT_FORMS
                && !e.objects.iter().any(|(p, _)| p.as_slice() == paths)
            {
                e.objects.push((paths.to_vec(), xml.clone()));
            }
        }
    }
    Ok(Some((xml, keep)))
}

/// `envelope` (a `RetrievePropertiesEx` or `ContinueRetrievePropertiesEx` reply whose
/// `RetrieveResult` holds no object) with `objects` written into its result, after the token:
/// where the typed encoder would have written them.
pub fn splice_objects(envelope: Vec<u8>, objects: &[Arc<str>]) -> Vec<u8> {
    const END: &[u8] = b"</returnval>";
    let Some(at) = envelope.windows(END.len()).rposition(|w| w == END) else {
        return envelope;
    };
    if objects.is_empty() {
        return envelope;
    }
    let len = envelope.len() + objects.iter().map(|o| o.len()).sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&envelope[..at]);
    for o in objects {
        out.extend_from_slice(o.as_bytes());
    }
    out.extend_from_slice(&envelope[at..]);
    out
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
    let mut not_kept = false;
    if let Ok(m) = shard.lock() {
        if let Some(e) = m.get(&r.value).filter(|e| e.generation == generation) {
            match e.paths.iter().find(|(p, _)| p == path) {
                Some((_, Some((ty, xml)))) => {
                    return Ok(Some(Any::Unknown {
                        xsi_type: ty.clone(),
                        raw_xml: xml.clone(),
                    }))
                }
                // Known to be small (or not keepable) at this generation: not encoded again
                // just to find that out.
                Some((_, None)) => not_kept = true,
                None => {}
            }
        }
    }
    let v = read()?;
    if not_kept {
        return Ok(v);
    }
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
        let e = m.entry(r.value.clone()).or_default().at(generation);
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
