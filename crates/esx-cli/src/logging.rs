//! Tracing to stderr for `-d LEVEL` (virsh's levels: 0 debug … 4 error) or `RUST_LOG`, with
//! passwords masked: the content of `<password>` elements and `password=` values, whatever
//! the library logged.

use std::io::Write;

use tracing_subscriber::EnvFilter;

/// Starts the subscriber when `-d` was given or `RUST_LOG` is set; otherwise nothing is
/// logged.
pub fn init(level: Option<u8>) {
    let filter = match level {
        Some(l) => EnvFilter::new(match l {
            0 => "trace",
            1 => "debug",
            2 => "info",
            3 => "warn",
            _ => "error",
        }),
        None => match std::env::var("RUST_LOG") {
            Ok(v) if !v.is_empty() => EnvFilter::new(v),
            _ => return,
        },
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Masking(std::io::stderr()))
        .with_ansi(false)
        .try_init();
}

/// A writer that masks secrets in each formatted event before it reaches `W`.
pub struct Masking<W: Write>(pub W);

impl<W: Write> Write for Masking<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(mask(&text).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// `text` with the values of `<password>…</password>` and `password=…` replaced by `***`.
pub fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let lower = rest.to_ascii_lowercase();
        let tag = lower
            .find("<password>")
            .map(|i| (i, i + "<password>".len(), "</password>"));
        let kv = lower
            .find("password=")
            .map(|i| (i, i + "password=".len(), ""));
        let next = match (tag, kv) {
            (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
            (a, b) => a.or(b),
        };
        let Some((_, value_start, close)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..value_start]);
        out.push_str("***");
        let after = &rest[value_start..];
        let end = if close.is_empty() {
            after
                .find(|c: char| c.is_whitespace() || c == '&' || c == ',' || c == '"')
                .unwrap_or(after.len())
        } else {
            after
                .to_ascii_lowercase()
                .find(close)
                .unwrap_or(after.len())
        };
        rest = &after[end..];
    }
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masks_passwords() {
        assert_eq!(
            mask("<userName>root</userName><password>s3cr&lt;t</password>"),
            "<userName>root</userName><password>***</password>"
        );
        assert_eq!(
            mask("user=root password=hunter2 x"),
            "user=root password=*** x"
        );
        assert_eq!(mask("nothing here"), "nothing here");
    }
}
