//! Waiting for vSphere tasks (with progress and cancellation) and handling the questions a
//! VM may ask meanwhile (libvirt's `esxVI_WaitForTaskCompletion` and
//! `esxVI_HandleVirtualMachineQuestion`, done with one property filter on both).

use esx_vim::{
    methods, Any, BaseElementDescription, ManagedObjectReference as MoRef, ObjectSpec,
    PropertyFilterSpec, TaskInfo, TaskInfoState, VirtualMachineQuestionInfo, WaitOptions,
};

use crate::context::Context;
use crate::control::TaskProgress;
use crate::error::{Error, ErrorCode, Result};
use crate::types::Question;
use crate::vi::{self, prop_spec};
use crate::Connection;

/// Seconds one WaitForUpdatesEx may block on the server.
const MAX_WAIT_SECONDS: i32 = 60;

fn state_word(s: &TaskInfoState) -> &'static str {
    match s {
        TaskInfoState::Queued => "queued",
        TaskInfoState::Running => "running",
        TaskInfoState::Success => "success",
        TaskInfoState::Error => "error",
        _ => "unknown",
    }
}

/// A question in the driver's terms.
pub(crate) fn question_of(q: &VirtualMachineQuestionInfo) -> Question {
    let choices: Vec<(String, String)> = q
        .choice
        .choice_info
        .iter()
        .filter_map(|c| match c {
            BaseElementDescription::ElementDescription(e) => Some((e.key.clone(), e.label.clone())),
            _ => None,
        })
        .collect();
    let default = q
        .choice
        .default_index
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| choices.get(i))
        .map(|(k, _)| k.clone());
    Question {
        id: q.id.clone(),
        text: q.text.clone(),
        choices,
        default,
    }
}

/// libvirt's error for a question that blocks the VM.
pub(crate) fn blocked_by(q: &Question) -> Error {
    if q.choices.is_empty() {
        return Error::invalid_op(format!(
            "Pending question blocks virtual machine execution, question is '{}', no possible \
             answers",
            q.text
        ));
    }
    let answers: Vec<String> = q
        .choices
        .iter()
        .map(|(k, l)| format!("'{l}' ({k})"))
        .collect();
    Error::invalid_op(format!(
        "Pending question blocks virtual machine execution, question is '{}', available \
         answers are {}",
        q.text,
        answers.join(", ")
    ))
}

impl Connection {
    /// Answers a pending question with its default when the URI says `auto_answer=1`;
    /// otherwise (or without a default) fails with libvirt's "Pending question" error.
    pub(crate) async fn handle_question(
        &self,
        ctx: &Context,
        vm: &MoRef,
        q: &VirtualMachineQuestionInfo,
    ) -> Result<()> {
        let question = question_of(q);
        if !self.inner.uri.params.auto_answer() {
            return Err(blocked_by(&question));
        }
        let Some(answer) = question.default.clone() else {
            return Err(Error::invalid_op(format!(
                "Pending question blocks virtual machine execution, question is '{}', no \
                 default answer",
                question.text
            )));
        };
        tracing::info!(question = %question.text, answer = %answer, "answering a question with its default");
        methods::answer_vm(&*ctx.client, vm, question.id.clone(), answer).await?;
        Ok(())
    }

