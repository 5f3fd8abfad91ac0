//! `ScheduledTaskManager` (vCenter only): no scheduled tasks (`scheduledTask` empty), the
//! `description` of what a scheduled task can be, and the (empty) per-entity lists.

use esx_vim::{
    Any, BaseElementDescription, BaseTypeDescription, ElementDescription, Request, Response,
    ScheduledTaskDescription, ScheduledTaskDetail, TypeDescription,
};

use crate::fault::{Fault, MethodResult};
use crate::property::{refs, Top};
use crate::state::{Ctx, Mo, MoRef, State};

fn el(key: &str, label: &str) -> BaseElementDescription {
    BaseElementDescription::from(ElementDescription {
        key: key.to_owned(),
        label: label.to_owned(),
        summary: label.to_owned(),
    })
}

fn description() -> ScheduledTaskDescription {
    let action = [
        ("MethodAction", "Call a method"),
        ("CreateTaskAction", "Create a task"),
        ("SendEmailAction", "Send a notification email"),
        ("SendSNMPAction", "Send a notification trap"),
        ("RunScriptAction", "Run a script"),
    ]
    .into_iter()
    .map(|(k, l)| {
        BaseTypeDescription::from(TypeDescription {
            key: k.to_owned(),
            label: l.to_owned(),
            summary: l.to_owned(),
        })
    })
    .collect();
    let scheduler_info = [
        ("OnceTaskScheduler", "Once", "once"),
        ("AfterStartupTaskScheduler", "After startup", "once"),
        ("HourlyTaskScheduler", "Hourly", "hourly"),
        ("DailyTaskScheduler", "Daily", "daily"),
        ("WeeklyTaskScheduler", "Weekly", "weekly"),
        ("MonthlyByDayTaskScheduler", "Monthly on a day", "monthly"),
        (
            "MonthlyByWeekdayTaskScheduler",
            "Monthly on a weekday",
            "monthly",
        ),
    ]
    .into_iter()
    .map(|(k, l, f)| ScheduledTaskDetail {
        key: k.to_owned(),
        label: l.to_owned(),
        summary: l.to_owned(),
        frequency: f.to_owned(),
    })
    .collect();
    let state = [
        ("queued", "Queued"),
        ("running", "Running"),
        ("success", "Completed"),
        ("error", "Failed"),
    ]
    .into_iter()
    .map(|(k, l)| el(k, l))
    .collect();
    let day_of_week = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ]
    .into_iter()
    .map(|d| {
        let mut label = d.to_owned();
        label[..1].make_ascii_uppercase();
        el(d, &label)
    })
    .collect();
    let week_of_month = [
        ("first", "First"),
        ("second", "Second"),
        ("third", "Third"),
        ("fourth", "Fourth"),
        ("last", "Last"),
    ]
    .into_iter()
    .map(|(k, l)| el(k, l))
    .collect();
    ScheduledTaskDescription {
        action,
        scheduler_info,
        state,
        day_of_week,
        week_of_month,
    }
}

/// Properties of the scheduled task manager.
pub fn property(name: &str) -> Top {
    Some(match name {
        "scheduledTask" => Some(refs(Vec::new())),
        "description" => Some(Any::from(description())),
        _ => return None,
    })
}

fn check_this(state: &State, this: &MoRef) -> MethodResult<()> {
    match state.lookup(this)? {
        Mo::Manager("ScheduledTaskManager") => Ok(()),
        _ => Err(Fault::not_found(this)),
    }
}

/// Whether `method` is one of the scheduled task manager's reads.
pub fn is_read(method: &str) -> bool {
    matches!(
        method,
        "RetrieveEntityScheduledTask" | "RetrieveObjectScheduledTask"
    )
}

/// `RetrieveEntityScheduledTask` and `RetrieveObjectScheduledTask`: nothing is scheduled.
pub fn handle_read(state: &State, _ctx: &Ctx, req: &Request) -> Option<MethodResult<Response>> {
    let run = || -> MethodResult<Response> {
        Ok(match req {
            Request::RetrieveEntityScheduledTask(q) => {
                check_this(state, &q.this)?;
                if let Some(e) = &q.entity {
                    state.lookup(e)?;
                }
                Response::RetrieveEntityScheduledTask(Box::new(
                    esx_vim::RetrieveEntityScheduledTaskResponse {
                        returnval: Vec::new(),
                    },
                ))
            }
            Request::RetrieveObjectScheduledTask(q) => {
                check_this(state, &q.this)?;
                if let Some(o) = &q.obj {
                    state.lookup(o)?;
                }
                Response::RetrieveObjectScheduledTask(Box::new(
                    esx_vim::RetrieveObjectScheduledTaskResponse {
                        returnval: Vec::new(),
                    },
                ))
            }
            _ => return Err(Fault::invalid_argument("method")),
        })
    };
    is_read(req.method()).then(run)
}
