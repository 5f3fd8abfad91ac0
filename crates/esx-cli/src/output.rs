//! virsh's output shapes: tables, `Label:  value` blocks, capacities with binary units, and
//! scaled integer arguments (`512M`, `2GiB`).

use std::fmt::Write as _;

/// A table as virsh lays it out: one leading space, cells padded to the widest value of
/// their column (the header counts only when printed), three spaces between columns, the
/// last column unpadded, and a dashed rule under the header two characters longer than the
/// padded header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Table {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row (as many cells as there are columns).
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// The table as text; `header` false leaves out the titles and the rule (virsh `-q`).
    pub fn render(&self, header: bool) -> String {
        let n = self.header.len();
        let mut widths = vec![0usize; n];
        let mut measure = |cells: &[String]| {
            for (w, c) in widths.iter_mut().zip(cells) {
                *w = (*w).max(width(c));
            }
        };
        if header {
            measure(&self.header);
        }
        for r in &self.rows {
            measure(r);
        }
        let mut out = String::new();
        let line = |out: &mut String, cells: &[String]| {
            out.push(' ');
            for (i, c) in cells.iter().enumerate() {
                if i > 0 {
                    out.push_str("   ");
                }
                out.push_str(c);
                if i + 1 < cells.len() {
                    pad(out, widths[i].saturating_sub(width(c)));
                }
            }
            out.push('\n');
        };
        if header {
            line(&mut out, &self.header);
            let total = 1 + widths.iter().sum::<usize>() + 3 * n.saturating_sub(1) + 2;
            out.push_str(&"-".repeat(total));
            out.push('\n');
        }
        for r in &self.rows {
            line(&mut out, r);
        }
        out
    }
}

/// Display width of a cell (characters; virsh counts terminal columns).
fn width(s: &str) -> usize {
    s.chars().count()
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// `Label:` padded to `width` columns, a space and the value, as virsh's info commands print
/// (`%-15s %s`).
pub fn field(out: &mut String, width: usize, label: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{label:<width$} {value}");
}

/// A byte count as virsh prints capacities: two decimals and the largest binary unit under
/// which the value is at least 1 (`1.00 GiB`, `4.00 KiB`, `512.00 B`).
pub fn capacity(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    let mut limit = 1024u128;
    while unit + 1 < UNITS.len() && u128::from(bytes) >= limit {
        unit += 1;
        limit *= 1024;
    }
    for _ in 0..unit {
        value /= 1024.0;
    }
    format!("{value:.2} {}", UNITS[unit])
}

/// `yes` or `no`.
pub fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Parses a scaled integer as virsh does (`vshCommandOptScaledInt`): a number with an
/// optional unit suffix (`b`, `k`/`KiB`, `KB`, `M`/`MiB`, `MB`, `G`, `T`, `P`, `E`; binary
/// unless spelt with `B` after a single letter); without a suffix the number is in `default`
/// bytes. Returns bytes.
pub fn parse_scaled(text: &str, default: u64) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (num, suffix) = text.split_at(split);
    let n: u64 = num.parse().ok()?;
    let scale: u64 = match suffix {
        "" => default,
        s => {
            let mut chars = s.chars();
            let letter = chars.next()?.to_ascii_lowercase();
            let rest = chars.as_str();
            let base: u64 = match rest {
                "" | "iB" | "ib" => 1024,
                "B" | "b" => 1000,
                _ => return None,
            };
            let power = match letter {
                'b' if rest.is_empty() => return Some(n),
                'k' => 1,
                'm' => 2,
                'g' => 3,
                't' => 4,
                'p' => 5,
                'e' => 6,
                _ => return None,
            };
            base.checked_pow(power)?
        }
    };
    n.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_layout_is_virsh_s() {
        let mut t = Table::new(["Id", "Name", "State"]);
        t.row(["-", "vm1", "shut off"]);
        t.row(["1", "vm2", "running"]);
        assert_eq!(
            t.render(true),
            " Id   Name   State\n-----------------------\n -    vm1    shut off\n 1    vm2    running\n"
        );
        assert_eq!(t.render(false), " -   vm1   shut off\n 1   vm2   running\n");
        let mut t = Table::new(["Id", "Name", "State", "Title"]);
        t.row(["1", "vm1", "running", ""]);
        assert_eq!(t.render(false), " 1   vm1   running   \n");
    }

    #[test]
    fn capacities() {
        assert_eq!(capacity(0), "0.00 B");
        assert_eq!(capacity(4096), "4.00 KiB");
        assert_eq!(capacity(1 << 30), "1.00 GiB");
        assert_eq!(capacity(1021 << 30), "1021.00 GiB");
        assert_eq!(capacity(1 << 40), "1.00 TiB");
    }

    #[test]
    fn scaled_integers() {
        assert_eq!(parse_scaled("512", 1024), Some(512 * 1024));
        assert_eq!(parse_scaled("1G", 1024), Some(1 << 30));
        assert_eq!(parse_scaled("1GiB", 1), Some(1 << 30));
        assert_eq!(parse_scaled("1GB", 1), Some(1_000_000_000));
        assert_eq!(parse_scaled("10b", 1024), Some(10));
        assert_eq!(parse_scaled("x", 1), None);
        assert_eq!(parse_scaled("1Q", 1), None);
        assert_eq!(parse_scaled("99999999999999999999E", 1), None);
    }
}
