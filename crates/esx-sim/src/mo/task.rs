//! `TaskManager` and `Task`.

use esx_vim::{Any, BaseTaskReason, TaskInfo, TaskInfoState, TaskReasonUser};

use crate::fault::{Fault, MethodResult};
use crate::property::{refs, Top};
use crate::state::{moref, now, Mo, MoRef, State};

/// A task's model: its `info`.
#[derive(Debug, Clone)]
pub struct TaskMo {
    /// `info`.
    pub info: TaskInfo,
}

impl TaskMo {
    /// Whether the task has not finished.
    pub fn is_running(&self) -> bool {
        matches!(
            self.info.state,
            TaskInfoState::Queued | TaskInfoState::Running
        )
    }

    /// Reads a top-level property.
    pub fn property(&self, name: &str) -> Top {
        Some(match name {
            "info" => Some(Any::from(self.info.clone())),
            _ => return None,
        })
    }
}

/// Creates a running task for `method` on `entity`.
pub fn create(state: &mut State, entity: &MoRef, method: &str, user: &str) -> MoRef {
    let id = state.new_id(if state.flavor() == crate::config::Flavor::Esx {
        "haTask"
    } else {
        "task"
    });
    let r = moref("Task", &id);
    let info = TaskInfo {
        key: id.clone(),
        task: r.clone(),
        name: Some(method.to_owned()),
        description_id: format!("{}.{}", entity.r#type, method.trim_end_matches("_Task")),
        entity: Some(entity.clone()),
        entity_name: state.name_of(entity),
        state: TaskInfoState::Running,
        cancelable: false,
        progress: Some(0),
        reason: BaseTaskReason::from(TaskReasonUser {
            user_name: user.to_owned(),
        }),
        queue_time: now(),
        start_time: Some(now()),
        event_chain_id: state.new_number() as i32,
        ..Default::default()
    };
    state.insert(&id, Mo::Task(Box::new(TaskMo { info })));
    prune(state);
    r
}

/// Finishes a task with a result or a fault.
pub fn finish(state: &mut State, task: &MoRef, result: Result<Option<Any>, Fault>) {
    if let Some(Mo::Task(t)) = state.objects.get_mut(&task.value) {
        match result {
            Ok(v) => {
                t.info.state = TaskInfoState::Success;
                t.info.result = v;
            }
            Err(f) => {
                t.info.state = TaskInfoState::Error;
                t.info.error = Some(f.localized());
            }
        }
        t.info.progress = Some(100);
        t.info.complete_time = Some(now());
    }
}

/// What a task does when it completes.
pub type TaskWork =
    Box<dyn FnOnce(&mut State) -> Result<Option<Any>, Fault> + Send + Sync + 'static>;

/// A task that runs for a configured time: it reports progress until `due`, then does its
/// work (unless cancelled first).
pub struct Deferred {
    /// The task.
    pub task: MoRef,
    /// When it started.
    pub started: std::time::Instant,
    /// When it completes.
    pub due: std::time::Instant,
    work: TaskWork,
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("task", &self.task.value)
            .field("due", &self.due)
            .finish_non_exhaustive()
    }
}

/// Lets `task` run for `delay` before `work` is done; it can be cancelled meanwhile.
pub fn defer(state: &mut State, task: &MoRef, delay: std::time::Duration, work: TaskWork) {
    let started = std::time::Instant::now();
    if let Some(Mo::Task(t)) = state.objects.get_mut(&task.value) {
        t.info.cancelable = true;
    }
    state.deferred.push(Deferred {
        task: task.clone(),
        started,
        due: started + delay,
        work,
    });
}

