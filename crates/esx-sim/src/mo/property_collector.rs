//! `PropertyCollector` and `PropertyFilter`: retrieval over traversal specs, paging, and
//! incremental updates computed by comparing each filter's last report with the model.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use esx_vim::{
    Any, DynamicProperty, MissingProperty, ObjectContent, ObjectUpdate, ObjectUpdateKind,
    PropertyChange, PropertyChangeOp, PropertyFilterSpec, PropertyFilterUpdate, RetrieveResult,
    UpdateSet,
};

use crate::fault::{Fault, MethodResult};
use crate::property::{self, Top};
use crate::state::{moref, Ctx, IdHash, Mo, MoRef, State};

mod selection;

use selection::{paths_for, select, selected, Selection};
pub use selection::{select_objects, Kept as KeptSelections};

/// Objects per page when the client sets no `maxObjects`.
pub const DEFAULT_PAGE: usize = 1000;

/// A property collector's own state.
#[derive(Debug, Default)]
pub struct Collector {
    /// Filters created on this collector, by id.
    pub filters: Vec<String>,
    /// The last update version handed out.
    pub version: u64,
    /// The session that created it (`None` for the default collector).
    pub session: Option<String>,
}

/// A `PropertyFilter`: a spec plus what was last reported for it.
#[derive(Debug)]
pub struct Filter {
    /// The spec.
    pub spec: PropertyFilterSpec,
    /// Only report changed properties.
    pub partial_updates: bool,
    /// The collector it belongs to.
    pub collector: String,
    /// What each object's properties were at the last report.
    pub reported: HashMap<MoRef, Vec<(String, Any)>>,
    /// Whether the initial report has been made.
    pub initialized: bool,
}

/// Properties of a collector.
pub fn collector_property(c: &Collector, name: &str) -> Top {
    match name {
        "filter" => Some(Some(property::refs(
            c.filters
                .iter()
                .map(|f| moref("PropertyFilter", f))
                .collect(),
        ))),
        _ => None,
    }
}

/// Properties of a filter.
pub fn filter_property(f: &Filter, name: &str) -> Top {
    match name {
        "spec" => Some(Some(Any::from(f.spec.clone()))),
        "partialUpdates" => Some(Some(Any::Boolean(f.partial_updates))),
        _ => None,
    }
}

/// Values found (path, value) and the paths that could not be read.
type Values = (Vec<(String, Any)>, Vec<MissingProperty>);

/// The current values of an object's requested properties; `Err` for an invalid path.
fn values(state: &State, ctx: &Ctx, r: &MoRef, paths: &[String]) -> MethodResult<Values> {
    let mut vals = Vec::with_capacity(paths.len());
    let mut missing = Vec::new();
    for p in paths {
        let read = || property::read(state, ctx, r, p);
        // VMs' values change only through write access (see `crate::encoded`).
        let value = if ctx.encoded && r.r#type == "VirtualMachine" && crate::encoded::enabled() {
            crate::encoded::read(state, r, p, read)
        } else {
            read()
        };
        match value {
            Ok(Some(v)) => vals.push((p.clone(), v)),
            Ok(None) => {}
            Err(f) if matches!(f.fault, esx_vim::BaseMethodFault::InvalidProperty(_)) => {
                return Err(f)
            }
            Err(f) => missing.push(MissingProperty {
                path: p.clone(),
                fault: f.localized(),
            }),
        }
    }
    Ok((vals, missing))
}

/// The contents of one selected object (`None` when it is gone).
fn build(
    state: &State,
    ctx: &Ctx,
    r: MoRef,
    paths: &[String],
) -> MethodResult<Option<ObjectContent>> {
    if state.get(&r).is_none() {
        return Ok(None);
    }
    let (vals, missing) = values(state, ctx, &r, paths)?;
    Ok(Some(ObjectContent {
        obj: r,
        prop_set: vals
            .into_iter()
            .map(|(name, val)| DynamicProperty { name, val })
            .collect(),
        missing_set: missing,
    }))
}

