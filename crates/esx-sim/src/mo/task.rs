//! `TaskManager` and `Task`.

use esx_vim::{Any, BaseTaskReason, TaskInfo, TaskInfoState, TaskReasonUser};

use crate::fault::Fault;
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
        "description" => None,
        "maxCollector" => Some(Any::Int(32)),
        _ => return None,
    })
}
