//! What a property collector call selects: the traversal walk over selection specs, the
//! property paths asked of each object's type, and the selections kept between calls.
//!
//! A listing client sends the same `RetrievePropertiesEx` (the same container view, the same
//! paths) round after round while nothing changes. Walking the view, checking every object and
//! cloning its reference twice was a third of the server's CPU per VM listed
//! (docs/PERFORMANCE.md, "Kept selections"), so a selection is kept per session and spec
//! at the [`State::generation`] it was made at; any write access to the state moves the
//! generation on, and a kept selection is then never served again.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use esx_vim::{Any, BaseSelectionSpec, PropertyFilterSpec, PropertySpec, TraversalSpec};

use crate::fault::{Fault, MethodResult};
use crate::property;
use crate::state::{is_a, Ctx, IdHash, Mo, MoRef, State};

/// Selections kept per state (at most this many; a client keeps one or two).
const MAX_KEPT: usize = 64;

/// Selections made at one state generation, by session, caller kind and encoded specs.
#[derive(Debug, Default)]
pub struct Kept {
    generation: u64,
    by_call: HashMap<(Option<String>, bool, Vec<u8>), Arc<Selection>>,
}

/// The selection of `specs` for this caller: the kept one when the state is unchanged since it
/// was made, else a fresh walk, which `check` vets (it runs only then) before it is kept.
pub fn selected(
    state: &State,
    ctx: &Ctx,
    specs: &[PropertyFilterSpec],
    check: impl FnOnce(&Selection) -> MethodResult<()>,
) -> MethodResult<Arc<Selection>> {
    let generation = state.generation.load(Ordering::Acquire);
    let mut spec_xml = Vec::new();
    for spec in specs {
        spec_xml.extend(esx_vim::codec::soap::encode_element("s", spec));
    }
    let key = (ctx.session.clone(), ctx.encoded, spec_xml);
    if let Ok(kept) = state.selections.lock() {
        if kept.generation == generation {
            if let Some(sel) = kept.by_call.get(&key) {
                return Ok(sel.clone());
            }
        }
    }
    let mut sel = select(state, ctx, specs)?;
    sel.generation = generation;
    sel.elements = std::iter::repeat_with(OnceLock::new)
        .take(sel.items.len())
        .collect();
    let sel = Arc::new(sel);
    check(&sel)?;
    if let Ok(mut kept) = state.selections.lock() {
        if kept.generation != generation || kept.by_call.len() >= MAX_KEPT {
            kept.by_call.clear();
            kept.generation = generation;
        }
        kept.by_call.insert(key, sel.clone());
    }
    Ok(sel)
}

fn named_specs<'a>(sel: &'a [BaseSelectionSpec], out: &mut HashMap<String, &'a TraversalSpec>) {
    for s in sel {
        if let BaseSelectionSpec::TraversalSpec(t) = s {
            if let Some(n) = &t.name {
                if out.contains_key(n) {
                    continue;
                }
                out.insert(n.clone(), t);
            }
            named_specs(&t.select_set, out);
        }
    }
}

fn refs_of(v: &Any) -> Vec<MoRef> {
    match v {
        Any::ManagedObjectReference(r) => vec![r.clone()],
        Any::ArrayOfManagedObjectReference(a) => a.managed_object_reference.clone(),
        _ => Vec::new(),
    }
}

struct Walk<'a> {
    state: &'a State,
    ctx: &'a Ctx,
    named: HashMap<String, &'a TraversalSpec>,
    out: Vec<MoRef>,
    seen: HashSet<MoRef, IdHash>,
    visited: HashSet<(MoRef, usize), IdHash>,
}

impl<'a> Walk<'a> {
    fn add(&mut self, r: &MoRef) {
        if self.seen.insert(r.clone()) {
            self.out.push(r.clone());
        }
    }

    fn walk(&mut self, obj: &MoRef, sel: &'a [BaseSelectionSpec]) -> MethodResult<()> {
        for s in sel {
            let ts: &'a TraversalSpec = match s {
                BaseSelectionSpec::TraversalSpec(t) => t,
                BaseSelectionSpec::SelectionSpec(s) => {
                    match s.name.as_deref().and_then(|n| self.named.get(n)) {
                        Some(t) => t,
                        None => continue,
                    }
                }
            };
            let Some(m) = self.state.get(obj) else {
                continue;
            };
            if !is_a(m.type_name(), &ts.r#type) {
                continue;
            }
            let key = (obj.clone(), ts as *const TraversalSpec as usize);
            if !self.visited.insert(key) {
                continue;
            }
            let targets = match (m, ts.path.as_str()) {
                // A view's contents, cached until the inventory changes.
                (Mo::View(v), "view") => crate::mo::view_manager::contents_of(self.state, obj, v),
                _ => match property::read(self.state, self.ctx, obj, &ts.path) {
                    Ok(Some(v)) => Arc::new(refs_of(&v)),
                    Ok(None) => Arc::default(),
                    Err(_) => return Err(Fault::invalid_property(&ts.path)),
                },
            };
            for t in targets.iter() {
                if self.state.get(t).is_none() {
                    continue;
                }
                if !ts.skip.unwrap_or(false) {
                    self.add(t);
                }
                if !ts.select_set.is_empty() {
                    self.walk(t, &ts.select_set)?;
                }
            }
        }
        Ok(())
    }
}

