//! A bounded RetrievePropertiesEx load against any vSphere SOAP endpoint (esx-sim or vcsim),
//! loopback only, to compare servers' throughput.
//!
//! Each of `--clients` clients logs in once (its own HTTPS connection), creates a ContainerView
//! over every VirtualMachine, and then repeats rounds of RetrievePropertiesEx (+
//! ContinueRetrievePropertiesEx while a token comes back) of `name`, `runtime.powerState`,
//! `config.uuid` and `summary` over all VMs, until `--rounds` rounds per client are done or
//! `--seconds` have passed (the round in progress finishes). Requests are encoded once with
//! esx-vim's encoder; replies are not decoded into types: the loop only checks the HTTP
//! status, counts `<objects>` and `<propSet>` and cuts out the token, so the client stays cheap
//! and the figure measures the server. Client and server CPU seconds are printed beside the
//! wall time so a reader can see which side was busy.
//!
//! ```text
//! cargo run --release -p esx-sim --example load -- --url https://127.0.0.1:18850/sdk \
//!     --user root --password pass --clients 8 --rounds 5 --seconds 60 --server-pid PID
//! ```
//!
//! Prints one `key=value` line: requests, VMs and bytes read, wall seconds, requests/s, VMs/s,
//! MB/s (10^6 bytes of SOAP reply bodies per second), client and server CPU seconds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use esx_vim::client::{view_spec, Client, ConnectOptions, HttpOptions, TlsOptions};
use esx_vim::codec::soap::encode_request;
use esx_vim::transport::{SoapCall, Transport};
use esx_vim::{
    ContinueRetrievePropertiesExRequestType, ManagedObjectReference, RetrieveOptions,
    RetrievePropertiesExRequestType,
};

/// The properties every round reads from every VM.
const PATHS: [&str; 4] = ["name", "runtime.powerState", "config.uuid", "summary"];

#[derive(Parser, Debug, Clone)]
#[command(about = "Bounded RetrievePropertiesEx load with concurrent clients")]
struct Args {
    /// SOAP endpoint, e.g. https://127.0.0.1:18850/sdk (the certificate is not verified).
    #[arg(long)]
    url: String,
    /// User name.
    #[arg(long, default_value = "root")]
    user: String,
    /// Password.
    #[arg(long, default_value = "pass")]
    password: String,
    /// Read the password from this environment variable instead (keeps it off the command line).
    #[arg(long)]
    password_env: Option<String>,
    /// Concurrent clients, each with its own session and connection.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Rounds (full listings of all VMs) per client.
    #[arg(long, default_value_t = 5)]
    rounds: u32,
    /// Stop starting new rounds after this many seconds.
    #[arg(long, default_value_t = 60.0)]
    seconds: f64,
    /// maxObjects per page (RetrieveOptions); 0 lets the server choose.
    #[arg(long, default_value_t = 1000)]
    page_size: i32,
    /// Fail unless every round returns exactly this many VMs.
    #[arg(long)]
    expect: Option<usize>,
    /// The server's process id, to report its CPU seconds during the run.
    #[arg(long)]
    server_pid: Option<u32>,
}

/// What one client did.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    requests: u64,
    rounds: u64,
    objects: u64,
    props: u64,
    bytes: u64,
}

/// A failure of the load loop.
#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error("client {client}: {source}")]
    Client {
        client: usize,
        #[source]
        source: esx_vim::client::ClientError,
    },
    #[error("client {client}: {method}: {source}")]
    Transport {
        client: usize,
        method: &'static str,
        #[source]
        source: esx_vim::transport::TransportError,
    },
    #[error("client {client}: {method} answered HTTP {status}: {body}")]
    Status {
        client: usize,
        method: &'static str,
        status: u16,
        body: String,
    },
    #[error("client {client}: round {round} returned {got} VMs, expected {want}")]
    Count {
        client: usize,
        round: u64,
        got: u64,
        want: u64,
    },
}

