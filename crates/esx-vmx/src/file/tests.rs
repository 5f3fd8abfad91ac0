use super::*;
use proptest::prelude::*;

const SAMPLE: &str = "#!/usr/bin/vmware\n\
.encoding = \"UTF-8\"\n\
\n\
# hardware\n\
config.version = \"8\"\n\
MemSize = '512'   # MiB\n\
memsize = \"1024\"\n\
scsi0:0.fileName = \"\"\"disk.vmdk\"\"\"\n\
displayName = \"a |22b|22\"\n";

#[test]
fn unmodified_text_and_bytes_are_identical() {
    let vmx = VmxFile::parse_str(SAMPLE).unwrap();
    assert_eq!(vmx.to_string(), SAMPLE);
    assert_eq!(vmx.to_bytes(), SAMPLE.as_bytes());
    let vmx = VmxFile::parse(SAMPLE.as_bytes()).unwrap();
    assert_eq!(vmx.to_bytes(), SAMPLE.as_bytes());
}

#[test]
fn lookup_is_case_insensitive_and_first_wins() {
    let vmx = VmxFile::parse_str(SAMPLE).unwrap();
    assert_eq!(vmx.get("memsize"), Some("512"));
    assert_eq!(vmx.get("MEMSIZE"), Some("512"));
    assert_eq!(vmx.line_of("memsize"), Some(6));
    assert_eq!(vmx.get("scsi0:0.filename"), Some("disk.vmdk"));
    assert_eq!(vmx.get("nothing"), None);
    assert_eq!(vmx.len(), 6);
    let keys: Vec<&str> = vmx.keys().collect();
    assert_eq!(
        keys,
        [
            ".encoding",
            "config.version",
            "MemSize",
            "memsize",
            "scsi0:0.fileName",
            "displayName"
        ]
    );
}

#[test]
fn set_changes_only_its_line() {
    let mut vmx = VmxFile::parse_str(SAMPLE).unwrap();
    vmx.set("MEMSIZE", "2048");
    assert_eq!(
        vmx.to_string(),
        SAMPLE.replace("MemSize = '512'", "MemSize = '2048'")
    );
    vmx.set("memsize", "it's");
    assert_eq!(
        vmx.to_string(),
        SAMPLE.replace("MemSize = '512'", "MemSize = \"it's\"")
    );
    vmx.set("guestOS", "other");
    assert!(vmx
        .to_string()
        .ends_with("displayName = \"a |22b|22\"\nguestOS = \"other\"\n"));
}

#[test]
fn set_appends_with_the_files_line_ending() {
    let mut vmx = VmxFile::parse_str("a = \"1\"\r\nb = \"2\"").unwrap();
    vmx.set("c", "3");
    assert_eq!(vmx.to_string(), "a = \"1\"\r\nb = \"2\"\r\nc = \"3\"\r\n");
    let mut empty = VmxFile::new();
    empty.set("a", "1");
    empty.append_comment("note");
    empty.append("a", "dup").unwrap();
    assert_eq!(empty.to_string(), "a = \"1\"\n# note\na = \"dup\"\n");
    assert_eq!(empty.get("a"), Some("1"));
}

#[test]
fn unrepresentable_values() {
    let mut vmx = VmxFile::new();
    assert_eq!(
        vmx.try_set("bad key", "x"),
        Err(VmxError::InvalidKey {
            key: "bad key".into()
        })
    );
    let nasty = "say \"hi\" it's\"";
    assert!(matches!(
        vmx.try_set("a", nasty),
        Err(VmxError::UnrepresentableValue { .. })
    ));
    vmx.set("a", nasty);
    assert_eq!(unescape_pipe(vmx.get("a").unwrap()).unwrap(), nasty);
    vmx.set("b", "line1\nline2");
    assert_eq!(vmx.get("b"), Some("line1\nline2"));
    let reread = VmxFile::parse_str(&vmx.to_string()).unwrap();
    assert_eq!(reread.get("b"), Some("line1\nline2"));
    assert_eq!(reread.line_of("b"), Some(2));
    vmx.set("not valid", "ignored");
    assert_eq!(vmx.len(), 2);
}

#[test]
fn remove_drops_all_matches() {
    let mut vmx = VmxFile::parse_str(SAMPLE).unwrap();
    assert!(vmx.remove("memSIZE"));
    assert!(!vmx.remove("memsize"));
    assert_eq!(
        vmx.to_string(),
        SAMPLE
            .replace("MemSize = '512'   # MiB\n", "")
            .replace("memsize = \"1024\"\n", "")
    );
    let mut joined = VmxFile::parse_str("a = \"1\"; b = \"2\"; a = \"3\"\nc = \"4\"\n").unwrap();
    assert!(joined.remove("a"));
    assert_eq!(joined.to_string(), "b = \"2\"; \nc = \"4\"\n");
    assert_eq!(joined.get("b"), Some("2"));
}