/// The objects a filter spec selects, in traversal order.
pub fn select_objects(
    state: &State,
    ctx: &Ctx,
    spec: &PropertyFilterSpec,
) -> MethodResult<Vec<MoRef>> {
    let mut named = HashMap::new();
    for os in &spec.object_set {
        named_specs(&os.select_set, &mut named);
    }
    let mut w = Walk {
        state,
        ctx,
        named,
        out: Vec::new(),
        seen: HashSet::default(),
        visited: HashSet::default(),
    };
    for os in &spec.object_set {
        if state.get(&os.obj).is_none() {
            if spec.report_missing_objects_in_results.unwrap_or(false) {
                continue;
            }
            return Err(Fault::not_found(&os.obj));
        }
        if !os.skip.unwrap_or(false) {
            w.add(&os.obj);
        }
        w.walk(&os.obj, &os.select_set)?;
    }
    Ok(w.out)
}

/// The property paths `props` asks of an object of type `ty` (`None`: no spec matches).
pub(super) fn paths_for(m: &Mo, props: &[PropertySpec]) -> Option<Vec<String>> {
    let mut out: Option<Vec<String>> = None;
    for p in props.iter().filter(|p| is_a(m.type_name(), &p.r#type)) {
        let v = out.get_or_insert_with(Vec::new);
        if p.all.unwrap_or(false) {
            v.extend(property::all_names(m).iter().map(|s| (*s).to_owned()));
        }
        v.extend(p.path_set.iter().cloned());
    }
    if let Some(v) = &mut out {
        let mut seen = HashSet::new();
        v.retain(|p| seen.insert(p.clone()));
    }
    out
}

/// An object to report and the index of its property paths in the selection's path table.
pub type Item = (MoRef, usize);

/// The objects a set of specs selects, each with the paths asked of it; the paths are
/// computed once per (spec, type) rather than per object.
#[derive(Debug, Default)]
pub struct Selection {
    /// The objects, in traversal order.
    pub items: Vec<Item>,
    /// The path sets the items point into.
    pub paths: Vec<Vec<String>>,
    /// The [`State::generation`] the selection was made at.
    pub generation: u64,
    /// Each item's `<objects>` element once written, while the state is still at `generation`
    /// (only those [`crate::encoded::object`] would keep): later rounds over a kept selection
    /// take them from here, without the encoded cache's lock, lookup and path comparison.
    pub elements: Vec<OnceLock<Arc<str>>>,
}

impl Selection {
    /// Item `k`'s kept `<objects>` element, when the state is unchanged since it was kept.
    pub fn element(&self, state: &State, k: usize) -> Option<&Arc<str>> {
        if state.generation.load(Ordering::Acquire) != self.generation {
            return None;
        }
        self.elements.get(k)?.get()
    }

    /// Keeps item `k`'s `<objects>` element, made just now: only while the state is still at
    /// the selection's generation (a token outliving a change has nothing to keep it for).
    pub fn keep_element(&self, state: &State, k: usize, xml: &Arc<str>) {
        if state.generation.load(Ordering::Acquire) != self.generation {
            return;
        }
        if let Some(slot) = self.elements.get(k) {
            let _ = slot.set(xml.clone());
        }
    }
}

/// Walks `specs` afresh (see [`selected`] for the kept form).
pub(super) fn select(
    state: &State,
    ctx: &Ctx,
    specs: &[PropertyFilterSpec],
) -> MethodResult<Selection> {
    let mut sel = Selection::default();
    for spec in specs {
        let mut by_type: HashMap<&'static str, Option<usize>, IdHash> = HashMap::default();
        for r in select_objects(state, ctx, spec)? {
            let Some(m) = state.get(&r) else { continue };
            let idx = match by_type.entry(m.type_name()) {
                Entry::Occupied(e) => *e.get(),
                Entry::Vacant(e) => {
                    let idx = paths_for(m, &spec.prop_set).map(|p| {
                        sel.paths.push(p);
                        sel.paths.len() - 1
                    });
                    *e.insert(idx)
                }
            };
            if let Some(i) = idx {
                sel.items.push((r, i));
            }
        }
    }
    Ok(sel)
}
