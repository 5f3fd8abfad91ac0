//! vmx-diff: a differential harness between esx-vmx and libvirt 11.3's ESX driver.
//!
//! It generates VMX files (libvirt's corpus and our testdata, mutated family by family: syntax,
//! malformed input, every device family, value ranges, escapes, bytes, encodings) and domain
//! XML documents (libvirt's own answers to those VMX files, the corpus's XML, and generated
//! domains), converts each one with esx-vmx the way `esxsh -c esx://...` does and with libvirt
//! over a connection to a simulator (`libvirt_worker.py`, one request at a time with a timeout,
//! restarted after a crash or a hang), and reports agreements, differences and one-sided
//! refusals by family. Cases where libvirt is known to be wrong (it crashes, hangs, drops or
//! moves data) are counted apart, under the explanation docs/COMPATIBILITY.md gives.
//!
//! Run it with `vmx-diff.sh` next to this file (it starts esx-sim with the datastores the
//! generator uses), or directly:
//!
//! ```text
//! cargo run --release -p esx-vmx --example vmx-diff -- --uri 'esx://root@127.0.0.1:PORT/?no_verify=1' \
//!     [--out DIR] [--seed N] [--count N] [--xml-count N] [--family F] [--timeout-s N]
//! ```
//!
//! `LIBVIRT_AUTH_FILE` must give libvirt the credentials. Output in DIR (default
//! `/tmp/vmx-diff`): `cases/` (every input), `diff/` (both answers for every case that does not
//! agree), `results.tsv` (one line per case) and `summary.md` (the tables).

mod explain;
mod gen_vmx;
mod gen_xml;
mod libvirt;
mod ours;
mod rng;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use esx_vmx::convert::DatastoreResolver;

struct Args {
    uri: String,
    out: PathBuf,
    seed: u64,
    count: u64,
    xml_count: u64,
    family: Option<String>,
    timeout: Duration,
    corpus: PathBuf,
    testdata: PathBuf,
    worker: PathBuf,
    virtual_hw: Option<i64>,
}

fn usage() -> String {
    "usage: vmx-diff --uri URI [--out DIR] [--seed N] [--count N] [--xml-count N] \
     [--family F] [--timeout-s N] [--corpus DIR] [--testdata DIR] [--virtual-hw N]"
        .to_string()
}

fn parse_args() -> Result<Args, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut a = Args {
        uri: String::new(),
        out: PathBuf::from("/tmp/vmx-diff"),
        seed: 1,
        count: 2000,
        xml_count: u64::MAX,
        family: None,
        timeout: Duration::from_secs(10),
        corpus: root.join("../shared/corpus/libvirt-vmx"),
        testdata: root.join("testdata"),
        worker: Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/vmx-diff/libvirt_worker.py"),
        virtual_hw: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{arg} needs a value\n{}", usage()))
        };
        let num = |v: String| v.parse::<u64>().map_err(|_| format!("{v}: not a number"));
        match arg.as_str() {
            "--uri" => a.uri = value()?,
            "--out" => a.out = value()?.into(),
            "--seed" => a.seed = num(value()?)?,
            "--count" => a.count = num(value()?)?,
            "--xml-count" => a.xml_count = num(value()?)?,
            "--family" => a.family = Some(value()?),
            "--timeout-s" => a.timeout = Duration::from_secs(num(value()?)?),
            "--corpus" => a.corpus = value()?.into(),
            "--testdata" => a.testdata = value()?.into(),
            "--worker" => a.worker = value()?.into(),
            "--virtual-hw" => a.virtual_hw = Some(num(value()?)? as i64),
            "-h" | "--help" => return Err(usage()),
            other => return Err(format!("unexpected argument '{other}'\n{}", usage())),
        }
    }
    if a.uri.is_empty() {
        return Err(usage());
    }
    if a.xml_count == u64::MAX {
        a.xml_count = a.count;
    }
    Ok(a)
}

/// How the two answers for one case compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Agree,
    BothRefuse,
    Differ,
    OnlyOursRefuses,
    OnlyLibvirtRefuses,
    LibvirtCrash,
    LibvirtHang,
    OursPanic,
    OursHang,
}

const OUTCOMES: [(Outcome, &str); 9] = [
    (Outcome::Agree, "agree"),
    (Outcome::BothRefuse, "both refuse"),
    (Outcome::Differ, "differ"),
    (Outcome::OnlyOursRefuses, "only esx-vmx refuses"),
    (Outcome::OnlyLibvirtRefuses, "only libvirt refuses"),
    (Outcome::LibvirtCrash, "libvirt crash"),
    (Outcome::LibvirtHang, "libvirt hang"),
    (Outcome::OursPanic, "esx-vmx panic"),
    (Outcome::OursHang, "esx-vmx hang"),
];