/// Runs every spec and returns the object contents.
pub fn retrieve(
    state: &State,
    ctx: &Ctx,
    specs: &[PropertyFilterSpec],
) -> MethodResult<Vec<ObjectContent>> {
    let sel = select(state, ctx, specs)?;
    let mut out = Vec::with_capacity(sel.items.len());
    for (r, i) in sel.items {
        let paths = sel.paths.get(i).map(Vec::as_slice).unwrap_or_default();
        out.extend(build(state, ctx, r, paths)?);
    }
    Ok(out)
}

/// A `RetrievePropertiesEx` result not sent yet: the selection (shared with later calls that
/// select the same) and where the next page starts in it (their contents are built when their
/// page is asked for), and the `maxObjects` of the call that made the token (continuation pages
/// keep it).
#[derive(Debug)]
pub struct Paged {
    sel: Arc<Selection>,
    next: usize,
    max: Option<i32>,
}

/// `RetrievePropertiesEx`: the first page, with a token when more remain. Only the first page
/// is built now; an invalid property path is still reported by this call (each path set is
/// tried on one object of each type before the token is handed out).
pub fn retrieve_ex(
    state: &State,
    ctx: &Ctx,
    specs: &[PropertyFilterSpec],
    max: Option<i32>,
) -> MethodResult<Option<RetrieveResult>> {
    match paged(state, ctx, specs, max)? {
        Some(p) => page(state, ctx, p).map(Some),
        None => Ok(None),
    }
}

/// A page of a `RetrievePropertiesEx` result as the HTTP server writes it: the token, and each
/// object's `<objects>` element (VMs' kept between calls, see [`crate::encoded::object`]).
#[derive(Debug)]
pub struct XmlPage {
    /// The token of the rest, when more remain.
    pub token: Option<String>,
    /// Each object's `<objects>` element, in order.
    pub objects: Vec<Arc<str>>,
}

/// [`retrieve_ex`] with the page written as XML.
pub fn retrieve_ex_xml(
    state: &State,
    ctx: &Ctx,
    specs: &[PropertyFilterSpec],
    max: Option<i32>,
) -> MethodResult<Option<XmlPage>> {
    match paged(state, ctx, specs, max)? {
        Some(p) => page_xml(state, ctx, p).map(Some),
        None => Ok(None),
    }
}

/// [`continue_ex`] with the page written as XML.
pub fn continue_ex_xml(state: &State, ctx: &Ctx, token: &str) -> MethodResult<XmlPage> {
    let p = take_token(state, token).ok_or_else(|| Fault::invalid_argument("token"))?;
    page_xml(state, ctx, p)
}

/// The selection of a `RetrievePropertiesEx` call, its paths checked (see [`retrieve_ex`]);
/// `None` when it selects nothing.
fn paged(
    state: &State,
    ctx: &Ctx,
    specs: &[PropertyFilterSpec],
    max: Option<i32>,
) -> MethodResult<Option<Paged>> {
    let size = page_size(max);
    let check = |sel: &Selection| {
        let mut tried: HashSet<usize, IdHash> =
            sel.items.iter().take(size).map(|(_, i)| *i).collect();
        for (r, i) in sel.items.iter().skip(size) {
            if tried.insert(*i) {
                let paths = sel.paths.get(*i).map(Vec::as_slice).unwrap_or_default();
                values(state, ctx, r, paths)?;
            }
        }
        Ok(())
    };
    let sel = selected(state, ctx, specs, check)?;
    if sel.items.is_empty() {
        return Ok(None);
    }
    Ok(Some(Paged { sel, next: 0, max }))
}

fn page_size(max: Option<i32>) -> usize {
    match max {
        Some(n) if n > 0 => n as usize,
        _ => DEFAULT_PAGE,
    }
}

/// Builds the next page of `p` and stores the rest under a new token.
fn page(state: &State, ctx: &Ctx, p: Paged) -> MethodResult<RetrieveResult> {
    let (token, objects) = next_page(state, p, |_, r, paths| build(state, ctx, r.clone(), paths))?;
    Ok(RetrieveResult { token, objects })
}

