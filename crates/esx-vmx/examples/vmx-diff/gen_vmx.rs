//! Generated VMX files: a base file (libvirt's corpus inputs and outputs, our own testdata)
//! changed by one family of mutations. The family is what the summary groups by.

use crate::rng::Rng;

/// The VMX mutation families, in report order.
pub const FAMILIES: &[&str] = &[
    "syntax",
    "malformed",
    "memory",
    "cpu",
    "identity",
    "escapes",
    "bytes",
    "encoding",
    "scsi",
    "sata",
    "ide",
    "floppy",
    "ethernet",
    "serial",
    "parallel",
    "vnc",
    "video",
    "sharedfolder",
    "combined",
];

/// A VMX file as lines (without terminators), edited by key.
#[derive(Debug, Clone)]
pub struct Doc {
    pub lines: Vec<String>,
}

fn key_of(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let end = t.find(|c: char| c == '=' || c.is_whitespace())?;
    Some(&t[..end])
}

impl Doc {
    pub fn parse(text: &str) -> Doc {
        Doc {
            lines: text.lines().map(str::to_string).collect(),
        }
    }

    /// Set the first entry named `key` (case-insensitive), or append it.
    pub fn set(&mut self, key: &str, value: &str) {
        let line = format!("{key} = \"{value}\"");
        for l in &mut self.lines {
            if key_of(l).is_some_and(|k| k.eq_ignore_ascii_case(key)) {
                *l = line;
                return;
            }
        }
        self.lines.push(line);
    }

    /// Append a raw line.
    pub fn push(&mut self, line: String) {
        self.lines.push(line);
    }

    /// Remove every entry whose key starts with `prefix` (case-insensitive).
    pub fn remove_prefix(&mut self, prefix: &str) {
        self.lines.retain(|l| {
            !key_of(l).is_some_and(|k| {
                k.len() >= prefix.len() && k[..prefix.len()].eq_ignore_ascii_case(prefix)
            })
        });
    }

    pub fn render(&self, eol: &str) -> Vec<u8> {
        let mut s = self.lines.join(eol);
        s.push_str(eol);
        s.into_bytes()
    }
}

/// One base file's text.
pub struct Base {
    pub text: String,
}

/// Every usable base file: the corpus's VMX inputs (minus the parse-fails ones), the corpus's
/// expected VMX outputs, and the `.vmx` files under our testdata.
pub fn load_bases(corpus: &std::path::Path, testdata: &std::path::Path) -> Vec<Base> {
    let mut out = Vec::new();
    let tsv = std::fs::read_to_string(corpus.join("vmx2xml-cases.tsv")).unwrap_or_default();
    for line in tsv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.get(3) == Some(&"parse-fails") {
            continue;
        }
        if let Some(input) = cols.get(1) {
            if let Ok(text) = std::fs::read_to_string(corpus.join(input)) {
                out.push(Base { text });
            }
        }
    }
    let tsv = std::fs::read_to_string(corpus.join("xml2vmx-cases.tsv")).unwrap_or_default();
    for line in tsv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        if let Some(expected) = cols.get(2) {
            if let Ok(text) = std::fs::read_to_string(corpus.join(expected)) {
                out.push(Base { text });
            }
        }
    }
    for dir in [testdata.join("vmx"), testdata.join("cli")] {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        for f in files {
            if f.extension().is_some_and(|e| e == "vmx") {
                if let Ok(text) = std::fs::read_to_string(&f) {
                    out.push(Base { text });
                }
            }
        }
    }
    out
}

/// Values `strtoll` refuses: out of range, trailing or foreign characters, empty.
const INVALID_INTS: &[&str] = &[
    "-9223372036854775809",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "8 ",
    "0x10",
    "1e3",
    "",
    "abc",
    "4 MB",
];

/// Integers `strtoll` accepts, around every boundary.
const VALID_INTS: &[&str] = &[
    "-9223372036854775808",
    "-4294967296",
    "-1",
    "0",
    "1",
    "2",
    "3",
    "4",
    "7",
    "8",
    "15",
    "16",
    "63",
    "64",
    "1023",
    "1024",
    "4096",
    "65536",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "4294967297",
    "9223372036854775807",
    "unlimited",
    " 8",
    "+8",
    "-0",
    "08",
];

const BOOLS: &[&str] = &[
    "true", "TRUE", "True", "false", "FALSE", "yes", "no", "1", "0", "", " true", "truex",
];

fn int(rng: &mut Rng) -> String {
    if !rng.wild {
        // Valid integers only (every range, no syntax errors).
        return if rng.chance(50) {
            rng.range(0, 70).to_string()
        } else {
            rng.pick(VALID_INTS).to_string()
        };
    }
    match rng.below(10) {
        0..=3 => rng.range(0, 70).to_string(),
        4..=7 => rng.pick(VALID_INTS).to_string(),
        _ => rng.pick(INVALID_INTS).to_string(),
    }
}

fn boolean(rng: &mut Rng) -> &'static str {
    if !rng.wild {
        return rng.pick(&["true", "true", "false", "TRUE", "False"]);
    }
    if rng.chance(70) {
        if rng.chance(70) {
            "true"
        } else {
            "false"
        }
    } else {
        rng.pick(BOOLS)
    }
}

/// Datastores the simulator is started with (see `vmx-diff.sh`).
pub const DATASTORES: &[&str] = &[
    "datastore",
    "ds",
    "storage",
    "testing",
    "498076b2-02796c1a-ef5b-000ae484a6a3",
    "4af0231d-1eff559a-6369-0024e84773b6",
    "5669422e-699d77db-c144-00e0815e303e",
    "692eb778-2d4937fe",
];