/// Counts `<objects` / `<propSet` element starts (any namespace prefix) and cuts out the
/// continuation token of a RetrievePropertiesEx reply, without decoding it.
fn scan(body: &[u8]) -> (u64, u64, Option<String>) {
    let mut objects = 0;
    let mut props = 0;
    let mut token = None;
    let mut parts = body.split(|&b| b == b'<');
    parts.next();
    for part in parts {
        // Skip a namespace prefix (`vim25:objects`).
        let name_end = part
            .iter()
            .position(|&b| b == b'>' || b == b' ' || b == b'/')
            .unwrap_or(part.len());
        let name = &part[..name_end];
        let local = match name.iter().rposition(|&b| b == b':') {
            Some(i) => &name[i + 1..],
            None => name,
        };
        match local {
            b"objects" => objects += 1,
            b"propSet" => props += 1,
            b"token" if token.is_none() => {
                if let Some(gt) = part.iter().position(|&b| b == b'>') {
                    token = Some(unescape(&String::from_utf8_lossy(&part[gt + 1..])));
                }
            }
            _ => {}
        }
    }
    (objects, props, token)
}

/// Undoes XML's predefined entities (tokens are plain, but be safe).
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// CPU seconds (user + system) of a process, from /proc/PID/stat (100 ticks a second).
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command: state is field 3 of the man page, utime 14 and stime 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// One client: log in, create the view, wait for the others, then run rounds until done.
async fn run_client(
    id: usize,
    args: Arc<Args>,
    start: Arc<tokio::sync::Barrier>,
    deadline: Arc<std::sync::OnceLock<Instant>>,
) -> Result<Tally, LoadError> {
    let client_err = |source| LoadError::Client { client: id, source };
    let options = ConnectOptions {
        user: args.user.clone(),
        password: args
            .password_env
            .as_ref()
            .and_then(|k| std::env::var(k).ok())
            .unwrap_or_else(|| args.password.clone()),
        http: HttpOptions {
            tls: TlsOptions {
                no_verify: true,
                ..Default::default()
            },
            gzip: false,
            request_timeout: Duration::from_secs(300),
            ..Default::default()
        },
        ..Default::default()
    };
    let client = Client::connect(&args.url, options)
        .await
        .map_err(client_err)?;
    let root = client.service_content().root_folder.clone();
    let view = client
        .create_container_view(&root, &["VirtualMachine"], true)
        .await
        .map_err(client_err)?;
    let pc: ManagedObjectReference = client.property_collector().clone();
    let first = encode_request(
        "RetrievePropertiesEx",
        &RetrievePropertiesExRequestType {
            this: pc.clone(),
            spec_set: vec![view_spec(&view.moref, "VirtualMachine", &PATHS)],
            options: RetrieveOptions {
                max_objects: (args.page_size > 0).then_some(args.page_size),
            },
        },
    );
    let transport = client.transport().clone();
    let send = |method: &'static str, body: Vec<u8>| {
        let transport = transport.clone();
        let pc = pc.clone();
        async move {
            let reply = transport
                .round_trip(SoapCall {
                    method,
                    this: Some((&pc.r#type, &pc.value)),
                    body,
                })
                .await
                .map_err(|source| LoadError::Transport {
                    client: id,
                    method,
                    source,
                })?;
            if reply.status != 200 {
                let end = reply.body.len().min(400);
                return Err(LoadError::Status {
                    client: id,
                    method,
                    status: reply.status,
                    body: String::from_utf8_lossy(&reply.body[..end]).into_owned(),
                });
            }
            Ok(reply.body)
        }
    };

    start.wait().await;
    let deadline = *deadline.get_or_init(|| Instant::now() + Duration::from_secs_f64(args.seconds));
    let mut tally = Tally::default();
    let mut want = args.expect.map(|n| n as u64);
    while tally.rounds < u64::from(args.rounds) && Instant::now() < deadline {
        let mut round_objects = 0;
        let mut body = send("RetrievePropertiesEx", first.clone()).await?;
        loop {
            tally.requests += 1;
            tally.bytes += body.len() as u64;
            let (objects, props, token) = scan(&body);
            round_objects += objects;
            tally.props += props;
            let Some(token) = token else { break };
            let next = encode_request(
                "ContinueRetrievePropertiesEx",
                &ContinueRetrievePropertiesExRequestType {
                    this: pc.clone(),
                    token,
                },
            );
            body = send("ContinueRetrievePropertiesEx", next).await?;
        }
        tally.rounds += 1;
        tally.objects += round_objects;
        let expected = *want.get_or_insert(round_objects);
        if round_objects != expected || round_objects == 0 {
            return Err(LoadError::Count {
                client: id,
                round: tally.rounds,
                got: round_objects,
                want: expected,
            });
        }
    }
    if let Err(e) = view.destroy(&client).await {
        eprintln!("client {id}: DestroyView: {e}");
    }
    if let Err(e) = client.logout().await {
        eprintln!("client {id}: Logout: {e}");
    }
    Ok(tally)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Arc::new(Args::parse());
    if args.clients == 0 {
        eprintln!("--clients must be at least 1");
        std::process::exit(2);
    }
    let start = Arc::new(tokio::sync::Barrier::new(args.clients + 1));
    let deadline = Arc::new(std::sync::OnceLock::new());
    let mut tasks = Vec::new();
    for id in 0..args.clients {
        tasks.push(tokio::spawn(run_client(
            id,
            args.clone(),
            start.clone(),
            deadline.clone(),
        )));
    }
    // All clients are logged in with their views made: start the clock.
    start.wait().await;
    let server_pid = args.server_pid.map(|p| p.to_string());
    let server0 = server_pid.as_deref().and_then(cpu_seconds);
    let client0 = cpu_seconds("self");
    let t0 = Instant::now();
    let mut total = Tally::default();
    let mut failed = false;
    for task in tasks {
        match task.await {
            Ok(Ok(t)) => {
                total.requests += t.requests;
                total.rounds += t.rounds;
                total.objects += t.objects;
                total.props += t.props;
                total.bytes += t.bytes;
            }
            Ok(Err(e)) => {
                eprintln!("{e}");
                failed = true;
            }
            Err(e) => {
                eprintln!("client task: {e}");
                failed = true;
            }
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let client_cpu = cpu_seconds("self").zip(client0).map(|(b, a)| b - a);
    let server_cpu = server_pid
        .as_deref()
        .and_then(cpu_seconds)
        .zip(server0)
        .map(|(b, a)| b - a);
    let fmt = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.2}"));
    println!(
        "clients={} rounds={} requests={} vms={} props_per_vm={:.2} bytes={} wall_s={:.3} \
         requests_per_s={:.1} vms_per_s={:.0} mb_per_s={:.2} client_cpu_s={} server_cpu_s={}",
        args.clients,
        total.rounds,
        total.requests,
        total.objects,
        total.props as f64 / total.objects.max(1) as f64,
        total.bytes,
        wall,
        total.requests as f64 / wall,
        total.objects as f64 / wall,
        total.bytes as f64 / wall / 1e6,
        fmt(client_cpu),
        fmt(server_cpu),
    );
    if failed {
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_counts_objects_and_cuts_token() {
        let body = br#"<soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><token>a&amp;1</token><objects><obj type="VirtualMachine">vm-1</obj><propSet><name>name</name><val xsi:type="xsd:string">x</val></propSet></objects><objects><propSet/><propSet></propSet></objects></returnval>"#;
        let (objects, props, token) = scan(body);
        assert_eq!((objects, props), (2, 3));
        assert_eq!(token.as_deref(), Some("a&1"));
        let (objects, _, token) = scan(b"<v:objects></v:objects>");
        assert_eq!((objects, token), (1, None));
    }
}