/// [`page`] written as XML: VMs' elements kept between calls (in the selection, and in
/// [`crate::encoded`] for other selections), the others encoded afresh.
fn page_xml(state: &State, ctx: &Ctx, p: Paged) -> MethodResult<XmlPage> {
    let sel = p.sel.clone();
    let (token, objects) = next_page(state, p, |k, r, paths| {
        if let Some(xml) = sel.element(state, k) {
            return Ok(Some(xml.clone()));
        }
        if r.r#type == "VirtualMachine" {
            let made =
                crate::encoded::object(state, r, paths, || build(state, ctx, r.clone(), paths))?;
            Ok(made.map(|(xml, kept)| {
                if kept {
                    sel.keep_element(state, k, &xml);
                }
                xml
            }))
        } else {
            Ok(build(state, ctx, r.clone(), paths)?.map(|oc| crate::encoded::object_xml(&oc)))
        }
    })?;
    Ok(XmlPage { token, objects })
}

/// The next page of `p`, each object made by `one` (given its index in the selection), and
/// the token under which the rest is stored.
fn next_page<T>(
    state: &State,
    mut p: Paged,
    mut one: impl FnMut(usize, &MoRef, &[String]) -> MethodResult<Option<T>>,
) -> MethodResult<(Option<String>, Vec<T>)> {
    let size = page_size(p.max);
    let end = p.next.saturating_add(size).min(p.sel.items.len());
    let items = p.sel.items.get(p.next..end).unwrap_or_default();
    let mut objects = Vec::with_capacity(items.len());
    for (k, (r, i)) in (p.next..).zip(items) {
        let paths = p.sel.paths.get(*i).map(Vec::as_slice).unwrap_or_default();
        objects.extend(one(k, r, paths)?);
    }
    p.next = end;
    let token = if p.next >= p.sel.items.len() {
        None
    } else {
        let t = state.new_id("token");
        let mut pages = state.pages.lock().unwrap_or_else(|e| e.into_inner());
        pages.insert(t.clone(), p);
        if pages.len() > 256 {
            pages.pop_first();
        }
        Some(t)
    };
    Ok((token, objects))
}

/// `ContinueRetrievePropertiesEx`: builds the next page; objects removed since the first call
/// are left out.
pub fn continue_ex(state: &State, ctx: &Ctx, token: &str) -> MethodResult<RetrieveResult> {
    let p = take_token(state, token).ok_or_else(|| Fault::invalid_argument("token"))?;
    page(state, ctx, p)
}

/// Removes the paged result under `token` (`CancelRetrievePropertiesEx`).
pub fn take_token(state: &State, token: &str) -> Option<Paged> {
    state
        .pages
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(token)
}

/// `CreateFilter`.
pub fn create_filter(
    state: &mut State,
    ctx: &Ctx,
    collector: &MoRef,
    spec: PropertyFilterSpec,
    partial: bool,
) -> MethodResult<MoRef> {
    // Validate the spec now, as vSphere does.
    retrieve(state, ctx, std::slice::from_ref(&spec))?;
    let id = state.new_id("session[filter]");
    match state.lookup_mut(collector)? {
        Mo::PropertyCollector(c) => c.filters.push(id.clone()),
        _ => return Err(Fault::not_found(collector)),
    }
    state.insert(
        &id,
        Mo::PropertyFilter(Filter {
            spec,
            partial_updates: partial,
            collector: collector.value.clone(),
            reported: HashMap::new(),
            initialized: false,
        }),
    );
    Ok(moref("PropertyFilter", &id))
}

/// `DestroyPropertyFilter`.
pub fn destroy_filter(state: &mut State, filter: &MoRef) -> MethodResult<()> {
    let coll = match state.lookup(filter)? {
        Mo::PropertyFilter(f) => f.collector.clone(),
        _ => return Err(Fault::not_found(filter)),
    };
    state.objects.remove(&filter.value);
    if let Some(Mo::PropertyCollector(c)) = state.objects.get_mut(&coll) {
        c.filters.retain(|f| f != &filter.value);
    }
    Ok(())
}

