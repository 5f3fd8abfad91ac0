//! Lists every virtual machine with its power state: one container view and paged
//! RetrievePropertiesEx.
//!
//! ```text
//! cargo run -p esx-vim --example list-vms -- --url https://127.0.0.1:PORT/sdk \
//!     --user USER --password-env VAR [--no-verify] [--ca-file FILE] [--page-size N]
//! ```
//! Prints `name<TAB>powerState` per VM, then `count=N`.
//!
//! Three requests after Login: CreateContainerView, RetrievePropertiesEx (the server picks the
//! page size unless `--page-size` is given; further pages come with
//! ContinueRetrievePropertiesEx), and Logout. The view is not destroyed explicitly: it belongs
//! to the session, and Logout ends the session.

use std::process::ExitCode;

use esx_vim::client::{property, view_spec, Client, ConnectOptions};
use esx_vim::generated::ObjectContent;
use esx_vim::Any;

struct Args {
    url: String,
    user: String,
    password_env: String,
    no_verify: bool,
    ca_file: Option<String>,
    page_size: Option<i32>,
}

fn usage() -> String {
    "usage: list-vms --url https://HOST[:PORT]/sdk --user USER --password-env VAR \
     [--no-verify] [--ca-file FILE] [--page-size N]"
        .to_string()
}

fn parse_args() -> Result<Args, String> {
    let mut url = None;
    let mut user = None;
    let mut password_env = None;
    let mut no_verify = false;
    let mut ca_file = None;
    let mut page_size = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| format!("{name} needs a value\n{}", usage()))
        };
        match arg.as_str() {
            "--url" => url = Some(value("--url")?),
            "--user" => user = Some(value("--user")?),
            "--password-env" => password_env = Some(value("--password-env")?),
            "--ca-file" => ca_file = Some(value("--ca-file")?),
            "--page-size" => {
                let v = value("--page-size")?;
                page_size = Some(
                    v.parse()
                        .map_err(|_| format!("--page-size: '{v}' is not a number"))?,
                );
            }
            "--no-verify" => no_verify = true,
            "-h" | "--help" => return Err(usage()),
            other => return Err(format!("unexpected argument '{other}'\n{}", usage())),
        }
    }
    Ok(Args {
        url: url.ok_or_else(usage)?,
        user: user.ok_or_else(usage)?,
        password_env: password_env.ok_or_else(usage)?,
        no_verify,
        ca_file,
        page_size,
    })
}

fn text(v: Option<&Any>) -> String {
    match v {
        Some(Any::String(s)) => s.clone(),
        Some(Any::VirtualMachinePowerState(p)) => p.as_str().to_string(),
        Some(other) => other.type_name().to_string(),
        None => String::new(),
    }
}

/// Name and power state of every VM, through one container view kept until Logout.
async fn list(client: &Client, page_size: Option<i32>) -> Result<Vec<ObjectContent>, String> {
    let root = client.service_content().root_folder.clone();
    let view = client
        .create_container_view(&root, &["VirtualMachine"], true)
        .await
        .map_err(|e| e.to_string())?;
    let spec = view_spec(
        &view.moref,
        "VirtualMachine",
        &["name", "runtime.powerState"],
    );
    client
        .retrieve_properties(spec, page_size)
        .await
        .map_err(|e| e.to_string())
}

async fn run(args: Args) -> Result<(), String> {
    let password = std::env::var(&args.password_env).map_err(|_| {
        format!(
            "environment variable '{}' (the password) is not set",
            args.password_env
        )
    })?;
    let mut options = ConnectOptions {
        user: args.user,
        password,
        ..ConnectOptions::default()
    };
    options.http.tls.no_verify = args.no_verify;
    options.http.tls.ca_file = args.ca_file.map(Into::into);
    let client = Client::connect(&args.url, options)
        .await
        .map_err(|e| e.to_string())?;
    let vms = list(&client, args.page_size).await;
    // Logout also ends the container view, which lives in the session.
    let logout = client.logout().await;
    let vms = vms?;
    let mut out = String::new();
    for vm in &vms {
        out.push_str(&text(property(vm, "name")));
        out.push('\t');
        out.push_str(&text(property(vm, "runtime.powerState")));
        out.push('\n');
    }
    print!("{out}");
    println!("count={}", vms.len());
    if let Err(e) = logout {
        eprintln!("warning: logout failed: {e}");
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
