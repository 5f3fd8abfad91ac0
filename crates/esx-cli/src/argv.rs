//! virsh's argument conventions on top of clap: positional arguments given by name
//! (`--domain vm1`, `--pool=ds1`) are put back in their place, and clap's usage errors are
//! reported with virsh's words.

use std::collections::HashMap;
use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// Rewrites `args` (no program name; global options first, then the command and its
/// arguments) so that every `--NAME VALUE` naming a positional argument of the command
/// becomes that positional argument, in its place. Positionals are filled as virsh does:
/// named ones first, then the unnamed ones in order. Returns the rewritten arguments and
/// the command name, when one was found.
pub fn normalize(root: &clap::Command, args: Vec<OsString>) -> (Vec<OsString>, Option<String>) {
    // Value counts are only known once the definition is built.
    let mut built = root.clone();
    built.build();
    let root = &built;
    // Skip the global options (and the values of those that take one).
    let mut i = 0;
    while i < args.len() {
        let a = args[i].to_string_lossy();
        if a == "--" || !a.starts_with('-') || a == "-" {
            break;
        }
        let takes_value = root.get_arguments().any(|arg| {
            arg.get_num_args().is_some_and(|n| n.takes_values())
                && (arg.get_long().is_some_and(|l| a == format!("--{l}"))
                    || arg.get_short().is_some_and(|s| a == format!("-{s}")))
        });
        i += if takes_value { 2 } else { 1 };
    }
    if i >= args.len() {
        return (args, None);
    }
    let name = args[i].to_string_lossy().into_owned();
    let Some(sub) = root
        .get_subcommands()
        .find(|s| s.get_name() == name || s.get_all_aliases().any(|a| a == name))
    else {
        return (args, Some(name));
    };
    let positionals: Vec<(String, bool)> = sub
        .get_positionals()
        .map(|p| {
            let many = p.get_num_args().is_some_and(|n| n.max_values() > 1);
            (p.get_id().to_string(), many)
        })
        .collect();
    let valued: Vec<String> = sub
        .get_arguments()
        .filter(|a| !a.is_positional() && a.get_num_args().is_some_and(|n| n.takes_values()))
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect();

    let tail = &args[i + 1..];
    let mut options: Vec<OsString> = Vec::new();
    let mut named: HashMap<String, Vec<OsString>> = HashMap::new();
    let mut unnamed: Vec<OsString> = Vec::new();
    let mut j = 0;
    while j < tail.len() {
        let t = tail[j].to_string_lossy().into_owned();
        j += 1;
        if t == "--" {
            unnamed.extend(tail[j..].iter().cloned());
            break;
        }
        let Some(long) = t.strip_prefix("--") else {
            unnamed.push(tail[j - 1].clone());
            continue;
        };
        let (key, inline) = match long.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(OsString::from(v))),
            None => (long.to_string(), None),
        };
        let is_positional = positionals.iter().any(|(id, _)| *id == key);
        // An option of the same name wins (e.g. `schedinfo --set`).
        if is_positional && !valued.contains(&key) {
            let value = match inline {
                Some(v) => Some(v),
                None if j < tail.len() => {
                    j += 1;
                    Some(tail[j - 1].clone())
                }
                None => None,
            };
            match value {
                Some(v) => named.entry(key).or_default().push(v),
                // Let clap report the missing value.
                None => options.push(tail[j - 1].clone()),
            }
            continue;
        }
        options.push(tail[j - 1].clone());
        if inline.is_none() && valued.contains(&key) && j < tail.len() {
            options.push(tail[j].clone());
            j += 1;
        }
    }

    let mut unnamed = unnamed.into_iter();
    let mut placed: Vec<OsString> = Vec::new();
    for (id, many) in &positionals {
        if let Some(v) = named.remove(id) {
            placed.extend(v);
            if *many {
                placed.extend(unnamed.by_ref());
            }
            continue;
        }
        if *many {
            placed.extend(unnamed.by_ref());
        } else if let Some(v) = unnamed.next() {
            placed.push(v);
        } else {
            break;
        }
    }
    placed.extend(unnamed);

    let mut out: Vec<OsString> = args[..=i].to_vec();
    out.extend(options);
    if !placed.is_empty() {
        out.push("--".into());
        out.extend(placed);
    }
    (out, Some(name))
}