/// Advances the running tasks: updates their progress and completes the ones due. Returns
/// whether anything visible changed.
pub fn tick(state: &mut State) -> bool {
    let now_i = std::time::Instant::now();
    let mut changed = false;
    let (due, waiting): (Vec<Deferred>, Vec<Deferred>) = std::mem::take(&mut state.deferred)
        .into_iter()
        .partition(|d| d.due <= now_i);
    state.deferred = waiting;
    for d in &state.deferred {
        let total = d.due.duration_since(d.started).as_millis().max(1);
        let done = now_i.duration_since(d.started).as_millis();
        let pct = ((done * 100 / total) as i32).clamp(1, 99);
        if let Some(Mo::Task(t)) = state.objects.get_mut(&d.task.value) {
            if t.info.progress != Some(pct) {
                t.info.progress = Some(pct);
                changed = true;
            }
        }
    }
    for d in due {
        let result = (d.work)(state);
        finish(state, &d.task, result);
        changed = true;
    }
    changed
}

/// `CancelTask`: a task still running its configured time ends with `RequestCanceled` and
/// its work is never done.
pub fn cancel(state: &mut State, task: &MoRef) -> Result<(), Fault> {
    match state.lookup(task)? {
        Mo::Task(t) if t.is_running() => {}
        Mo::Task(_) => return Err(Fault::invalid_state("The task has already completed.")),
        _ => return Err(Fault::not_found(task)),
    }
    let before = state.deferred.len();
    state.deferred.retain(|d| &d.task != task);
    if state.deferred.len() == before {
        return Err(Fault::invalid_state("The task cannot be cancelled now."));
    }
    finish(
        state,
        task,
        Err(Fault::new(
            esx_vim::RequestCanceled::default(),
            "The task was canceled by a user.",
        )),
    );
    Ok(())
}

/// Keeps at most a few hundred finished tasks.
fn prune(state: &mut State) {
    let n = state
        .objects
        .values()
        .filter(|m| matches!(m, Mo::Task(_)))
        .count();
    if n <= 500 {
        return;
    }
    let mut done: Vec<(u64, String)> = state
        .objects
        .iter()
        .filter_map(|(id, m)| match m {
            Mo::Task(t) if !t.is_running() => {
                let num = id.rsplit('-').next()?.parse().ok()?;
                Some((num, id.clone()))
            }
            _ => None,
        })
        .collect();
    done.sort();
    for (_, id) in done.into_iter().take(n - 400) {
        state.objects.remove(&id);
    }
}

/// Properties of the task manager.
pub fn manager_property(state: &State, name: &str) -> Top {
    Some(match name {
        "recentTask" => {
            let mut v: Vec<(u64, MoRef)> = state
                .objects
                .iter()
                .filter_map(|(id, m)| match m {
                    Mo::Task(_) => Some((id.rsplit('-').next()?.parse().ok()?, moref("Task", id))),
                    _ => None,
                })
                .collect();
            v.sort();
            let keep = v.len().saturating_sub(50);
            Some(refs(v.into_iter().skip(keep).map(|(_, r)| r).collect()))
        }
        "description" => Some(Any::from(description())),
        "maxCollector" => Some(Any::Int(32)),
        _ => return None,
    })
}

