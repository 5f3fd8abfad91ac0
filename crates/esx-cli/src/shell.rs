//! The interactive shell (no command given): line editing and history on a terminal, plain
//! lines from a pipe, `connect` and `quit`, and the connection opened on first use.

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command, ShellLine};
use crate::error::CliError;
use crate::session::Session;
use crate::Style;

/// The connection state of a run: the URI and read-only flag to open, and the session once
/// opened.
pub struct State {
    /// The URI to connect to.
    pub uri: String,
    /// Read-only connection.
    pub read_only: bool,
    session: Option<Session>,
    /// Warnings printed already (each is printed once per run).
    warned: Vec<String>,
    /// Warnings not printed yet.
    pending: Vec<String>,
}

impl State {
    /// Nothing opened yet.
    pub fn new(uri: &str, read_only: bool) -> State {
        State {
            uri: uri.to_string(),
            read_only,
            session: None,
            warned: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// Warnings to print (on stderr) that were not taken yet: about the auth.conf a
    /// connection read, once per run.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.pending)
    }

    /// The session, opened on first use.
    pub async fn session(&mut self) -> Result<&Session, CliError> {
        if self.session.is_none() {
            if crate::session::is_embedded(&self.uri) || crate::is_vmware_uri(&self.uri) {
                // The driver reads auth.conf for this connection, even if it then fails.
                for w in crate::session::auth_file_warnings() {
                    if !self.warned.contains(&w) {
                        self.warned.push(w.clone());
                        self.pending.push(w);
                    }
                }
            }
            self.session = Some(Session::open(&self.uri, self.read_only).await?);
        }
        self.session
            .as_ref()
            .ok_or_else(|| CliError::msg("no connection"))
    }

    /// `connect [URI] [--readonly]`: closes the current session and opens the new one.
    pub async fn reconnect(
        &mut self,
        uri: Option<String>,
        read_only: bool,
    ) -> Result<(), CliError> {
        self.close().await;
        if let Some(u) = uri {
            self.uri = u;
        }
        self.read_only = read_only;
        self.session().await.map(|_| ())
    }

    /// Logs out (and stops the embedded host).
    pub async fn close(&mut self) {
        if let Some(s) = self.session.take() {
            s.close().await;
        }
    }
}

/// Splits a shell line into words: blanks separate, single and double quotes group, a
/// backslash escapes the next character. `None` for an unterminated quote.
pub fn split_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    let mut quote: Option<char> = None;
    while let Some(ch) = chars.next() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                cur.push(chars.next()?);
                in_word = true;
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(ch);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return None;
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

fn history_path() -> Option<std::path::PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))?;
    Some(base.join("esxsh").join("history"))
}

/// Runs one shell line; returns false on `quit`.
fn run_line(
    rt: &tokio::runtime::Runtime,
    state: &mut State,
    line: &str,
    base: Style,
    out: &mut dyn Write,
    err: &mut dyn Write,
    status: &mut i32,
) -> bool {
    let Some(words) = split_words(line) else {
        let _ = writeln!(err, "error: missing \" or '");
        *status = 1;
        return true;
    };
    if words.is_empty() || words[0].starts_with('#') {
        return true;
    }
    let args: Vec<OsString> = words.into_iter().map(OsString::from).collect();
    let (norm, name) = crate::argv::normalize(&ShellLine::command(), args);
    let parsed = match ShellLine::try_parse_from(norm) {
        Ok(p) => p,
        Err(e) => {
            if e.use_stderr() {
                let _ = writeln!(
                    err,
                    "error: {}",
                    crate::argv::usage_error(&e, name.as_deref())
                );
                *status = 1;
            } else {
                let _ = write!(out, "{}", e.render());
            }
            return true;
        }
    };
    if parsed.command == Command::Quit {
        return false;
    }
    let style = Style {
        json: base.json || parsed.json,
        ..base
    };
    *status = crate::run_command(rt, state, &parsed.command, style, out, err);
    true
}

/// The shell: a terminal gets a welcome, a prompt, line editing and history; a pipe is read
/// line by line. Returns the status of the last command.
pub fn run(
    cli: &Cli,
    rt: &tokio::runtime::Runtime,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let mut state = State::new(&cli.connect, cli.readonly);
    let base = Style {
        quiet: cli.quiet,
        timing: cli.timing,
        json: cli.json,
    };
    let mut status = 0;
    if std::io::stdin().is_terminal() {
        if !cli.quiet {
            let _ = write!(
                out,
                "Welcome to esxsh, the ESX interactive terminal.\n\n\
                 Type:  'help' for help with commands\n       'quit' to quit\n\n"
            );
        }
        let config = rustyline::Config::builder().auto_add_history(true).build();
        let mut editor = match rustyline::DefaultEditor::with_config(config) {
            Ok(e) => e,
            Err(e) => {
                let _ = writeln!(err, "error: cannot start the line editor: {e}");
                return 1;
            }
        };
        let history = history_path();
        if let Some(h) = &history {
            let _ = editor.load_history(h);
        }
        loop {
            let prompt = if state.read_only {
                "esxsh > "
            } else {
                "esxsh # "
            };
            match editor.readline(prompt) {
                Ok(line) => {
                    if !run_line(rt, &mut state, &line, base, out, err, &mut status) {
                        break;
                    }
                }
                Err(rustyline::error::ReadlineError::Interrupted) => continue,
                Err(_) => break,
            }
        }
        if let Some(h) = &history {
            if let Some(dir) = h.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = editor.save_history(h);
        }
    } else {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            if !run_line(rt, &mut state, &line, base, out, err, &mut status) {
                break;
            }
        }
    }
    rt.block_on(state.close());
    status
}

#[cfg(test)]
mod tests {
    use super::split_words;

    #[test]
    fn words() {
        assert_eq!(split_words("list  --all").unwrap(), ["list", "--all"]);
        assert_eq!(
            split_words("snapshot-create-as vm1 'my snap' --description \"a \\\"b\\\"\"").unwrap(),
            [
                "snapshot-create-as",
                "vm1",
                "my snap",
                "--description",
                "a \"b\""
            ]
        );
        assert_eq!(split_words("x ''").unwrap(), ["x", ""]);
        assert!(split_words("x 'open").is_none());
    }
}