fn outcome(lv: &libvirt::Answer, ours: &ours::Answer) -> Outcome {
    use libvirt::Answer as L;
    use ours::Answer as O;
    match (lv, ours) {
        (_, O::Panic(_)) => Outcome::OursPanic,
        (_, O::Hang) => Outcome::OursHang,
        (L::Crash(_), _) => Outcome::LibvirtCrash,
        (L::Hang, _) => Outcome::LibvirtHang,
        (L::Ok(a), O::Ok(b)) if a == b => Outcome::Agree,
        (L::Ok(_), O::Ok(_)) => Outcome::Differ,
        (L::Refused(_), O::Refused(_)) => Outcome::BothRefuse,
        (L::Ok(_), O::Refused(_)) => Outcome::OnlyOursRefuses,
        (L::Refused(_), O::Ok(_)) => Outcome::OnlyLibvirtRefuses,
    }
}

fn first_line_diff(a: &[u8], b: &[u8]) -> String {
    let a = String::from_utf8_lossy(a);
    let b = String::from_utf8_lossy(b);
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: libvirt {x:?} / ours {y:?}", i + 1);
        }
    }
    format!(
        "lengths: libvirt {} lines / ours {} lines",
        a.lines().count(),
        b.lines().count()
    )
}

fn describe(lv: &libvirt::Answer, ours: &ours::Answer) -> String {
    use libvirt::Answer as L;
    use ours::Answer as O;
    match (lv, ours) {
        (L::Ok(a), O::Ok(b)) if a != b => first_line_diff(a, b),
        (L::Ok(_), O::Ok(_)) => String::new(),
        (L::Refused(e), O::Ok(_)) => format!("libvirt: {e}"),
        (L::Ok(_), O::Refused(e)) => format!("ours: {e}"),
        (L::Refused(a), O::Refused(b)) => format!("libvirt: {a} | ours: {b}"),
        (L::Crash(how), _) => format!("libvirt crashed: {how}"),
        (L::Hang, _) => "libvirt did not answer".into(),
        (_, O::Panic(m)) => format!("esx-vmx panicked: {m}"),
        (_, O::Hang) => "esx-vmx did not answer".into(),
    }
}

fn answer_text_lv(a: &libvirt::Answer) -> Vec<u8> {
    match a {
        libvirt::Answer::Ok(t) => t.clone(),
        libvirt::Answer::Refused(e) => format!("error: {e}\n").into_bytes(),
        libvirt::Answer::Crash(h) => format!("crash: {h}\n").into_bytes(),
        libvirt::Answer::Hang => b"hang\n".to_vec(),
    }
}

fn answer_text_ours(a: &ours::Answer) -> Vec<u8> {
    match a {
        ours::Answer::Ok(t) => t.clone(),
        ours::Answer::Refused(e) => format!("error: {e}\n").into_bytes(),
        ours::Answer::Panic(m) => format!("panic: {m}\n").into_bytes(),
        ours::Answer::Hang => b"hang\n".to_vec(),
    }
}