#[test]
fn typed_getters_use_libvirts_messages() {
    let vmx = VmxFile::parse_str(
        "a = \"TRUE\"\nb = \"yes\"\nc = \"-42\"\nd = \"Unlimited\"\ne = \"4x\"\n",
    )
    .unwrap();
    assert_eq!(vmx.get_bool("a"), Ok(Some(true)));
    assert_eq!(vmx.get_bool("zz"), Ok(None));
    let err = vmx.get_bool("b").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Config entry 'b' must represent a boolean value (true|false)"
    );
    assert!(matches!(err, VmxError::NotBoolean { line: 2, .. }));
    assert_eq!(vmx.get_int("c"), Ok(Some(-42)));
    assert_eq!(vmx.get_int("d"), Ok(Some(-1)));
    assert_eq!(
        vmx.get_int("e").unwrap_err().to_string(),
        "Config entry 'e' must represent an integer value"
    );
    assert_eq!(
        vmx.require("missing").unwrap_err().to_string(),
        "Missing essential config entry 'missing'"
    );
    assert_eq!(vmx.require_int("c"), Ok(-42));
    assert_eq!(vmx.require_bool("a"), Ok(true));
    assert_eq!(parse_c_integer(" +7"), Some(7));
    assert_eq!(parse_c_integer("7 "), None);
    assert_eq!(parse_c_integer(""), None);
    assert_eq!(parse_c_integer("-"), None);
    assert_eq!(parse_c_integer("9223372036854775808"), None);
    assert_eq!(parse_c_integer("-9223372036854775808"), Some(i64::MIN));
}

#[test]
fn syntax_errors_name_line_and_key() {
    let err = VmxFile::parse_str("# c\na = \"1\"\nmemsize = 512\n").unwrap_err();
    assert_eq!(
        err,
        VmxError::Syntax {
            line: 3,
            key: Some("memsize".into()),
            kind: SyntaxErrorKind::NumbersNotAllowed
        }
    );
    assert_eq!(
        err.to_string(),
        "VMX syntax error at line 3, entry 'memsize': numbers not allowed in VMX format"
    );
    let err = VmxFile::parse_str("a = \"1\"\n\n9x = \"2\"\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "VMX syntax error at line 3: expecting a name"
    );
    let err = VmxFile::parse_str("a = \"1\"\nb = \"open\nc = \"2\"\n").unwrap_err();
    assert!(matches!(
        err,
        VmxError::Syntax {
            line: 2,
            kind: SyntaxErrorKind::UnterminatedString,
            ..
        }
    ));
}

#[test]
fn windows_1252_is_decoded_and_written_back() {
    let bytes = b".encoding = \"windows-1252\"\ndisplayName = \"caf\xe9 \x80\"\n";
    let mut vmx = VmxFile::parse(bytes).unwrap();
    assert_eq!(vmx.get("displayName"), Some("caf\u{e9} \u{20ac}"));
    assert_eq!(vmx.encoding_name(), "windows-1252");
    assert!(!vmx.is_lossy());
    assert_eq!(vmx.to_bytes(), bytes);
    vmx.set("annotation", "\u{fc}ber");
    let mut expected = bytes.to_vec();
    expected.extend_from_slice(b"annotation = \"\xfcber\"\n");
    assert_eq!(vmx.to_bytes(), expected);
    // A character windows-1252 lacks: the file is written as UTF-8 and says so.
    vmx.set("annotation", "\u{6a19}");
    let out = String::from_utf8(vmx.to_bytes()).unwrap();
    assert_eq!(
        out,
        ".encoding = \"UTF-8\"\ndisplayName = \"caf\u{e9} \u{20ac}\"\nannotation = \"\u{6a19}\"\n"
    );
}

#[test]
fn changing_the_encoding_reencodes_every_line() {
    let mut vmx = VmxFile::parse_str(".encoding = \"UTF-8\"\nname = \"\u{e9}\"\n").unwrap();
    vmx.set(".encoding", "windows-1252");
    assert_eq!(
        vmx.to_bytes(),
        b".encoding = \"windows-1252\"\nname = \"\xe9\"\n"
    );
}

#[test]
fn encoding_problems_are_errors() {
    assert_eq!(
        VmxFile::parse(b"a = \"1\"\n.encoding = \"klingon\"\n"),
        Err(VmxError::UnknownEncoding {
            line: 2,
            label: "klingon".into()
        })
    );
    assert!(matches!(
        VmxFile::parse(b".encoding = \"UTF-16\"\n"),
        Err(VmxError::UnsupportedEncoding { line: 1, .. })
    ));
}