/// A file name as VMX files write them, in every form the resolver meets.
fn file_name(rng: &mut Rng, ext: &str) -> String {
    let stem = rng.pick(&[
        "disk",
        "Test VM",
        "web-01_1",
        "a'b",
        "x&y<z>",
        "caf\u{e9}",
        "\u{6a19}\u{6e96}",
        "sub.dir.name",
    ]);
    let ext = if rng.chance(10) {
        ext.to_ascii_uppercase()
    } else {
        ext.to_string()
    };
    let form = if rng.wild {
        rng.below(16)
    } else {
        rng.pick(&[0, 1, 2, 4, 5, 6, 11, 14])
    };
    match form {
        0..=3 => format!("{stem}{ext}"),
        4..=6 => format!(
            "/vmfs/volumes/{}/{}/{stem}{ext}",
            rng.pick(DATASTORES),
            rng.pick(&["vm", "Test VM", "a/b"])
        ),
        7 => format!("/vmfs/volumes/missing/vm/{stem}{ext}"),
        8 => format!(
            "/vmfs/volumes/{}/vm/{stem}{ext}",
            rng.pick(&["datastore1", "ds2", "storage-old", "dsx", "Datastore"])
        ),
        9 => format!("/vmfs/volumes/{}{ext}", rng.pick(DATASTORES)),
        10 => format!("/vmfs/volumes/{}", rng.pick(DATASTORES)),
        11 => format!(
            "{}/{stem}{ext}",
            rng.pick(&[
                "/usr/lib/vmware/isoimages",
                "/tmp",
                "/vmimages/tools-isoimages"
            ])
        ),
        12 => format!("subdir/{stem}{ext}"),
        13 => format!("C:\\Virtual Machines\\vm\\{stem}{ext}"),
        14 => format!("/vmfs/volumes//datastore/{stem}{ext}"),
        _ => rng
            .pick(&["", " ", "emptyBackingString", "auto detect"])
            .to_string(),
    }
}

fn hw_version(rng: &mut Rng) -> String {
    rng.pick_v(
        &[
            "4", "7", "8", "9", "10", "11", "12", "13", "14", "15", "17", "19", "21", "3", "0",
            "-1", "abc",
        ],
        13,
    )
    .to_string()
}

/// A change of the rendered bytes.
type PostProcess = fn(&mut Rng, Vec<u8>) -> Vec<u8>;

/// Generate case `case` under `seed`: (family, bytes).
pub fn generate(seed: u64, case: u64, bases: &[Base], only: Option<&str>) -> (String, Vec<u8>) {
    let mut rng = Rng::for_case(seed, case);
    let family = match only {
        Some(f) => f.to_string(),
        None => rng.pick(FAMILIES).to_string(),
    };
    let base = &bases[rng.below(bases.len())];
    let mut doc = Doc::parse(&base.text);
    let mut eol = "\n";
    let mut post: Option<PostProcess> = None;
    match family.as_str() {
        "syntax" => {
            for _ in 0..rng.range(1, 3) {
                syntax(&mut rng, &mut doc, &mut eol);
            }
        }
        "malformed" => malformed(&mut rng, &mut doc),
        "memory" => memory(&mut rng, &mut doc),
        "cpu" => cpu(&mut rng, &mut doc),
        "identity" => identity(&mut rng, &mut doc),
        "escapes" => escapes(&mut rng, &mut doc),
        "bytes" => post = Some(bytes),
        "encoding" => {
            encoding(&mut rng, &mut doc);
            post = Some(encode_high_bytes);
        }
        "scsi" => scsi(&mut rng, &mut doc),
        "sata" => sata(&mut rng, &mut doc),
        "ide" => ide(&mut rng, &mut doc),
        "floppy" => floppy(&mut rng, &mut doc),
        "ethernet" => ethernet(&mut rng, &mut doc),
        "serial" => serial(&mut rng, &mut doc),
        "parallel" => parallel(&mut rng, &mut doc),
        "vnc" => vnc(&mut rng, &mut doc),
        "video" => video(&mut rng, &mut doc),
        "sharedfolder" => sharedfolder(&mut rng, &mut doc),
        _ => {
            let all: [fn(&mut Rng, &mut Doc); 13] = [
                memory,
                cpu,
                identity,
                scsi,
                sata,
                ide,
                floppy,
                ethernet,
                serial,
                parallel,
                vnc,
                video,
                sharedfolder,
            ];
            for _ in 0..rng.range(2, 5) {
                let f = rng.pick(&all);
                f(&mut rng, &mut doc);
            }
        }
    }
    let mut out = doc.render(eol);
    if let Some(f) = post {
        out = f(&mut rng, out);
    }
    (family, out)
}

fn random_line(rng: &mut Rng, doc: &Doc) -> Option<usize> {
    let keyed: Vec<usize> = (0..doc.lines.len())
        .filter(|i| key_of(&doc.lines[*i]).is_some() && doc.lines[*i].contains('='))
        .collect();
    if keyed.is_empty() {
        None
    } else {
        Some(keyed[rng.below(keyed.len())])
    }
}