    /// Waits for `task` to end. `vm`'s questions are watched meanwhile. On failure the error
    /// is `"Could not {what}: <fault> - <message>"`.
    pub(crate) async fn wait_task(
        &self,
        ctx: &Context,
        task: &MoRef,
        vm: Option<&MoRef>,
        what: &str,
    ) -> Result<TaskInfo> {
        let mut objects = vec![ObjectSpec {
            obj: task.clone(),
            skip: Some(false),
            select_set: Vec::new(),
        }];
        let mut props = vec![prop_spec("Task", &["info"])];
        if let Some(vm) = vm {
            objects.push(ObjectSpec {
                obj: vm.clone(),
                skip: Some(false),
                select_set: Vec::new(),
            });
            props.push(prop_spec("VirtualMachine", &["runtime.question"]));
        }
        let spec = PropertyFilterSpec {
            prop_set: props,
            object_set: objects,
            report_missing_objects_in_results: None,
        };
        // Most tasks end quickly: one read may already see the end.
        let mut info: Option<TaskInfo> = None;
        let mut question: Option<VirtualMachineQuestionInfo> = None;
        for p in vi::retrieve(&ctx.client, spec.clone()).await? {
            match p.get("info") {
                Some(Any::TaskInfo(i)) => info = Some((**i).clone()),
                _ => {
                    if let Some(Any::VirtualMachineQuestionInfo(q)) = p.get("runtime.question") {
                        question = Some((**q).clone());
                    }
                }
            }
        }
        let info = info.ok_or_else(|| Error::internal(format!("Could not read task {task}")))?;
        if let Some(done) = self.finished(&info, what)? {
            return Ok(done);
        }
        self.report(&info);
        let pc = methods::create_property_collector(&*ctx.client, ctx.client.property_collector())
            .await?;
        let result = self
            .wait_loop(ctx, &pc, spec, task, vm, question, what)
            .await;
        if let Err(e) = methods::destroy_property_collector(&*ctx.client, &pc).await {
            tracing::debug!(error = %e, "DestroyPropertyCollector failed");
        }
        result
    }

    fn report(&self, info: &TaskInfo) {
        if let Some(c) = self.control() {
            c.report(&TaskProgress {
                task: info.task.value.clone(),
                description: info.description_id.clone(),
                percent: info.progress,
                state: state_word(&info.state).to_string(),
            });
        }
    }