#[test]
fn invalid_utf8_is_kept_byte_for_byte() {
    let bytes = b"a = \"\xff\xfe\"\nb = \"2\"\n";
    let mut vmx = VmxFile::parse(bytes).unwrap();
    assert!(vmx.is_lossy());
    assert_eq!(vmx.get("a"), Some("\u{fffd}\u{fffd}"));
    vmx.set("b", "3");
    assert_eq!(vmx.to_bytes(), b"a = \"\xff\xfe\"\nb = \"3\"\n");
}

#[test]
fn bom_is_kept() {
    let bytes = b"\xEF\xBB\xBFa = \"1\"\n";
    let vmx = VmxFile::parse(bytes).unwrap();
    assert_eq!(vmx.get("a"), Some("1"));
    assert_eq!(vmx.to_bytes(), bytes);
    assert_eq!(vmx.to_string(), "a = \"1\"\n");
    let odd = b"\xEF\xBB\xBF.encoding = \"windows-1252\"\na = \"\xe9\"\n";
    let vmx = VmxFile::parse(odd).unwrap();
    assert_eq!(vmx.get("a"), Some("\u{e9}"));
    assert_eq!(vmx.to_bytes(), odd);
}

fn key_strategy() -> impl Strategy<Value = String> {
    "[A-Za-z.][A-Za-z0-9_:.*-]{0,12}"
}

fn value_strategy() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,16}", any::<String>(), "[\"'\n a]{0,6}",]
}

fn line_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            key_strategy(),
            "[ \t]{0,2}",
            "[ \t]{0,2}",
            "[^\"\n\r]{0,10}",
            "( # [^\n\r]{0,5})?"
        )
            .prop_map(|(k, a, b, v, c)| format!("{k}{a}={b}\"{v}\"{c}")),
        (key_strategy(), "[^'\n\r]{0,10}").prop_map(|(k, v)| format!("{k} = '{v}'")),
        (key_strategy(), "[a\n\"]{0,2}b").prop_map(|(k, v)| format!("{k} = \"\"\"{v}\"\"\"")),
        "#[^\n\r]{0,12}",
        "[ \t]{0,3}",
    ]
}

fn file_strategy() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(line_strategy(), 0..12),
        prop_oneof!["\n", "\r\n"],
        any::<bool>(),
    )
        .prop_map(|(lines, eol, final_eol)| {
            let mut text = lines.join(&eol);
            if final_eol && !text.is_empty() {
                text.push_str(&eol);
            }
            text
        })
}

proptest! {
    #[test]
    fn generated_files_round_trip(text in file_strategy()) {
        let vmx = VmxFile::parse_str(&text).unwrap();
        prop_assert_eq!(vmx.to_string(), text.clone());
        prop_assert_eq!(vmx.to_bytes(), text.as_bytes().to_vec());
    }

    #[test]
    fn set_then_get(text in file_strategy(), key in key_strategy(), value in value_strategy()) {
        let mut vmx = VmxFile::parse_str(&text).unwrap();
        let before: Vec<(String, String)> =
            vmx.entries().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        if vmx.try_set(&key, &value).is_ok() {
            prop_assert_eq!(vmx.get(&key), Some(value.as_str()));
            let reread = VmxFile::parse_str(&vmx.to_string()).unwrap();
            prop_assert_eq!(reread.get(&key), Some(value.as_str()));
            // Every other entry is untouched.
            let first = before.iter().position(|(k, _)| k.eq_ignore_ascii_case(&key));
            let after: Vec<(String, String)> =
                reread.entries().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
            for (i, entry) in before.iter().enumerate() {
                if Some(i) != first {
                    prop_assert_eq!(after.get(i), Some(entry));
                }
            }
        } else {
            vmx.set(&key, &value);
            prop_assert_eq!(unescape_pipe(vmx.get(&key).unwrap_or_default()).unwrap(), value);
        }
    }

    #[test]
    fn remove_then_reparse(text in file_strategy(), key in key_strategy()) {
        let mut vmx = VmxFile::parse_str(&text).unwrap();
        let had = vmx.contains_key(&key);
        prop_assert_eq!(vmx.remove(&key), had);
        prop_assert!(!vmx.contains_key(&key));
        let reread = VmxFile::parse_str(&vmx.to_string()).unwrap();
        prop_assert_eq!(reread.to_string(), vmx.to_string());
        prop_assert!(!reread.contains_key(&key));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(mut vmx) = VmxFile::parse(&bytes) {
            prop_assert_eq!(vmx.to_bytes(), bytes);
            vmx.set("x", "y");
            let _ = vmx.to_bytes();
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[a-z.=\"' #;\n\r\t0-9\\[-]{0,80}") {
        if let Ok(vmx) = VmxFile::parse_str(&text) {
            prop_assert_eq!(vmx.to_string(), text);
            for (key, _) in vmx.entries() {
                prop_assert!(vmx.line_of(key).is_some());
            }
        }
    }
}
