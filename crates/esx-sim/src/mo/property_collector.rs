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
mod tests {
    use super::*;
    use crate::mo::view_manager::{self, View};
    use esx_vim::{BaseSelectionSpec, ObjectSpec, PropertySpec, TraversalSpec};

    fn state(name: &str, vms: usize) -> State {
        let dir = std::env::temp_dir().join(format!("esx-sim-pc-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut cfg = crate::Config::new(&dir);
        cfg.flavor = crate::Flavor::Vcenter;
        cfg.inventory = format!("dc=1,host=1,vm={vms},ds=1,net=1")
            .parse()
            .unwrap_or_default();
        let mut s = State::new(cfg);
        assert!(crate::inventory::build(&mut s).is_ok());
        s
    }

    fn root(s: &State) -> MoRef {
        crate::mo::service_instance::content(s).root_folder
    }

    /// A spec reading `paths` of `ty` over everything a new container view of `types` shows.
    fn over_view(s: &mut State, types: &[&str], props: &[(&str, &[&str])]) -> PropertyFilterSpec {
        let container = root(s);
        let view = view_manager::create(
            s,
            View::Container {
                container,
                types: types.iter().map(|t| (*t).to_owned()).collect(),
                recursive: true,
            },
        );
        PropertyFilterSpec {
            prop_set: props
                .iter()
                .map(|(ty, paths)| PropertySpec {
                    r#type: (*ty).to_owned(),
                    path_set: paths.iter().map(|p| (*p).to_owned()).collect(),
                    ..Default::default()
                })
                .collect(),
            object_set: vec![ObjectSpec {
                obj: view,
                skip: Some(true),
                select_set: vec![BaseSelectionSpec::TraversalSpec(Box::new(TraversalSpec {
                    name: Some("v".into()),
                    r#type: "ContainerView".into(),
                    path: "view".into(),
                    skip: Some(false),
                    select_set: Vec::new(),
                }))],
            }],
            ..Default::default()
        }
    }

    fn vm_ids(s: &State) -> Vec<String> {
        s.objects
            .iter()
            .filter(|(_, m)| matches!(m, Mo::VirtualMachine(_)))
            .map(|(id, _)| id.clone())
            .collect()
    }

    #[test]
    fn selections_are_kept_per_caller_until_the_state_changes() {
        let mut s = state("kept", 30);
        let spec = over_view(
            &mut s,
            &["VirtualMachine"],
            &[("VirtualMachine", &["name"])],
        );
        let specs = std::slice::from_ref(&spec);
        let ctx = Ctx::default();
        let checked = |_: &Selection| -> MethodResult<()> { Ok(()) };
        let Ok(first) = selected(&s, &ctx, specs, checked) else {
            panic!("selects")
        };
        assert_eq!(first.items.len(), 30);
        // The same call again: the kept selection, not checked again.
        let again = selected(&s, &ctx, specs, |_| {
            panic!("a kept selection is not re-checked")
        });
        assert!(again.is_ok_and(|a| Arc::ptr_eq(&a, &first)));
        // Another session walks for itself.
        let other = Ctx {
            session: Some("another".into()),
            ..ctx.clone()
        };
        let theirs = selected(&s, &other, specs, checked);
        assert!(theirs.is_ok_and(|t| !Arc::ptr_eq(&t, &first)));
        // A selection whose check fails is not kept: the next call checks again.
        let mut fresh = s.generation.load(std::sync::atomic::Ordering::Acquire);
        s.changed();
        fresh += 1;
        assert_eq!(
            s.generation.load(std::sync::atomic::Ordering::Acquire),
            fresh
        );
        let refused = selected(&s, &ctx, specs, |_| Err(Fault::invalid_property("name")));
        assert!(refused.is_err());
        let mut rechecked = false;
        let after = selected(&s, &ctx, specs, |_| {
            rechecked = true;
            Ok(())
        });
        assert!(after.is_ok() && rechecked);
        // A change of the state ends the kept selection: a removed VM is not selected again.
        let gone = first.items[0].0.clone();
        s.objects.remove(&gone.value);
        s.changed();
        let Ok(now) = selected(&s, &ctx, specs, checked) else {
            panic!("selects")
        };
        assert_eq!(now.items.len(), 29);
        assert!(now.items.iter().all(|(r, _)| r != &gone));
    }

    #[test]
    fn pages_are_built_when_asked_and_skip_removed_objects() {
        let mut s = state("pages", 25);
        let spec = over_view(
            &mut s,
            &["VirtualMachine"],
            &[("VirtualMachine", &["name"])],
        );
        let ctx = Ctx::default();
        let first = retrieve_ex(&s, &ctx, std::slice::from_ref(&spec), Some(10));
        let first = first.ok().flatten().unwrap_or_default();
        assert_eq!(first.objects.len(), 10);
        let token = first.token.unwrap_or_default();
        // Remove two VMs not sent yet: the next pages leave them out.
        let sent: HashSet<String> = first.objects.iter().map(|o| o.obj.value.clone()).collect();
        let later: Vec<String> = vm_ids(&s)
            .into_iter()
            .filter(|id| !sent.contains(id))
            .take(2)
            .collect();
        for id in &later {
            s.objects.remove(id);
        }
        s.changed();
        let mut seen = first.objects.len();
        let mut token = Some(token);
        while let Some(t) = token {
            let next = continue_ex(&s, &ctx, &t).unwrap_or_default();
            assert!(next.objects.len() <= 10);
            assert!(next
                .objects
                .iter()
                .all(|o| !later.contains(&o.obj.value) && o.prop_set.len() == 1));
            seen += next.objects.len();
            token = next.token;
        }
        assert_eq!(seen, 23);
        assert!(continue_ex(&s, &ctx, "token-0").is_err());
        // The view's cached contents follow the change.
        let again = retrieve(&s, &ctx, std::slice::from_ref(&spec)).unwrap_or_default();
        assert_eq!(again.len(), 23);
    }

    #[test]
    fn an_invalid_path_on_a_later_page_faults_the_first_call() {
        let mut s = state("invalid", 5);
        let spec = over_view(
            &mut s,
            &["Folder", "VirtualMachine"],
            &[
                ("Folder", &["name"]),
                ("VirtualMachine", &["noSuchProperty"]),
            ],
        );
        let ctx = Ctx::default();
        // The first page (one object) holds a folder, so only the check of later objects
        // can find the invalid path.
        let mut valid = spec.clone();
        valid.prop_set[1].path_set = vec!["name".into()];
        let first = retrieve_ex(&s, &ctx, &[valid], Some(1)).ok().flatten();
        let first = first.unwrap_or_default();
        assert_eq!(
            first.objects.first().map(|o| o.obj.r#type.as_str()),
            Some("Folder")
        );
        assert!(first.token.is_some());
        s.pages.lock().map(|mut p| p.clear()).unwrap_or_default();
        let r = retrieve_ex(&s, &ctx, std::slice::from_ref(&spec), Some(1));
        assert!(
            matches!(&r, Err(f) if matches!(f.fault, esx_vim::BaseMethodFault::InvalidProperty(_)))
        );
        assert!(s.pages.lock().map(|p| p.is_empty()).unwrap_or(false));
    }

    #[test]
    fn summary_agrees_with_guest_and_config() {
        let mut s = state("summary", 2);
        let ids = vm_ids(&s);
        if let Some(Mo::VirtualMachine(vm)) = ids.first().and_then(|id| s.objects.get_mut(id)) {
            vm.runtime.power_state = esx_vim::VirtualMachinePowerState::PoweredOn;
        }
        let ctx = Ctx::default();
        for id in &ids {
            let r = moref("VirtualMachine", id);
            let read = |p: &str| property::read(&s, &ctx, &r, p).ok().flatten();
            let (Some(Any::VirtualMachineSummary(sum)), Some(Any::GuestInfo(g))) =
                (read("summary"), read("guest"))
            else {
                panic!("no summary or guest for {id}");
            };
            let gs = sum.guest.unwrap_or_default();
            assert_eq!(gs.guest_id, g.guest_id);
            assert_eq!(gs.guest_full_name, g.guest_full_name);
            assert_eq!(gs.tools_status, g.tools_status);
            assert_eq!(gs.tools_running_status, g.tools_running_status);
            assert_eq!(gs.host_name, g.host_name);
            assert_eq!(
                read("summary.config.vmPathName"),
                read("config.files.vmPathName")
            );
            assert_eq!(read("name"), read("summary.config.name"));
        }
    }

    /// `(envelope with its token replaced by "T", the token)`.
    fn untoken(xml: &[u8]) -> (String, Option<String>) {
        let xml = String::from_utf8_lossy(xml).into_owned();
        let token = xml
            .split_once("<token>")
            .and_then(|(_, rest)| rest.split_once("</token>"))
            .map(|(t, _)| t.to_owned());
        match &token {
            Some(t) => (
                xml.replace(&format!("<token>{t}</token>"), "<token>T</token>"),
                token,
            ),
            None => (xml, None),
        }
    }

    #[test]
    fn xml_pages_are_the_typed_pages_encoded_and_follow_changes() {
        if crate::encoded::mode() != crate::encoded::Mode::Objects {
            eprintln!("SKIPPED: ESX_SIM_ENCODED_CACHE keeps no object elements");
            return;
        }
        let mut s = state("xmlpages", 25);
        let spec = over_view(
            &mut s,
            &["VirtualMachine", "HostSystem"],
            &[
                ("VirtualMachine", &["name", "summary", "config", "guest"]),
                ("HostSystem", &["name", "parent", "hardware.systemInfo"]),
            ],
        );
        let this = crate::mo::service_instance::content(&s).property_collector;
        let ctx = Ctx {
            session: None,
            encoded: true,
        };
        let first = esx_vim::Request::RetrievePropertiesEx(Box::new(
            esx_vim::RetrievePropertiesExRequestType {
                this: this.clone(),
                spec_set: vec![spec],
                options: esx_vim::RetrieveOptions {
                    max_objects: Some(10),
                },
            },
        ));
        let next = |token: &str| {
            esx_vim::Request::ContinueRetrievePropertiesEx(Box::new(
                esx_vim::ContinueRetrievePropertiesExRequestType {
                    this: this.clone(),
                    token: token.to_owned(),
                },
            ))
        };
        let mut rounds = Vec::new();
        for round in 0..3 {
            if round == 2 {
                // A change: every kept element is stale.
                let ids = vm_ids(&s);
                if let Some(Mo::VirtualMachine(vm)) =
                    ids.first().and_then(|id| s.objects.get_mut(id))
                {
                    vm.runtime.power_state = esx_vim::VirtualMachinePowerState::PoweredOn;
                }
                s.changed();
            }
            let (mut xml_req, mut typed_req) = (first.clone(), first.clone());
            let mut pages = Vec::new();
            for _ in 0..10 {
                let xml = crate::dispatch::handle_read_xml(&s, &ctx, &xml_req);
                let xml = xml.and_then(Result::ok).unwrap_or_default();
                let typed = crate::dispatch::handle_read(&s, &ctx, &typed_req);
                let typed = typed.and_then(Result::ok).map(|r| r.to_envelope());
                let (xml, xml_token) = untoken(&xml);
                let (typed, typed_token) = untoken(&typed.unwrap_or_default());
                assert!(xml.contains("<objects>"), "{xml}");
                let at = xml
                    .bytes()
                    .zip(typed.bytes())
                    .position(|(a, b)| a != b)
                    .unwrap_or(xml.len().min(typed.len()));
                assert!(
                    xml == typed,
                    "round {round}, byte {at}: {:?} / {:?}",
                    xml.get(at.saturating_sub(200)..(at + 100).min(xml.len())),
                    typed.get(at.saturating_sub(200)..(at + 100).min(typed.len()))
                );
                pages.push(xml);
                match (xml_token, typed_token) {
                    (Some(a), Some(b)) => {
                        xml_req = next(&a);
                        typed_req = next(&b);
                    }
                    _ => break,
                }
            }
            assert_eq!(pages.len(), 3, "26 objects in pages of 10");
            rounds.push(pages.concat());
        }
        assert_eq!(rounds[0], rounds[1], "kept elements are served unchanged");
        assert_ne!(rounds[1], rounds[2], "a change is seen");
        assert!(rounds[2].contains("poweredOn"));
    }

    /// Sets every VM's power state, as an exclusive access would.
    fn power_all(s: &mut State, to: esx_vim::VirtualMachinePowerState) {
        for m in s.objects.values_mut() {
            if let Mo::VirtualMachine(vm) = m {
                vm.runtime.power_state = to.clone();
            }
        }
        s.changed();
    }

    #[test]
    fn a_change_between_pages_of_a_kept_selection_is_seen() {
        use esx_vim::VirtualMachinePowerState::{PoweredOff, PoweredOn};
        if crate::encoded::mode() != crate::encoded::Mode::Objects {
            eprintln!("SKIPPED: ESX_SIM_ENCODED_CACHE keeps no object elements");
            return;
        }
        let mut s = state("midpage", 25);
        let spec = over_view(
            &mut s,
            &["VirtualMachine"],
            &[("VirtualMachine", &["name", "runtime"])],
        );
        power_all(&mut s, PoweredOff);
        let this = crate::mo::service_instance::content(&s).property_collector;
        let ctx = Ctx {
            session: None,
            encoded: true,
        };
        let first = esx_vim::Request::RetrievePropertiesEx(Box::new(
            esx_vim::RetrievePropertiesExRequestType {
                this: this.clone(),
                spec_set: vec![spec],
                options: esx_vim::RetrieveOptions {
                    max_objects: Some(10),
                },
            },
        ));
        let call = |s: &State, req: &esx_vim::Request| {
            let xml = crate::dispatch::handle_read_xml(s, &ctx, req);
            untoken(&xml.and_then(Result::ok).unwrap_or_default())
        };
        let next = |token: Option<String>| {
            esx_vim::Request::ContinueRetrievePropertiesEx(Box::new(
                esx_vim::ContinueRetrievePropertiesExRequestType {
                    this: this.clone(),
                    token: token.unwrap_or_default(),
                },
            ))
        };
        // Two whole listings: the second is served from the kept selection's elements.
        for _ in 0..2 {
            let (mut xml, mut token) = call(&s, &first);
            let mut pages = 1;
            while token.is_some() {
                assert!(xml.contains("poweredOff") && !xml.contains("poweredOn"));
                (xml, token) = call(&s, &next(token));
                pages += 1;
            }
            assert_eq!(pages, 3);
        }
        // A third listing, the state changed after its first page: the later pages see it.
        let (page1, token) = call(&s, &first);
        assert!(page1.contains("poweredOff"));
        power_all(&mut s, PoweredOn);
        let (page2, token) = call(&s, &next(token));
        assert!(
            page2.contains("poweredOn") && !page2.contains("poweredOff"),
            "{page2}"
        );
        let (page3, _) = call(&s, &next(token));
        assert!(
            page3.contains("poweredOn") && !page3.contains("poweredOff"),
            "{page3}"
        );
    }
}