/// Computes the changes since each filter's last report; `None` when nothing changed.
pub fn poll_updates(
    state: &mut State,
    ctx: &Ctx,
    collector: &MoRef,
) -> MethodResult<Option<UpdateSet>> {
    let filters = match state.lookup(collector)? {
        Mo::PropertyCollector(c) => c.filters.clone(),
        _ => return Err(Fault::not_found(collector)),
    };
    let mut updates = Vec::new();
    for fid in filters {
        let Some(Mo::PropertyFilter(f)) = state.objects.get(&fid) else {
            continue;
        };
        let spec = f.spec.clone();
        let objs = select_objects(state, ctx, &spec).unwrap_or_default();
        let mut current: HashMap<MoRef, Vec<(String, Any)>> = HashMap::new();
        let mut order = Vec::new();
        for r in objs {
            let Some(m) = state.get(&r) else { continue };
            let Some(paths) = paths_for(m, &spec.prop_set) else {
                continue;
            };
            let (vals, _) = values(state, ctx, &r, &paths).unwrap_or_default();
            order.push(r.clone());
            current.insert(r, vals);
        }
        let Some(Mo::PropertyFilter(f)) = state.objects.get_mut(&fid) else {
            continue;
        };
        let mut object_set = Vec::new();
        for r in &order {
            let now = current.get(r).cloned().unwrap_or_default();
            match f.reported.get(r) {
                None => object_set.push(ObjectUpdate {
                    kind: ObjectUpdateKind::Enter,
                    obj: r.clone(),
                    change_set: now
                        .into_iter()
                        .map(|(name, v)| PropertyChange {
                            name,
                            op: PropertyChangeOp::Assign,
                            val: Some(v),
                        })
                        .collect(),
                    missing_set: Vec::new(),
                }),
                Some(before) => {
                    let mut changes = Vec::new();
                    for (name, v) in &now {
                        if before.iter().find(|(n, _)| n == name).map(|(_, b)| b) != Some(v) {
                            changes.push(PropertyChange {
                                name: name.clone(),
                                op: PropertyChangeOp::Assign,
                                val: Some(v.clone()),
                            });
                        }
                    }
                    for (name, _) in before {
                        if !now.iter().any(|(n, _)| n == name) {
                            changes.push(PropertyChange {
                                name: name.clone(),
                                op: PropertyChangeOp::Assign,
                                val: None,
                            });
                        }
                    }
                    if !changes.is_empty() {
                        object_set.push(ObjectUpdate {
                            kind: ObjectUpdateKind::Modify,
                            obj: r.clone(),
                            change_set: changes,
                            missing_set: Vec::new(),
                        });
                    }
                }
            }
        }
        for r in f.reported.keys() {
            if !current.contains_key(r) {
                object_set.push(ObjectUpdate {
                    kind: ObjectUpdateKind::Leave,
                    obj: r.clone(),
                    ..Default::default()
                });
            }
        }
        f.reported = current;
        f.initialized = true;
        if !object_set.is_empty() {
            updates.push(PropertyFilterUpdate {
                filter: moref("PropertyFilter", &fid),
                object_set,
                missing_set: Vec::new(),
            });
        }
    }
    if updates.is_empty() {
        return Ok(None);
    }
    let version = match state.lookup_mut(collector)? {
        Mo::PropertyCollector(c) => {
            c.version += 1;
            c.version
        }
        _ => 0,
    };
    Ok(Some(UpdateSet {
        version: version.to_string(),
        filter_set: updates,
        truncated: None,
    }))
}

/// `CreatePropertyCollector`.
pub fn create_collector(state: &mut State, ctx: &Ctx) -> MoRef {
    let id = state.new_id("session[collector]");
    state.insert(
        &id,
        Mo::PropertyCollector(Collector {
            session: ctx.session.clone(),
            ..Default::default()
        }),
    );
    moref("PropertyCollector", &id)
}

/// `DestroyPropertyCollector` (the default collector cannot be destroyed).
pub fn destroy_collector(state: &mut State, r: &MoRef) -> MethodResult<()> {
    let filters = match state.lookup(r)? {
        Mo::PropertyCollector(c) if c.session.is_some() => c.filters.clone(),
        Mo::PropertyCollector(_) => {
            return Err(Fault::invalid_state(
                "the default collector cannot be destroyed",
            ))
        }
        _ => return Err(Fault::not_found(r)),
    };
    for f in filters {
        state.objects.remove(&f);
    }
    state.objects.remove(&r.value);
    Ok(())
}

#[cfg(test)]
mod tests;