/// `TaskManager.description`: labels for the task names the simulator issues, the task
/// states and the reasons.
fn description() -> esx_vim::TaskDescription {
    use esx_vim::{BaseElementDescription, BaseTypeDescription, ElementDescription};
    let el = |key: &str, label: &str| {
        BaseElementDescription::from(ElementDescription {
            key: key.to_owned(),
            label: label.to_owned(),
            summary: label.to_owned(),
        })
    };
    let ty = |key: &str, label: &str| {
        BaseTypeDescription::from(esx_vim::TypeDescription {
            key: key.to_owned(),
            label: label.to_owned(),
            summary: label.to_owned(),
        })
    };
    let method_info = [
        ("VirtualMachine.PowerOnVM", "Power On virtual machine"),
        ("VirtualMachine.PowerOffVM", "Power Off virtual machine"),
        ("VirtualMachine.SuspendVM", "Suspend virtual machine"),
        ("VirtualMachine.ResetVM", "Reset virtual machine"),
        ("VirtualMachine.ReconfigVM", "Reconfigure virtual machine"),
        ("VirtualMachine.Destroy", "Delete virtual machine"),
        (
            "VirtualMachine.CreateSnapshot",
            "Create virtual machine snapshot",
        ),
        (
            "VirtualMachine.RevertToCurrentSnapshot",
            "Revert to current snapshot",
        ),
        ("VirtualMachine.RemoveAllSnapshots", "Remove all snapshots"),
        ("VirtualMachine.MigrateVM", "Migrate virtual machine"),
        ("VirtualMachine.RelocateVM", "Relocate virtual machine"),
        ("VirtualMachine.Rename", "Rename virtual machine"),
        (
            "VirtualMachineSnapshot.RevertToSnapshot",
            "Revert to snapshot",
        ),
        ("VirtualMachineSnapshot.RemoveSnapshot", "Remove snapshot"),
        ("Folder.CreateVM", "Create virtual machine"),
        ("Folder.RegisterVM", "Register virtual machine"),
        ("Folder.MoveIntoFolder", "Move entities"),
        ("HostSystem.EnterMaintenanceMode", "Enter maintenance mode"),
        ("HostSystem.ExitMaintenanceMode", "Exit maintenance mode"),
        ("HostSystem.ShutdownHost", "Shut down host"),
    ]
    .into_iter()
    .map(|(k, l)| el(k, l))
    .collect();
    let state = [
        ("queued", "Queued"),
        ("running", "Running"),
        ("success", "Success"),
        ("error", "Error"),
    ]
    .into_iter()
    .map(|(k, l)| el(k, l))
    .collect();
    let reason = [
        ("TaskReasonUser", "Started by a user"),
        ("TaskReasonSystem", "Started by the server"),
        ("TaskReasonAlarm", "Started by an alarm"),
        ("TaskReasonSchedule", "Started by a scheduled task"),
    ]
    .into_iter()
    .map(|(k, l)| ty(k, l))
    .collect();
    esx_vim::TaskDescription {
        method_info,
        state,
        reason,
    }
}

/// A `TaskHistoryCollector`'s filter and positions.
#[derive(Debug, Clone)]
pub struct Collector {
    filter: esx_vim::TaskFilterSpec,
    page_size: usize,
    /// The task number after which `ReadNextTasks` continues.
    after: u64,
    /// The task number before which `ReadPreviousTasks` continues.
    before: u64,
}

/// The task history collectors by id.
#[derive(Debug, Default)]
pub struct Collectors {
    by_id: std::collections::BTreeMap<String, Collector>,
}

/// Largest page of a task collector.
const MAX_TASK_PAGE: usize = 1000;

fn task_number(id: &str) -> Option<u64> {
    id.rsplit('-').next()?.parse().ok()
}

/// Whether `target` is `entity` or lies below it as `recursion` allows.
fn entity_covers(
    state: &State,
    entity: &MoRef,
    recursion: &esx_vim::TaskFilterSpecRecursionOption,
    target: &MoRef,
) -> bool {
    use esx_vim::TaskFilterSpecRecursionOption as R;
    if entity == target {
        return !matches!(recursion, R::Children);
    }
    if matches!(recursion, R::SelfValue) {
        return false;
    }
    let mut cur = state.parent_of(target);
    for depth in 1..64 {
        let Some(p) = cur else { break };
        if &p == entity {
            return depth == 1 || matches!(recursion, R::All);
        }
        cur = state.parent_of(&p);
    }
    false
}

