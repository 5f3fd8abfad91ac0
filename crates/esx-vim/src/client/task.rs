//! Waiting for a task with WaitForUpdatesEx, reporting progress, with typed task errors.

use crate::generated::{
    methods, ObjectSpec, PropertyFilterSpec, PropertySpec, TaskInfo, TaskInfoState, WaitOptions,
};
use crate::{Any, ManagedObjectReference};

use super::session::{Client, ClientError};

/// Seconds one WaitForUpdatesEx call may block on the server.
const MAX_WAIT_SECONDS: i32 = 60;

/// A task that ended in error, typed from `TaskInfo.error`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("task {task} ({description}) failed with {fault}: {message}")]
pub struct TaskError {
    /// The task's reference value, e.g. `task-42`.
    pub task: String,
    /// What the task was doing (`descriptionId`, e.g. `VirtualMachine.powerOn`).
    pub description: String,
    /// The fault type name, e.g. `InvalidPowerState`.
    pub fault: String,
    /// The server's localized message (may be empty).
    pub message: String,
    /// The whole task info, for callers that need the typed fault details.
    pub info: Box<TaskInfo>,
}

impl TaskError {
    fn from_info(info: TaskInfo) -> Self {
        let (fault, message) = match &info.error {
            Some(e) => (
                e.fault.type_name().to_string(),
                e.localized_message.clone().unwrap_or_default(),
            ),
            None => ("unknown fault".to_string(), String::new()),
        };
        Self {
            task: info.task.value.clone(),
            description: info.description_id.clone(),
            fault,
            message,
            info: Box::new(info),
        }
    }
}

impl Client {
    /// Waits until `task` succeeds or fails, calling `progress` with the task's percentage
    /// each time it is reported (and with 100 on success). Returns the final task info.
    ///
    /// Uses a private property collector so concurrent waits do not disturb each other.
    pub async fn wait_for_task<F>(
        &self,
        task: &ManagedObjectReference,
        mut progress: F,
    ) -> Result<TaskInfo, ClientError>
    where
        F: FnMut(i32) + Send,
    {
        let pc = methods::create_property_collector(self, self.property_collector()).await?;
        let result = self.wait_with(&pc, task, &mut progress).await;
        if let Err(e) = methods::destroy_property_collector(self, &pc).await {
            tracing::debug!(error = %e, "DestroyPropertyCollector failed");
        }
        result
    }

    async fn wait_with(
        &self,
        pc: &ManagedObjectReference,
        task: &ManagedObjectReference,
        progress: &mut (dyn FnMut(i32) + Send),
    ) -> Result<TaskInfo, ClientError> {
        let spec = PropertyFilterSpec {
            prop_set: vec![PropertySpec {
                r#type: "Task".into(),
                all: None,
                path_set: vec!["info".into()],
            }],
            object_set: vec![ObjectSpec {
                obj: task.clone(),
                skip: None,
                select_set: Vec::new(),
            }],
            report_missing_objects_in_results: None,
        };
        methods::create_filter(self, pc, spec, false).await?;
        let options = WaitOptions {
            max_wait_seconds: Some(MAX_WAIT_SECONDS),
            max_object_updates: None,
        };
        let mut version: Option<String> = None;
        let mut last_progress: Option<i32> = None;
        loop {
            let Some(update) =
                methods::wait_for_updates_ex(self, pc, version.clone(), Some(options.clone()))
                    .await?
            else {
                continue; // timed out on the server without a change
            };
            version = Some(update.version.clone());
            for change in update
                .filter_set
                .iter()
                .flat_map(|f| &f.object_set)
                .flat_map(|o| &o.change_set)
            {
                let Some(Any::TaskInfo(info)) =
                    change.val.as_ref().filter(|_| change.name == "info")
                else {
                    continue;
                };
                match info.state {
                    TaskInfoState::Success => {
                        if last_progress != Some(100) {
                            progress(100);
                        }
                        return Ok((**info).clone());
                    }
                    TaskInfoState::Error => {
                        return Err(TaskError::from_info((**info).clone()).into())
                    }
                    _ => {
                        if let Some(p) = info.progress.filter(|p| Some(*p) != last_progress) {
                            progress(p);
                            last_progress = Some(p);
                        }
                    }
                }
            }
        }
    }
}