fn flip_case(rng: &mut Rng, s: &str) -> String {
    s.chars()
        .map(|c| {
            if rng.chance(50) {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// Split a `key = "value"` line.
fn split_line(line: &str) -> Option<(String, String)> {
    let (k, v) = line.split_once('=')?;
    let v = v.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v);
    Some((k.trim().to_string(), v.to_string()))
}

fn syntax(rng: &mut Rng, doc: &mut Doc, eol: &mut &'static str) {
    let Some(i) = random_line(rng, doc) else {
        return;
    };
    let Some((k, v)) = split_line(&doc.lines[i]) else {
        return;
    };
    match rng.below(12) {
        0 => {
            for l in &mut doc.lines {
                if let Some((k, v)) = split_line(l) {
                    if !l.trim_start().starts_with('#') {
                        *l = format!("{} = \"{v}\"", flip_case(rng, &k));
                    }
                }
            }
        }
        1 => doc.lines[i] = format!("{k} = '{v}'"),
        2 => doc.lines[i] = format!("{k} = \"\"\"{v}\"\"\""),
        3 => {
            let ws = rng.pick(&["\t", "  ", "", " \t "]);
            doc.lines[i] = format!("{ws}{k}{ws}={ws}\"{v}\"{ws}");
        }
        4 => *eol = rng.pick(&["\r\n", "\r"]),
        5 => doc.lines[i] = format!("{k} = \"{v}\" # {}", rng.pick(&["note", "", "a = \"b\""])),
        6 => {
            let other = rng.pick(&["", "0", "true", "junk", "vmxnet3", "4096", "pvscsi"]);
            let dup = format!("{} = \"{other}\"", flip_case(rng, &k));
            if rng.chance(50) {
                doc.lines.insert(i, dup);
            } else {
                doc.lines.push(dup);
            }
        }
        7 => {
            doc.lines.remove(i);
        }
        8 => doc.lines.insert(
            i,
            rng.pick(&["", "#", "# comment", "   ", "#!/usr/bin/vmware"])
                .to_string(),
        ),
        9 => {
            if let Some(j) = random_line(rng, doc) {
                if j != i && j < doc.lines.len() && i < doc.lines.len() {
                    let merged = format!("{}; {}", doc.lines[i].trim(), doc.lines[j].trim());
                    doc.lines[i] = merged;
                    doc.lines.remove(j);
                }
            }
        }
        10 => {
            // Reorder: move the line to the end.
            let l = doc.lines.remove(i);
            doc.lines.push(l);
        }
        _ => doc.lines[i] = format!("{k} = \"{}\"", flip_case(rng, &v)),
    }
}

fn malformed(rng: &mut Rng, doc: &mut Doc) {
    let i = random_line(rng, doc).unwrap_or(0).min(doc.lines.len());
    let (k, v) = doc
        .lines
        .get(i)
        .and_then(|l| split_line(l))
        .unwrap_or(("displayName".into(), "x".into()));
    let line = match rng.below(22) {
        0 => format!("{k} = \"{v}"),
        1 => format!("{k} = '{v}"),
        2 => k.clone(),
        3 => format!("{k} \"{v}\""),
        4 => format!("{k} = {}", rng.pick(&["1", "-1", "1.5", "0x10"])),
        5 => format!("{k} = {v}x"),
        6 => format!("{k} = [\"{v}\"]"),
        7 => format!("1{k} = \"{v}\""),
        8 => format!("_{k} = \"{v}\""),
        9 => format!("= \"{v}\""),
        10 => format!("{k} ="),
        11 => format!("{k} = \"{v}\" trailing"),
        12 => format!("{k} = \"\"\"{v}"),
        13 => format!("{k} = \"\"\"{v}\nmore = \"x\"\"\"\""),
        14 => format!("{k} = \"{v}\"\"{v}\""),
        15 => "\"".to_string(),
        16 => format!("{k}.x y = \"{v}\""),
        17 => format!("{k} == \"{v}\""),
        18 => format!("{k} = \"a\nb\""),
        19 => format!("{k}[0] = \"{v}\""),
        20 => format!("{k} = \"{v}\";;"),
        _ => format!("{k} = \"{v}\" ; other = \"1\""),
    };
    if i < doc.lines.len() && rng.chance(70) {
        doc.lines[i] = line;
    } else {
        doc.lines.insert(i.min(doc.lines.len()), line);
    }
}

fn memory(rng: &mut Rng, doc: &mut Doc) {
    for key in ["memsize", "sched.mem.max", "sched.mem.minsize"] {
        match rng.below(4) {
            0 => doc.remove_prefix(key),
            1 => {}
            _ => {
                let v = if rng.chance(50) {
                    (rng.range(0, 4096) * if rng.chance(70) { 4 } else { 1 }).to_string()
                } else {
                    int(rng)
                };
                doc.set(key, &v)
            }
        }
    }
}

fn cpu(rng: &mut Rng, doc: &mut Doc) {
    if rng.chance(80) {
        let v = if rng.chance(60) {
            rng.range(1, 16).to_string()
        } else {
            int(rng)
        };
        doc.set("numvcpus", &v);
    }
    if rng.chance(50) {
        let v = if rng.chance(60) {
            rng.range(0, 8).to_string()
        } else {
            int(rng)
        };
        doc.set("cpuid.coresPerSocket", &v);
    }
    if rng.chance(40) {
        let v = match rng.below(6) {
            0 => "all".to_string(),
            1 => "ALL".to_string(),
            2 => (0..rng.range(1, 6))
                .map(|_| rng.range(0, 40).to_string())
                .collect::<Vec<_>>()
                .join(rng.pick(&[",", ", ", " ,"])),
            3 => rng
                .pick(&[
                    "0,1,",
                    ",",
                    "1-3",
                    "0,-1",
                    "1024",
                    "1023",
                    "0,x",
                    "",
                    " 1 , 2 ",
                    "4294967296,1",
                ])
                .to_string(),
            _ => (0..rng.range(1, 17))
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(","),
        };
        doc.set("sched.cpu.affinity", &v);
    }
    if rng.chance(50) {
        let v = match rng.below(3) {
            0 => rng
                .pick(&["low", "normal", "high", "LOW", "Normal", "custom", ""])
                .to_string(),
            _ => int(rng),
        };
        doc.set("sched.cpu.shares", &v);
    }
}

fn identity(rng: &mut Rng, doc: &mut Doc) {
    match rng.below(9) {
        0 => doc.set(
            "uuid.bios",
            rng.pick(&[
                "56 4d 9b ef ac d9 b4 e0-c8 f0 ae a8 b9 10 35 15",
                "564d9befacd9b4e0c8f0aea8b9103515",
                "56-4d-9b-ef-ac-d9-b4-e0-c8-f0-ae-a8-b9-10-35-15",
                "56 4D 9B EF AC D9 B4 E0-C8 F0 AE A8 B9 10 35 15",
                "56 4d 9b ef ac d9 b4 e0-c8 f0 ae a8 b9 10 35",
                "56 4d 9b ef ac d9 b4 e0-c8 f0 ae a8 b9 10 35 15 00",
                "00 00 00 00 00 00 00 00-00 00 00 00 00 00 00 00",
                "zz 4d 9b ef ac d9 b4 e0-c8 f0 ae a8 b9 10 35 15",
                "",
                " 56 4d 9b ef ac d9 b4 e0-c8 f0 ae a8 b9 10 35 15 ",
                "564d9bef-acd9-b4e0-c8f0-aea8b9103515",
                "{564d9bef-acd9-b4e0-c8f0-aea8b9103515}",
            ]),
        ),
        1 => {
            doc.set("vm.genid", &int(rng));
            if rng.chance(70) {
                doc.set("vm.genidX", &int(rng));
            }
        }
        2 => doc.set(
            "guestOS",
            rng.pick(&[
                "other",
                "other-64",
                "OTHER-64",
                "winnetenterprise-64",
                "ubuntu64Guest",
                "-64",
                "",
                "linux-6",
            ]),
        ),
        3 => doc.set("smbios.reflecthost", boolean(rng)),
        4 => doc.set(
            "firmware",
            rng.pick_v(&["efi", "EFI", "bios", "", "uefi"], 1),
        ),
        5 => {
            if rng.chance(70) {
                doc.set("firmware", "efi");
            }
            doc.set("uefi.secureBoot.enabled", boolean(rng));
        }
        6 => doc.set(
            "config.version",
            rng.pick_v(&["8", "08", " 8", "7", "9", "", "x"], 3),
        ),
        7 => doc.set("virtualHW.version", &hw_version(rng)),
        _ => {
            doc.remove_prefix(rng.pick(&[
                "config.version",
                "virtualHW.version",
                "displayName",
                "uuid.bios",
                "guestOS",
            ]));
        }
    }
}

fn escaped_text(rng: &mut Rng) -> String {
    let parts = [
        "web",
        "|22",
        "|7c",
        "|7C",
        "%25",
        "%2f",
        "%5c",
        "%2F",
        "|00",
        "%00",
        "|0a",
        "|09",
        "|c3|a9",
        "%c3%a9",
        "|ff",
        "|e2|82",
        "|",
        "%",
        "|2",
        "%zz",
        "|g1",
        " ",
        "/",
        "\\",
        "'",
        "&",
        "<",
        ">",
        "caf\u{e9}",
        "\u{6a19}",
        "|3c",
        "%3e",
        "|01",
        "|7f",
        "|c2|80",
        "|5c",
        "|25",
        "%7c",
    ];
    (0..rng.range(1, 5)).map(|_| rng.pick(&parts)).collect()
}

fn escapes(rng: &mut Rng, doc: &mut Doc) {
    let key = rng.pick(&[
        "displayName",
        "annotation",
        "displayName",
        "annotation",
        "RemoteDisplay.vnc.password",
        "ethernet0.networkName",
    ]);
    if key.starts_with("RemoteDisplay") {
        doc.set("RemoteDisplay.vnc.enabled", "true");
    }
    let text = escaped_text(rng);
    doc.set(key, &text);
}

/// Raw bytes in the rendered file: NUL, invalid UTF-8, a BOM, control characters.
fn bytes(rng: &mut Rng, mut text: Vec<u8>) -> Vec<u8> {
    let choice = rng.below(6);
    let pos = if text.is_empty() {
        0
    } else {
        rng.below(text.len())
    };
    match choice {
        0 => text.insert(pos, 0),
        1 => {
            // A NUL inside the displayName value.
            let add = b"displayName = \"ab\0cd\"\n";
            let at = rng.below(2) * text.len();
            text.splice(at..at, add.iter().copied());
        }
        2 => {
            let b = rng.pick(&[0x80u8, 0x9f, 0xc3, 0xe9, 0xff, 0xfe]);
            let add = format!("annotation = \"x{}y\"\n", char::from(b'?'));
            let mut add = add.into_bytes();
            if let Some(q) = add.iter().position(|c| *c == b'?') {
                add[q] = b;
            }
            text.extend_from_slice(&add);
        }
        3 => {
            let mut t = b"\xEF\xBB\xBF".to_vec();
            t.extend_from_slice(&text);
            text = t;
        }
        4 => {
            let c = rng.pick(&[1u8, 7, 0x1b, 0x7f, b'\t', 0x0b, 0x0c]);
            text.extend_from_slice(format!("displayName = \"a{}b\"\n", char::from(c)).as_bytes());
        }
        _ => {
            let b = rng.pick(&[0x80u8, 0x81, 0x8d, 0x9d, 0xa0, 0xe9, 0xff]);
            text.insert(pos, b);
        }
    }
    text
}

/// Marks high bytes as `\u{10FFxx}` placeholders during generation; rendered as raw bytes.
const HIGH_MARK: u32 = 0x10_FF00;

fn high(b: u8) -> char {
    char::from_u32(HIGH_MARK + u32::from(b)).unwrap_or('?')
}

fn encoding(rng: &mut Rng, doc: &mut Doc) {
    let label = rng.pick(&[
        "windows-1252",
        "windows-1252",
        "Windows-1252",
        "WINDOWS-1252",
        "cp1252",
        "ISO-8859-1",
        "iso-8859-1",
        "latin1",
        "ISO-8859-15",
        "Shift_JIS",
        "GBK",
        "Big5",
        "EUC-KR",
        "EUC-JP",
        "UTF-8",
        "utf-8",
        "utf8",
        "UTF8",
        "US-ASCII",
        "ASCII",
        "bogus",
        "",
        "UTF-16LE",
        "UTF-16",
        "KOI8-R",
        "IBM866",
        "MACINTOSH",
    ]);
    doc.remove_prefix(".encoding");
    if rng.chance(90) {
        doc.lines.insert(0, format!(".encoding = \"{label}\""));
    }
    let mut text = String::from("n");
    for _ in 0..rng.range(1, 4) {
        let b = if rng.chance(50) {
            rng.range(0x80, 0x9f) as u8
        } else {
            rng.range(0xa0, 0xff) as u8
        };
        text.push(high(b));
        if rng.chance(30) {
            text.push('x');
        }
    }
    let key = rng.pick(&[
        "displayName",
        "annotation",
        "ethernet0.networkName",
        "guestOS",
    ]);
    if rng.chance(80) {
        doc.set(key, &text);
    }
}

fn encode_high_bytes(_rng: &mut Rng, text: Vec<u8>) -> Vec<u8> {
    let s = String::from_utf8_lossy(&text).into_owned();
    let mut out = Vec::new();
    for c in s.chars() {
        let u = c as u32;
        if (HIGH_MARK..HIGH_MARK + 0x100).contains(&u) {
            out.push((u - HIGH_MARK) as u8);
        } else {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    out
}

/// A device slot's keys: disks, CD-ROMs and their odd variants.
fn disk_slot(rng: &mut Rng, doc: &mut Doc, prefix: &str, bus: &str) {
    if rng.chance(92) {
        doc.set(&format!("{prefix}.present"), boolean(rng));
    }
    let kind = rng.below(10);
    let (device_type, name) = match kind {
        0..=3 => (
            match bus {
                "scsi" => rng.pick_v(
                    &["scsi-hardDisk", "disk", "", "SCSI-HARDDISK", "ata-hardDisk"],
                    4,
                ),
                "ide" => rng.pick_v(&["ata-hardDisk", "disk", "", "scsi-hardDisk"], 3),
                _ => rng.pick_v(&["disk", "", "sata-hardDisk"], 2),
            },
            file_name(rng, ".vmdk"),
        ),
        4 | 5 => (
            rng.pick_v(&["cdrom-image", "", "CDROM-IMAGE", "atapi-cdrom"], 3),
            file_name(rng, ".iso"),
        ),
        6 => (
            "atapi-cdrom",
            rng.pick(&["/dev/scd0", "auto detect", "AUTO DETECT", "", "/dev/cdrom"])
                .to_string(),
        ),
        7 => (
            "cdrom-raw",
            rng.pick(&[
                "/dev/scd0",
                "auto detect",
                "/vmfs/devices/cdrom/mpx.vmhba32:C0:T0:L0",
            ])
            .to_string(),
        ),
        8 => (
            "scsi-passthru",
            rng.pick(&[
                "/vmfs/devices/cdrom/mpx.vmhba32:C0:T0:L0",
                "/vmfs/devices/genscsi/x",
                "/dev/sg0",
            ])
            .to_string(),
        ),
        _ => (
            rng.pick(&["cdrom-image", ""]),
            rng.pick(&[
                "emptyBackingString",
                "",
                "x.img",
                "x.vmdk.bak",
                "disk.VMDK",
                "cd.ISO",
            ])
            .to_string(),
        ),
    };
    if !device_type.is_empty() || rng.chance(4) {
        doc.set(&format!("{prefix}.deviceType"), device_type);
    }
    if rng.chance(95) {
        doc.set(&format!("{prefix}.fileName"), &name);
    }
    if rng.chance(15) {
        doc.set(&format!("{prefix}.writeThrough"), boolean(rng));
    }
    if rng.chance(15) {
        doc.set(
            &format!("{prefix}.mode"),
            rng.pick(&[
                "independent-nonpersistent",
                "independent-persistent",
                "persistent",
                "INDEPENDENT-NONPERSISTENT",
            ]),
        );
    }
    if rng.chance(10) {
        doc.set(&format!("{prefix}.clientDevice"), boolean(rng));
    }
    if rng.chance(10) {
        doc.set(&format!("{prefix}.startConnected"), boolean(rng));
    }
    if rng.chance(5) {
        doc.set(
            &format!("{prefix}.fileType"),
            rng.pick_v(&["file", "device", "x"], 0),
        );
    }
}

fn scsi(rng: &mut Rng, doc: &mut Doc) {
    doc.remove_prefix("scsi");
    if rng.chance(70) {
        doc.set("virtualHW.version", &hw_version(rng));
    }
    let mut controllers = Vec::new();
    for c in 0..4u32 {
        if rng.chance(if c == 0 { 85 } else { 35 }) {
            controllers.push(c);
            doc.set(
                &format!("scsi{c}.present"),
                if rng.chance(90) { "true" } else { boolean(rng) },
            );
            if rng.chance(80) {
                doc.set(
                    &format!("scsi{c}.virtualDev"),
                    rng.pick_v(
                        &[
                            "pvscsi",
                            "lsilogic",
                            "buslogic",
                            "lsisas1068",
                            "PVSCSI",
                            "LsiLogic",
                            "",
                            "virtio-scsi",
                            "vmpvscsi",
                        ],
                        6,
                    ),
                );
            }
        }
    }
    if rng.chance(10) {
        controllers.push(rng.range(4, 5) as u32);
    }
    if controllers.is_empty() {
        controllers.push(0);
    }
    for _ in 0..rng.range(1, 6) {
        let c = rng.pick(&controllers);
        let unit = match rng.below(5) {
            0 | 1 => rng.range(0, 6),
            2 => rng.range(8, 15),
            3 => rng.pick(&[7, 15, 16, 17, 20, 30, 62, 63, 64, 65]),
            _ => rng.range(0, 64),
        };
        disk_slot(rng, doc, &format!("scsi{c}:{unit}"), "scsi");
    }
}

fn sata(rng: &mut Rng, doc: &mut Doc) {
    doc.remove_prefix("sata");
    let mut controllers = Vec::new();
    for c in 0..4u32 {
        if rng.chance(if c == 0 { 85 } else { 30 }) {
            controllers.push(c);
            doc.set(
                &format!("sata{c}.present"),
                if rng.chance(90) { "true" } else { boolean(rng) },
            );
        }
    }
    if controllers.is_empty() {
        controllers.push(0);
    }
    for _ in 0..rng.range(1, 5) {
        let c = rng.pick(&controllers);
        let unit = if rng.chance(85) {
            rng.range(0, 29)
        } else {
            rng.pick(&[30, 31, 64])
        };
        disk_slot(rng, doc, &format!("sata{c}:{unit}"), "sata");
    }
    if rng.chance(30) {
        scsi(rng, doc);
    }
}

fn ide(rng: &mut Rng, doc: &mut Doc) {
    doc.remove_prefix("ide");
    for _ in 0..rng.range(1, 4) {
        let bus = if rng.chance(90) { rng.range(0, 1) } else { 2 };
        let unit = if rng.chance(90) { rng.range(0, 1) } else { 2 };
        disk_slot(rng, doc, &format!("ide{bus}:{unit}"), "ide");
    }
}

fn floppy(rng: &mut Rng, doc: &mut Doc) {
    doc.remove_prefix("floppy");
    for _ in 0..rng.range(1, 2) {
        let unit = if rng.chance(90) { rng.range(0, 1) } else { 2 };
        let p = format!("floppy{unit}");
        if rng.chance(90) {
            doc.set(&format!("{p}.present"), boolean(rng));
        }
        if rng.chance(85) {
            doc.set(
                &format!("{p}.fileType"),
                rng.pick_v(&["device", "file", "FILE", "Device", "", "pipe"], 4),
            );
        }
        if rng.chance(85) {
            let name = if rng.chance(50) {
                rng.pick(&["/dev/fd0", "", "A:"]).to_string()
            } else {
                file_name(rng, ".flp")
            };
            doc.set(&format!("{p}.fileName"), &name);
        }
        if rng.chance(10) {
            doc.set(&format!("{p}.clientDevice"), boolean(rng));
        }
        if rng.chance(10) {
            doc.set(&format!("{p}.startConnected"), boolean(rng));
        }
    }
}

fn mac(rng: &mut Rng) -> String {
    let prefix = rng.pick(&["00:0c:29", "00:50:56", "00:50:56", "00:1c:14", "52:54:00"]);
    let rest = match prefix {
        "00:50:56" => format!(
            "{:02x}:{:02x}:{:02x}",
            rng.pick(&[0x00u8, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xff]),
            rng.below(256),
            rng.below(256)
        ),
        _ => format!(
            "{:02x}:{:02x}:{:02x}",
            rng.below(256),
            rng.below(256),
            rng.below(256)
        ),
    };
    let m = format!("{prefix}:{rest}");
    match if rng.wild {
        rng.below(12)
    } else {
        4 + rng.below(8)
    } {
        0 => m.to_ascii_uppercase(),
        1 => m.replace(':', "-"),
        2 => m[..m.len() - 3].to_string(),
        3 => rng
            .pick(&[
                "",
                "junk",
                "00:0c:29:zz:00:01",
                "0:c:29:1:2:3",
                "000c.2912.3456",
                "00:0c:29:12:34:56:78",
            ])
            .to_string(),
        _ => m,
    }
}

fn ethernet(rng: &mut Rng, doc: &mut Doc) {
    doc.remove_prefix("ethernet");
    if rng.wild && rng.chance(20) {
        doc.push(format!(
            "{} = \"true\"",
            rng.pick(&[
                "ethernet.present",
                "ethernetA.present",
                "ethernet-1.present",
                "ethernet-0.present",
                "ethernet2147483648.present",
                "ethernet 1.present",
                "ethernet+1.present"
            ])
        ));
    }
    for _ in 0..rng.range(1, 3) {
        let n = if rng.chance(80) {
            rng.range(0, 3).to_string()
        } else {
            rng.pick(&["4", "9", "10", "25", "007", "00", "2147483647"])
                .to_string()
        };
        let p = format!("ethernet{n}");
        if rng.chance(92) {
            doc.set(&format!("{p}.present"), boolean(rng));
        }
        if rng.chance(80) {
            doc.set(
                &format!("{p}.virtualDev"),
                rng.pick_v(
                    &[
                        "vmxnet3", "e1000", "e1000e", "vlance", "vmxnet", "VMXNET3", "vmxnet2",
                        "virtio", "",
                    ],
                    6,
                ),
            );
        }
        if rng.chance(30) {
            doc.set(
                &format!("{p}.features"),
                rng.pick_v(
                    &[
                        "15",
                        "0",
                        "1",
                        " 15",
                        "+15",
                        "4294967311",
                        "abc",
                        "15 ",
                        "0x0f",
                        "",
                    ],
                    6,
                ),
            );
        }
        let connection = rng.below(10);
        match connection {
            0..=3 => {}
            4 => doc.set(&format!("{p}.connectionType"), "bridged"),
            5 => doc.set(&format!("{p}.connectionType"), "nat"),
            6 => doc.set(&format!("{p}.connectionType"), "custom"),
            7 => doc.set(
                &format!("{p}.connectionType"),
                rng.pick_v(&["BRIDGED", "Nat", "hostonly", "bogus", ""], 2),
            ),
            _ => {
                doc.set(
                    &format!("{p}.dvs.switchId"),
                    rng.pick_v(
                        &[
                            "50 11 5e 16 9b dc 49 d7-f1 71 53 c4 d7 f9 17 10",
                            "50115e169bdc49d7f17153c4d7f91710",
                            "zz",
                            "",
                        ],
                        2,
                    ),
                );
                for (k, vals) in [
                    ("dvs.portId", &["6", "0", "-1", "", "x"][..]),
                    ("dvs.portgroupId", &["dvportgroup-25", "", "a'b"][..]),
                    ("dvs.connectionId", &["408217997", "0", "x"][..]),
                ] {
                    if rng.chance(60) {
                        let valid = if k == "dvs.portgroupId" {
                            3
                        } else {
                            vals.len() - 1 - usize::from(k == "dvs.portId")
                        };
                        doc.set(&format!("{p}.{k}"), rng.pick_v(vals, valid));
                    }
                }
            }
        }
        if rng.chance(75) {
            doc.set(
                &format!("{p}.networkName"),
                rng.pick(&["VM Network", "", "net'1", "a&b", "VLAN 12"]),
            );
        }
        if rng.chance(if connection == 6 { 70 } else { 10 }) {
            doc.set(
                &format!("{p}.vnet"),
                rng.pick(&["vmnet8", "", "/dev/vmnet1", "vnet0", "macvtap1", "vmnet0"]),
            );
        }
        if rng.chance(85) {
            doc.set(
                &format!("{p}.addressType"),
                rng.pick_v(
                    &[
                        "generated",
                        "static",
                        "vpx",
                        "GENERATED",
                        "Static",
                        "",
                        "bogus",
                    ],
                    5,
                ),
            );
        }
        if rng.chance(80) {
            doc.set(&format!("{p}.generatedAddress"), &mac(rng));
        }
        if rng.chance(50) {
            doc.set(&format!("{p}.address"), &mac(rng));
        }
        if rng.chance(30) {
            doc.set(
                &format!("{p}.checkMACAddress"),
                rng.pick(&["true", "false", "TRUE", "yes", ""]),
            );
        }
        if rng.chance(20) {
            doc.set(&format!("{p}.generatedAddressOffset"), &int(rng));
        }
        if rng.chance(10) {
            doc.set(&format!("{p}.startConnected"), boolean(rng));
        }
    }
}

fn serial(rng: &mut Rng, doc: &mut Doc) {
    doc.remove_prefix("serial");
    for _ in 0..rng.range(1, 3) {
        let port = if rng.chance(90) { rng.range(0, 3) } else { 4 };
        let p = format!("serial{port}");
        if rng.chance(92) {
            doc.set(&format!("{p}.present"), boolean(rng));
        }
        let ft = rng.pick_v(
            &[
                "device",
                "file",
                "pipe",
                "network",
                "network",
                "NETWORK",
                "Pipe",
                "absent",
                "",
                "thinprint",
            ],
            8,
        );
        if ft != "absent" {
            doc.set(&format!("{p}.fileType"), ft);
        }
        let name = match ft.to_ascii_lowercase().as_str() {
            "device" => rng.pick_v(&["/dev/ttyS0", "", "COM1"], 3).to_string(),
            "file" => file_name(rng, ".log"),
            "pipe" => rng
                .pick(&[
                    "serial0.pipe",
                    "/tmp/serial.pipe",
                    "\\\\.\\pipe\\com_1",
                    "",
                    "pipe",
                ])
                .to_string(),
            "network" => rng
                .pick(&[
                    "telnet://0.0.0.0:42001",
                    "tcp://192.168.0.1:8000",
                    "tcp4://h:1",
                    "tcp6://[::1]:23",
                    "ssl://h:443",
                    "tcp+ssl://h:2",
                    "tcp4+ssl://h:2",
                    "tcp6+ssl://h:2",
                    "telnets://h:992",
                    "TELNET://h:23",
                    "telnet://h",
                    "telnet://h:",
                    "telnet://:23",
                    "tcp://h:0",
                    "tcp://h:99999",
                    "tcp://h:abc",
                    "h:23",
                    "//h:23",
                    "http://h:80",
                    "vspc://h:1",
                    "telnet://user@h:23/path",
                    "",
                    "ZmVybmV0IGdB",
                    "telnet://h :23",
                ])
                .to_string(),
            _ => file_name(rng, ""),
        };
        if rng.chance(90) {
            doc.set(&format!("{p}.fileName"), &name);
        }
        if rng.chance(40) {
            doc.set(
                &format!("{p}.network.endPoint"),
                rng.pick_v(&["server", "client", "CLIENT", "Server", "", "both"], 4),
            );
        }
        if rng.chance(30) {
            doc.set(
                &format!("{p}.pipe.endPoint"),
                rng.pick(&["server", "client", "x"]),
            );
        }
        if rng.chance(20) {
            doc.set(&format!("{p}.yieldOnMsrRead"), boolean(rng));
        }
        if rng.chance(10) {
            doc.set(&format!("{p}.startConnected"), boolean(rng));
        }
    }
}

fn parallel(rng: &mut Rng, doc: &mut Doc) {
    doc.remove_prefix("parallel");
    for _ in 0..rng.range(1, 2) {
        let port = if rng.chance(90) { rng.range(0, 2) } else { 3 };
        let p = format!("parallel{port}");
        if rng.chance(92) {
            doc.set(&format!("{p}.present"), boolean(rng));
        }
        let ft = rng.pick_v(&["device", "file", "FILE", "", "pipe", "absent"], 3);
        if ft != "absent" {
            doc.set(&format!("{p}.fileType"), ft);
        }
        if !rng.wild || rng.chance(80) {
            let name = if ft.eq_ignore_ascii_case("file") {
                file_name(rng, ".out")
            } else {
                rng.pick(&["/dev/parport0", "", "LPT1"]).to_string()
            };
            doc.set(&format!("{p}.fileName"), &name);
        }
        if rng.chance(20) {
            doc.set(&format!("{p}.bidirectional"), boolean(rng));
        }
        if rng.chance(10) {
            doc.set(&format!("{p}.startConnected"), boolean(rng));
        }
    }
}

fn vnc(rng: &mut Rng, doc: &mut Doc) {
    doc.remove_prefix("RemoteDisplay.vnc");
    doc.set("RemoteDisplay.vnc.enabled", boolean(rng));
    if rng.chance(75) {
        let v = if rng.chance(50) {
            rng.pick(&[
                "5900", "5901", "5964", "5965", "5899", "0", "-1", "65535", "65536", "70000",
            ])
            .to_string()
        } else {
            int(rng)
        };
        doc.set("RemoteDisplay.vnc.port", &v);
    }
    if rng.chance(50) {
        doc.set(
            "RemoteDisplay.vnc.ip",
            rng.pick(&["0.0.0.0", "127.0.0.1", "::1", "", "host.example"]),
        );
    }
    if rng.chance(40) {
        doc.set(
            "RemoteDisplay.vnc.keymap",
            rng.pick(&["de", "en-us", "", "fr'"]),
        );
    }
    if rng.chance(60) {
        doc.set(
            "RemoteDisplay.vnc.password",
            rng.pick(&["secret", "", "p&ss<'>\"", "123456789"]),
        );
    }
}

fn video(rng: &mut Rng, doc: &mut Doc) {
    doc.remove_prefix("svga");
    if rng.chance(90) {
        let v = match rng.below(4) {
            0 => (rng.range(1, 65536) * 1024).to_string(),
            1 => rng.range(0, 1 << 30).to_string(),
            2 => rng
                .pick(&[
                    "4194304",
                    "8388608",
                    "16777216",
                    "3145728",
                    "5242880",
                    "12582912",
                    "1024",
                    "1025",
                    "1",
                    "1023",
                    "268435456",
                    "4294967296",
                    "8796093022208",
                    "9223372036854775807",
                ])
                .to_string(),
            _ => int(rng),
        };
        doc.set("svga.vramSize", &v);
    }
    if rng.chance(30) {
        doc.set("svga.autodetect", boolean(rng));
    }
    if rng.chance(20) {
        doc.set("svga.numDisplays", &int(rng));
    }
}

fn sharedfolder(rng: &mut Rng, doc: &mut Doc) {
    doc.remove_prefix("sharedFolder");
    doc.remove_prefix("isolation.tools.hgfs");
    if rng.chance(90) {
        doc.set("isolation.tools.hgfs.disable", boolean(rng));
    }
    if rng.chance(85) {
        let v = if rng.chance(70) {
            rng.range(0, 4).to_string()
        } else {
            int(rng)
        };
        doc.set("sharedFolder.maxNum", &v);
    }
    for _ in 0..rng.range(1, 3) {
        let n = if rng.chance(85) {
            rng.range(0, 3).to_string()
        } else {
            rng.pick(&["00", "007", "10"]).to_string()
        };
        let p = format!("sharedFolder{n}");
        for (k, p_set) in [
            ("present", 90),
            ("enabled", 85),
            ("readAccess", 50),
            ("writeAccess", 60),
        ] {
            if rng.chance(p_set) {
                doc.set(&format!("{p}.{k}"), boolean(rng));
            }
        }
        if rng.chance(85) {
            doc.set(
                &format!("{p}.hostPath"),
                rng.pick(&["/path/to/share", "C:\\share", "", "/a b/c'd"]),
            );
        }
        if rng.chance(85) {
            doc.set(
                &format!("{p}.guestName"),
                rng.pick(&["share", "", "a/b", "n&m"]),
            );
        }
        if rng.chance(20) {
            doc.set(&format!("{p}.expiration"), rng.pick(&["never", "session"]));
        }
    }
}