/// Whether task `t` passes `f`.
fn task_matches(state: &State, f: &esx_vim::TaskFilterSpec, t: &TaskInfo) -> bool {
    use esx_vim::TaskFilterSpecTimeOption as T;
    if let Some(by) = &f.entity {
        match &t.entity {
            Some(e) if entity_covers(state, &by.entity, &by.recursion, e) => {}
            _ => return false,
        }
    }
    if let Some(by) = &f.time {
        let at = match by.time_type {
            T::QueuedTime => Some(t.queue_time),
            T::StartedTime => t.start_time,
            _ => t.complete_time,
        };
        let Some(at) = at else { return false };
        if by.begin_time.is_some_and(|b| at < b) || by.end_time.is_some_and(|e| at > e) {
            return false;
        }
    }
    if let Some(by) = &f.user_name {
        let user = match &t.reason {
            BaseTaskReason::TaskReasonUser(u) => Some(u.user_name.as_str()),
            _ => None,
        };
        let ok = match user {
            Some(u) => by.user_list.iter().any(|x| x == u),
            None => by.system_user,
        };
        if !ok {
            return false;
        }
    }
    if !f.state.is_empty() && !f.state.contains(&t.state) {
        return false;
    }
    if !f.event_chain_id.is_empty() && !f.event_chain_id.contains(&t.event_chain_id) {
        return false;
    }
    true
}

/// The tasks passing `f`, oldest first, with their numbers.
fn matching(state: &State, f: &esx_vim::TaskFilterSpec) -> Vec<(u64, TaskInfo)> {
    let mut v: Vec<(u64, TaskInfo)> = state
        .objects
        .iter()
        .filter_map(|(id, m)| match m {
            Mo::Task(t) if task_matches(state, f, &t.info) => {
                Some((task_number(id)?, t.info.clone()))
            }
            _ => None,
        })
        .collect();
    v.sort_by_key(|(n, _)| *n);
    v
}

/// `CreateCollectorForTasks`.
pub fn create_collector(state: &mut State, filter: esx_vim::TaskFilterSpec) -> MethodResult<MoRef> {
    if state.managers.tasks.by_id.len() >= 32 {
        return Err(Fault::invalid_state(
            "Too many task collectors; destroy some first.",
        ));
    }
    if let Some(by) = &filter.entity {
        state.lookup(&by.entity)?;
    }
    let id = state.new_id("session[esx-sim]task");
    state.insert(&id, Mo::Manager("TaskHistoryCollector"));
    state.managers.tasks.by_id.insert(
        id.clone(),
        Collector {
            filter,
            page_size: 10,
            after: 0,
            before: u64::MAX,
        },
    );
    Ok(moref("TaskHistoryCollector", &id))
}

fn collector<'a>(state: &'a State, r: &MoRef) -> MethodResult<&'a Collector> {
    state.lookup(r)?;
    state
        .managers
        .tasks
        .by_id
        .get(&r.value)
        .ok_or_else(|| Fault::not_found(r))
}

fn collector_mut<'a>(state: &'a mut State, r: &MoRef) -> MethodResult<&'a mut Collector> {
    state.lookup(r)?;
    state
        .managers
        .tasks
        .by_id
        .get_mut(&r.value)
        .ok_or_else(|| Fault::not_found(r))
}

/// Properties of a task collector: `latestPage` (newest first) and `filter`.
pub fn collector_property(state: &State, r: &MoRef, name: &str) -> Top {
    let c = state.managers.tasks.by_id.get(&r.value)?;
    Some(match name {
        "latestPage" => {
            let hits = matching(state, &c.filter);
            let skip = hits.len().saturating_sub(c.page_size);
            let task_info = hits.into_iter().skip(skip).rev().map(|(_, t)| t).collect();
            Some(Any::from(esx_vim::ArrayOfTaskInfo { task_info }))
        }
        "filter" => Some(Any::from(c.filter.clone())),
        _ => return None,
    })
}