/// One case's record.
struct Record {
    id: String,
    direction: &'static str,
    family: String,
    outcome: Outcome,
    explained: Option<&'static str>,
    note: String,
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("vmx-diff: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), String> {
    let started = Instant::now();
    let cases_dir = args.out.join("cases");
    let diff_dir = args.out.join("diff");
    for d in [&cases_dir, &diff_dir] {
        let _ = std::fs::remove_dir_all(d);
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let mut lv = libvirt::Libvirt::new(
        args.worker.clone(),
        args.uri.clone(),
        args.out.join("libvirt-worker.log"),
        args.timeout,
    )?;
    let info = lv.info.clone();
    let hw = args
        .virtual_hw
        .unwrap_or_else(|| default_virtual_hw(info.hv_version));
    eprintln!(
        "libvirt {} against ESX {} (virtualHW {hw}); datastores: {:?}",
        version_text(info.version),
        version_text(info.hv_version),
        info.pools
    );
    let resolver = DatastoreResolver {
        datastores: info.pools.clone(),
        vmx_directory: "[?] ?".into(),
    };
    let mut ours = ours::Ours::new(resolver, hw, args.timeout);
    let bases = gen_vmx::load_bases(&args.corpus, &args.testdata);
    if bases.is_empty() {
        return Err(format!("no base VMX files under {}", args.corpus.display()));
    }
    let mut records = Vec::new();
    let mut xml_pool: Vec<Vec<u8>> = Vec::new();
    let vmx_family = args
        .family
        .as_deref()
        .filter(|f| gen_vmx::FAMILIES.contains(f));
    let xml_family = args
        .family
        .as_deref()
        .filter(|f| gen_xml::FAMILIES.contains(f));
    let vmx_count = if args.family.is_some() && vmx_family.is_none() {
        0
    } else {
        args.count
    };
    let mut libvirt_time = Duration::ZERO;
    let mut ours_time = Duration::ZERO;
    for i in 0..vmx_count {
        let (family, input) = gen_vmx::generate(args.seed, i, &bases, vmx_family);
        let id = format!("vmx-{i:05}");
        let _ = std::fs::write(cases_dir.join(format!("{id}.vmx")), &input);
        let t = Instant::now();
        let l = lv.convert("from", &input);
        libvirt_time += t.elapsed();
        let t = Instant::now();
        let o = ours.convert("from", &input);
        ours_time += t.elapsed();
        if let libvirt::Answer::Ok(xml) = &l {
            xml_pool.push(xml.clone());
        }
        records.push(record(
            &diff_dir, id, "vmx->xml", family, &input, &l, &o, &info,
        ));
        if ours.hung {
            break;
        }
        if i % 200 == 199 {
            eprintln!("{} VMX cases", i + 1);
        }
    }
    let xml_bases = gen_xml::load_bases(&args.corpus, &args.testdata);
    let xml_count = if args.family.is_some() && xml_family.is_none() {
        0
    } else {
        args.xml_count
    };
    for j in 0..xml_count {
        if ours.hung {
            break;
        }
        let (family, input) = gen_xml::generate(args.seed, j, &xml_pool, &xml_bases, xml_family);
        let id = format!("xml-{j:05}");
        let _ = std::fs::write(cases_dir.join(format!("{id}.xml")), &input);
        let t = Instant::now();
        let l = lv.convert("to", &input);
        libvirt_time += t.elapsed();
        let t = Instant::now();
        let o = ours.convert("to", &input);
        ours_time += t.elapsed();
        records.push(record(
            &diff_dir, id, "xml->vmx", family, &input, &l, &o, &info,
        ));
        if j % 200 == 199 {
            eprintln!("{} XML cases", j + 1);
        }
    }
    let summary = summarize(
        args,
        &records,
        &info,
        hw,
        started.elapsed(),
        libvirt_time,
        ours_time,
        lv.starts,
    );
    std::fs::write(args.out.join("summary.md"), &summary).map_err(|e| e.to_string())?;
    let mut tsv = String::from("# id\tdirection\tfamily\toutcome\tlibvirt wrong\tnote\n");
    for r in &records {
        let _ = writeln!(
            tsv,
            "{}\t{}\t{}\t{}\t{}\t{}",
            r.id,
            r.direction,
            r.family,
            outcome_name(r.outcome),
            r.explained.unwrap_or("-"),
            r.note.replace(['\t', '\n'], " ")
        );
    }
    std::fs::write(args.out.join("results.tsv"), tsv).map_err(|e| e.to_string())?;
    print!("{summary}");
    Ok(())
}

fn outcome_name(o: Outcome) -> &'static str {
    OUTCOMES
        .iter()
        .find(|(x, _)| *x == o)
        .map(|(_, n)| *n)
        .unwrap_or("?")
}

#[allow(clippy::too_many_arguments)]
fn record(
    diff_dir: &Path,
    id: String,
    direction: &'static str,
    family: String,
    input: &[u8],
    l: &libvirt::Answer,
    o: &ours::Answer,
    info: &libvirt::ServerInfo,
) -> Record {
    let outcome = outcome(l, o);
    let explained = if matches!(outcome, Outcome::Agree | Outcome::BothRefuse) {
        None
    } else if direction == "vmx->xml" {
        explain::vmx(input, l, o, info)
    } else {
        explain::xml(input, l, o, info)
    };
    if !matches!(outcome, Outcome::Agree | Outcome::BothRefuse) {
        let _ = std::fs::write(diff_dir.join(format!("{id}.libvirt")), answer_text_lv(l));
        let _ = std::fs::write(diff_dir.join(format!("{id}.ours")), answer_text_ours(o));
    }
    Record {
        id,
        direction,
        family,
        outcome,
        explained,
        note: describe(l, o),
    }
}

fn version_text(v: u64) -> String {
    format!("{}.{}.{}", v / 1_000_000, v / 1000 % 1000, v % 1000)
}

/// libvirt's `esxVI_ProductVersionToDefaultVirtualHWVersion` for an ESX host.
fn default_virtual_hw(hv: u64) -> i64 {
    match hv / 1_000_000 {
        3 => 4,
        4 => 7,
        5 if hv / 1000 % 1000 >= 5 => 10,
        5 => 9,
        6 => 10,
        _ => 8,
    }
}

#[allow(clippy::too_many_arguments)]
fn summarize(
    args: &Args,
    records: &[Record],
    info: &libvirt::ServerInfo,
    hw: i64,
    elapsed: Duration,
    libvirt_time: Duration,
    ours_time: Duration,
    starts: usize,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "vmx-diff: seed {}, {} cases ({} VMX -> XML, {} XML -> VMX), libvirt {} over esx:// to ESX {} \
         (virtualHW {hw}), {:.0} s (libvirt {:.1} s, esx-vmx {:.2} s), {} libvirt worker start(s)\n",
        args.seed,
        records.len(),
        records.iter().filter(|r| r.direction == "vmx->xml").count(),
        records.iter().filter(|r| r.direction == "xml->vmx").count(),
        version_text(info.version),
        version_text(info.hv_version),
        elapsed.as_secs_f64(),
        libvirt_time.as_secs_f64(),
        ours_time.as_secs_f64(),
        starts
    );
    for direction in ["vmx->xml", "xml->vmx"] {
        let rows: Vec<&Record> = records
            .iter()
            .filter(|r| r.direction == direction)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(s, "### {direction}\n");
        let _ = write!(s, "| family | cases |");
        for (_, name) in OUTCOMES {
            let _ = write!(s, " {name} |");
        }
        let _ = writeln!(s, " of which libvirt wrong | unexplained |");
        let _ = write!(s, "|---|---:|");
        for _ in OUTCOMES {
            let _ = write!(s, "---:|");
        }
        let _ = writeln!(s, "---:|---:|");
        let mut families: Vec<String> = rows.iter().map(|r| r.family.clone()).collect();
        families.sort();
        families.dedup();
        let order: &[&str] = if direction == "vmx->xml" {
            gen_vmx::FAMILIES
        } else {
            gen_xml::FAMILIES
        };
        families.sort_by_key(|f| order.iter().position(|x| x == f).unwrap_or(usize::MAX));
        let mut totals = vec![0usize; OUTCOMES.len() + 3];
        for fam in families
            .iter()
            .map(String::as_str)
            .chain(std::iter::once("**total**"))
        {
            let sel: Vec<&&Record> = rows
                .iter()
                .filter(|r| fam == "**total**" || r.family == fam)
                .collect();
            let mut cells = vec![sel.len()];
            for (o, _) in OUTCOMES {
                cells.push(sel.iter().filter(|r| r.outcome == o).count());
            }
            let bad: Vec<&&&Record> = sel
                .iter()
                .filter(|r| !matches!(r.outcome, Outcome::Agree | Outcome::BothRefuse))
                .collect();
            cells.push(bad.iter().filter(|r| r.explained.is_some()).count());
            cells.push(bad.iter().filter(|r| r.explained.is_none()).count());
            if fam == "**total**" {
                totals = cells.clone();
            }
            let _ = write!(s, "| {fam} |");
            for c in &cells {
                let _ = write!(s, " {c} |");
            }
            let _ = writeln!(s);
        }
        let _ = totals;
        let _ = writeln!(s);
        let mut why: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &rows {
            if let Some(e) = r.explained {
                *why.entry(e).or_default() += 1;
            }
        }
        if !why.is_empty() {
            let _ = writeln!(s, "libvirt is wrong ({direction}), by documented family:\n");
            let _ = writeln!(s, "| family (docs/COMPATIBILITY.md) | cases |\n|---|---:|");
            for (k, v) in why {
                let _ = writeln!(s, "| {k} | {v} |");
            }
            let _ = writeln!(s);
        }
        let unexplained: Vec<&&Record> = rows
            .iter()
            .filter(|r| {
                !matches!(r.outcome, Outcome::Agree | Outcome::BothRefuse) && r.explained.is_none()
            })
            .collect();
        if !unexplained.is_empty() {
            let _ = writeln!(s, "Unexplained ({direction}), first 40:\n");
            for r in unexplained.iter().take(40) {
                let _ = writeln!(
                    s,
                    "- {} [{}] {}: {}",
                    r.id,
                    r.family,
                    outcome_name(r.outcome),
                    r.note
                );
            }
            let _ = writeln!(s);
        }
    }
    s
}
