//! Our side: esx-vmx converting exactly as `esxsh -c esx://... domxml-*-native` does, on a
//! worker thread so that a hang would be noticed (and a panic caught) instead of stopping
//! the harness.

use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use esx_vmx::convert::{self, DatastoreResolver, FormatContext, ParseContext};

/// What esx-vmx answered for one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Ok(Vec<u8>),
    Refused(String),
    Panic(String),
    Hang,
}

type Job = (String, Vec<u8>);

/// The conversion thread.
pub struct Ours {
    jobs: Sender<Job>,
    results: Receiver<Answer>,
    timeout: Duration,
    pub hung: bool,
}

fn convert_one(op: &str, data: &[u8], resolver: &DatastoreResolver, virtual_hw: i64) -> Answer {
    let result = if op == "from" {
        let ctx = ParseContext {
            resolver,
            datacenter_path: None,
            moref: None,
        };
        convert::vmx_text_to_domain(data, &ctx)
            .map(|d| d.to_xml_with(&esx_domain::FormatOptions::DRIVER))
            .map_err(|e| e.to_string())
    } else {
        match std::str::from_utf8(data) {
            Err(e) => Err(e.to_string()),
            Ok(text) => convert::domain_xml_to_vmx(text, &FormatContext { resolver }, virtual_hw)
                .map_err(|e| e.to_string()),
        }
    };
    match result {
        Ok(text) => Answer::Ok(text.into_bytes()),
        Err(e) => Answer::Refused(e),
    }
}

impl Ours {
    pub fn new(resolver: DatastoreResolver, virtual_hw: i64, timeout: Duration) -> Ours {
        let (jobs, job_rx) = channel::<Job>();
        let (result_tx, results) = channel();
        std::thread::spawn(move || {
            for (op, data) in job_rx {
                let r = std::panic::catch_unwind(|| convert_one(&op, &data, &resolver, virtual_hw));
                let answer = r.unwrap_or_else(|p| {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    Answer::Panic(msg)
                });
                if result_tx.send(answer).is_err() {
                    break;
                }
            }
        });
        Ours {
            jobs,
            results,
            timeout,
            hung: false,
        }
    }

    pub fn convert(&mut self, op: &str, data: &[u8]) -> Answer {
        if self.hung {
            return Answer::Hang;
        }
        if self.jobs.send((op.to_string(), data.to_vec())).is_err() {
            return Answer::Panic("conversion thread gone".into());
        }
        match self.results.recv_timeout(self.timeout) {
            Ok(a) => a,
            Err(RecvTimeoutError::Timeout) => {
                self.hung = true;
                Answer::Hang
            }
            Err(RecvTimeoutError::Disconnected) => Answer::Panic("conversion thread gone".into()),
        }
    }
}