    /// `Some(info)` on success, an error on failure, `None` while it runs.
    fn finished(&self, info: &TaskInfo, what: &str) -> Result<Option<TaskInfo>> {
        match info.state {
            TaskInfoState::Success => {
                self.report(&TaskInfo {
                    progress: Some(100),
                    ..info.clone()
                });
                Ok(Some(info.clone()))
            }
            TaskInfoState::Error => {
                let (fault, message) = match &info.error {
                    Some(e) => (
                        e.fault.type_name().to_string(),
                        e.localized_message.clone().unwrap_or_default(),
                    ),
                    None => ("MethodFault".to_string(), String::new()),
                };
                self.report(info);
                // libvirt reports a failed task as an internal error with the fault's text.
                let code = if fault == "RequestCanceled" {
                    ErrorCode::OperationAborted
                } else {
                    ErrorCode::InternalError
                };
                let task_error = esx_vim::client::TaskError {
                    task: info.task.value.clone(),
                    description: info.description_id.clone(),
                    fault: fault.clone(),
                    message: message.clone(),
                    info: Box::new(info.clone()),
                };
                Err(
                    Error::new(code, format!("Could not {what}: {fault} - {message}"))
                        .with_source(task_error),
                )
            }
            _ => Ok(None),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn wait_loop(
        &self,
        ctx: &Context,
        pc: &MoRef,
        spec: PropertyFilterSpec,
        task: &MoRef,
        vm: Option<&MoRef>,
        mut pending_question: Option<VirtualMachineQuestionInfo>,
        what: &str,
    ) -> Result<TaskInfo> {
        methods::create_filter(&*ctx.client, pc, spec, false).await?;
        let options = WaitOptions {
            max_wait_seconds: Some(MAX_WAIT_SECONDS),
            max_object_updates: None,
        };
        let cancel = self.control().and_then(|c| c.cancel_token()).cloned();
        let mut cancel_sent = false;
        let mut version: Option<String> = None;
        let mut blocked: Option<Error> = None;
        loop {
            if let (Some(q), Some(vm)) = (pending_question.take(), vm) {
                if let Err(e) = self.handle_question(ctx, vm, &q).await {
                    // libvirt cancels a task that a question blocks, then reports the question.
                    if !cancel_sent {
                        cancel_sent = true;
                        if let Err(c) = methods::cancel_task(&*ctx.client, task).await {
                            tracing::debug!(error = %c, "CancelTask failed");
                            return Err(e);
                        }
                    }
                    blocked = Some(e);
                }
            }
            let wait = methods::wait_for_updates_ex(
                &*ctx.client,
                pc,
                version.clone(),
                Some(options.clone()),
            );
            tokio::pin!(wait);
            let update = loop {
                let cancelled = async {
                    match &cancel {
                        Some(c) if !cancel_sent => c.cancelled().await,
                        _ => std::future::pending().await,
                    }
                };
                tokio::select! {
                    r = &mut wait => break r?,
                    _ = cancelled => {
                        cancel_sent = true;
                        tracing::info!(task = %task.value, "cancelling the task");
                        if let Err(e) = methods::cancel_task(&*ctx.client, task).await {
                            return Err(Error::new(
                                ErrorCode::OperationFailed,
                                format!("Could not {what}: cancelling task {} failed: {e}", task.value),
                            ));
                        }
                    }
                }
            };
            let Some(update) = update else { continue };
            version = Some(update.version.clone());
            for obj in update.filter_set.iter().flat_map(|f| &f.object_set) {
                for change in &obj.change_set {
                    match (change.name.as_str(), &change.val) {
                        ("info", Some(Any::TaskInfo(info))) => match self.finished(info, what) {
                            Ok(Some(done)) => return Ok(done),
                            Ok(None) => self.report(info),
                            Err(e) => {
                                if e.code == ErrorCode::OperationAborted {
                                    if let Some(b) = blocked.take() {
                                        return Err(b);
                                    }
                                }
                                return Err(e);
                            }
                        },
                        ("runtime.question", Some(Any::VirtualMachineQuestionInfo(q))) => {
                            pending_question = Some((**q).clone());
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

impl Connection {
    /// Sends a call that creates a task on the VM `vm` — never twice — and waits for the task.
    ///
    /// When the call broke off after it was sent (the connection dropped, a timeout, an
    /// answer without SOAP), the server may or may not have started the task: the VM's
    /// recent tasks are searched for one of `method` that was not there before, and that
    /// task is waited for. When there is none, the error says that the request may not
    /// have reached the server and what the VM's power state is now.
    pub(crate) async fn vm_task<Fut>(
        &self,
        ctx: &Context,
        vm: &crate::esx::Vm,
        method: &str,
        what: &str,
        call: Fut,
    ) -> Result<TaskInfo>
    where
        Fut: std::future::Future<Output = std::result::Result<MoRef, esx_vim::Error>>,
    {
        // A task that deletes the VM cannot watch the VM's questions while it runs.
        let watched = (method != "Destroy_Task").then_some(&vm.moref);
        let e = match call.await {
            Ok(task) => return self.wait_task(ctx, &task, watched, what).await,
            Err(e) if vi::ambiguous(&e) => e,
            Err(e) => return Err(Error::from(e).context(format!("Could not {what}"))),
        };
        tracing::warn!(error = %e, method, "a task call broke off; looking for the task it may have started");
        let before = vm.props.morefs("recentTask");
        let now = vi::get(
            &ctx.client,
            &vm.moref,
            &["recentTask", "runtime.powerState"],
        )
        .await;
        let state = match &now {
            Ok(p) => match p.get("runtime.powerState") {
                Some(Any::VirtualMachinePowerState(s)) => {
                    crate::types::DomainState::from_power_state(s)
                        .as_str()
                        .to_string()
                }
                _ => "unknown".to_string(),
            },
            Err(_) => "unknown".to_string(),
        };
        if let Ok(p) = &now {
            for t in p
                .morefs("recentTask")
                .iter()
                .filter(|t| !before.contains(t))
            {
                if let Ok(info) = vi::get(&ctx.client, t, &["info.name"]).await {
                    if info.str("info.name") == Some(method) {
                        tracing::info!(task = %t.value, "found the task the broken call started");
                        return self.wait_task(ctx, t, watched, what).await;
                    }
                }
            }
        }
        Err(Error::new(
            ErrorCode::OperationFailed,
            format!(
                "Could not {what}: {e}; the request may not have reached the server, it was not \
                 sent again, and the domain is {state} now"
            ),
        )
        .with_source(e))
    }
}