/// The virsh text (after `error: `) for a clap usage error of `command` (when known).
pub fn usage_error(e: &clap::Error, command: Option<&str>) -> String {
    let ctx = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    };
    let arg_name = |s: &str| {
        // "--size <SIZE>" or "<DOMAIN>" -> "size" / "domain"
        let s = s.split_whitespace().next().unwrap_or(s);
        s.trim_start_matches('-')
            .trim_matches(|c| c == '<' || c == '>' || c == '.')
            .to_lowercase()
    };
    match (e.kind(), command) {
        (ErrorKind::InvalidSubcommand, _) => match ctx(ContextKind::InvalidSubcommand) {
            Some(name) => format!("unknown command: '{name}'"),
            None => first_line(e),
        },
        (ErrorKind::UnknownArgument, Some(cmd)) => match ctx(ContextKind::InvalidArg) {
            Some(a) if a.starts_with('-') => {
                let opt = a.split('=').next().unwrap_or(&a).to_string();
                format!("command '{cmd}' doesn't support option {opt}")
            }
            Some(a) => format!("unexpected data '{a}'"),
            None => first_line(e),
        },
        (ErrorKind::UnknownArgument, None) => match ctx(ContextKind::InvalidArg) {
            Some(a) => format!("unsupported option '{a}'. See --help."),
            None => first_line(e),
        },
        (ErrorKind::MissingRequiredArgument, Some(cmd)) => match ctx(ContextKind::InvalidArg) {
            Some(a) => format!("command '{cmd}' requires <{}> option", arg_name(&a)),
            None => first_line(e),
        },
        (ErrorKind::ValueValidation | ErrorKind::InvalidValue, Some(_)) => {
            match (ctx(ContextKind::InvalidArg), ctx(ContextKind::InvalidValue)) {
                (Some(a), Some(v)) if v.is_empty() => {
                    format!("option --{} requires a value", arg_name(&a))
                }
                (Some(a), Some(v)) if ctx(ContextKind::ValidValue).is_none() => format!(
                    "Numeric value '{v}' for <{}> option is malformed or out of range",
                    arg_name(&a)
                ),
                _ => first_line(e),
            }
        }
        (ErrorKind::ArgumentConflict, _) => {
            match (ctx(ContextKind::InvalidArg), ctx(ContextKind::PriorArg)) {
                (Some(a), Some(b)) => format!(
                    "Options --{} and --{} are mutually exclusive",
                    arg_name(&b),
                    arg_name(&a)
                ),
                _ => first_line(e),
            }
        }
        _ => first_line(e),
    }
}

/// clap's own message, first line, without its `error: ` prefix.
fn first_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::{CommandFactory, Parser};

    fn norm(args: &[&str]) -> Vec<String> {
        let cmd = Cli::command();
        let (out, _) = normalize(&cmd, args.iter().map(OsString::from).collect());
        out.into_iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn named_positionals_go_back_in_place() {
        crate::with_stack(named_positionals);
    }

    fn named_positionals() {
        assert_eq!(norm(&["start", "--domain", "vm1"]), ["start", "--", "vm1"]);
        assert_eq!(
            norm(&["-c", "x", "start", "vm1"]),
            ["-c", "x", "start", "--", "vm1"]
        );
        assert_eq!(
            norm(&["snapshot-revert", "--snapshotname=s1", "vm1", "--running"]),
            ["snapshot-revert", "--running", "--", "vm1", "s1"]
        );
        assert_eq!(
            norm(&["vol-info", "--pool", "ds", "a/b.vmdk", "--bytes"]),
            ["vol-info", "--bytes", "--", "a/b.vmdk", "ds"]
        );
        assert_eq!(
            norm(&[
                "snapshot-create-as",
                "vm1",
                "--description",
                "d",
                "--name",
                "s"
            ]),
            ["snapshot-create-as", "--description", "d", "--", "vm1", "s"]
        );
        assert_eq!(
            norm(&["schedinfo", "vm1", "--set", "limit=-1"]),
            ["schedinfo", "--set", "limit=-1", "--", "vm1"]
        );
        assert_eq!(norm(&["list", "--all"]), ["list", "--all"]);
    }

    #[test]
    fn virsh_words_for_usage_errors() {
        crate::with_stack(usage_errors);
    }

    fn usage_errors() {
        let check = |args: &[&str], want: &str| {
            let cmd = Cli::command();
            let mut full = vec![OsString::from("esxsh")];
            let (norm, name) = normalize(&cmd, args.iter().map(OsString::from).collect());
            full.extend(norm);
            let e = Cli::try_parse_from(full).unwrap_err();
            assert_eq!(usage_error(&e, name.as_deref()), want, "{args:?}");
        };
        check(
            &["list", "--bogus"],
            "command 'list' doesn't support option --bogus",
        );
        check(&["start"], "command 'start' requires <domain> option");
        check(&["frob"], "unknown command: 'frob'");
        check(&["dominfo", "a", "b"], "unexpected data 'b'");
        check(
            &["setvcpus", "vm", "x"],
            "Numeric value 'x' for <count> option is malformed or out of range",
        );
    }
}