/// `ReadNextTasks` (`next`) or `ReadPreviousTasks`.
fn read(state: &mut State, r: &MoRef, n: i32, next: bool) -> MethodResult<Vec<TaskInfo>> {
    if n <= 0 || n as usize > MAX_TASK_PAGE {
        return Err(Fault::invalid_argument("maxCount"));
    }
    let c = collector(state, r)?.clone();
    let hits = matching(state, &c.filter);
    let page: Vec<(u64, TaskInfo)> = if next {
        hits.into_iter()
            .filter(|(k, _)| *k > c.after)
            .take(n as usize)
            .collect()
    } else {
        let older: Vec<_> = hits.into_iter().filter(|(k, _)| *k < c.before).collect();
        let skip = older.len().saturating_sub(n as usize);
        older.into_iter().skip(skip).collect()
    };
    let (first, last) = (page.first().map(|p| p.0), page.last().map(|p| p.0));
    let col = collector_mut(state, r)?;
    if next {
        if let Some(k) = last {
            col.after = k;
            col.before = k + 1;
        }
    } else if let Some(k) = first {
        col.before = k;
        col.after = k.saturating_sub(1);
    }
    Ok(page.into_iter().map(|(_, t)| t).collect())
}

/// The task collector methods (including the `HistoryCollector` ones when `_this` is a task
/// collector); gives any other request back.
pub fn handle_collector(
    state: &mut State,
    req: esx_vim::Request,
) -> Result<MethodResult<esx_vim::Response>, esx_vim::Request> {
    use esx_vim::{Request as Q, Response as R};
    let is_task_collector =
        |state: &State, r: &MoRef| state.managers.tasks.by_id.contains_key(&r.value);
    Ok(match req {
        Q::CreateCollectorForTasks(q) => (|| {
            match state.lookup(&q.this)? {
                Mo::TaskManager => {}
                _ => return Err(Fault::not_found(&q.this)),
            }
            let returnval = create_collector(state, q.filter)?;
            Ok(R::CreateCollectorForTasks(Box::new(
                esx_vim::CreateCollectorForTasksResponse { returnval },
            )))
        })(),
        Q::ReadNextTasks(q) => read(state, &q.this, q.max_count, true).map(|returnval| {
            R::ReadNextTasks(Box::new(esx_vim::ReadNextTasksResponse { returnval }))
        }),
        Q::ReadPreviousTasks(q) => read(state, &q.this, q.max_count, false).map(|returnval| {
            R::ReadPreviousTasks(Box::new(esx_vim::ReadPreviousTasksResponse { returnval }))
        }),
        Q::SetCollectorPageSize(q) if is_task_collector(state, &q.this) => (|| {
            if q.max_count < 0 || q.max_count as usize > MAX_TASK_PAGE {
                return Err(Fault::invalid_argument("maxCount"));
            }
            collector_mut(state, &q.this)?.page_size = q.max_count as usize;
            Ok(R::SetCollectorPageSize(Box::new(
                esx_vim::SetCollectorPageSizeResponse {},
            )))
        })(),
        Q::RewindCollector(q) if is_task_collector(state, &q.this) => (|| {
            let c = collector_mut(state, &q.this)?;
            c.after = 0;
            c.before = 0;
            Ok(R::RewindCollector(Box::new(
                esx_vim::RewindCollectorResponse {},
            )))
        })(),
        Q::ResetCollector(q) if is_task_collector(state, &q.this) => (|| {
            let f = collector(state, &q.this)?.filter.clone();
            let last = matching(state, &f).last().map(|p| p.0).unwrap_or(0);
            let c = collector_mut(state, &q.this)?;
            c.after = last;
            c.before = last + 1;
            Ok(R::ResetCollector(Box::new(
                esx_vim::ResetCollectorResponse {},
            )))
        })(),
        Q::DestroyCollector(q) if is_task_collector(state, &q.this) => {
            state.managers.tasks.by_id.remove(&q.this.value);
            state.objects.remove(&q.this.value);
            Ok(R::DestroyCollector(Box::new(
                esx_vim::DestroyCollectorResponse {},
            )))
        }
        other => return Err(other),
    })
}
