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
