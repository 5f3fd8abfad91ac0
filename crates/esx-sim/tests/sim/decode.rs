//! The request decoder over the fuzz seeds (each must decode to its operation) and over bodies
//! that are not requests (each must be refused with the right error).

use std::path::Path;

use esx_sim::server::{decode_request, Decoded, RequestError};

#[test]
fn fuzz_seeds_decode() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/sim/fuzz-seeds");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let body = std::fs::read(&path).unwrap();
        let name = match decode_request(&body) {
            Ok(Decoded::Call(q)) => q.method().to_owned(),
            Ok(Decoded::Fetch(_)) => "Fetch".to_owned(),
            Err(e) => panic!("{}: {e}", path.display()),
        };
        let stem = path.file_stem().unwrap().to_string_lossy().replace('_', "");
        assert!(
            name.to_ascii_lowercase()
                .replace('_', "")
                .starts_with(&stem),
            "{} decoded as {name}",
            path.display()
        );
        n += 1;
    }
    assert!(n >= 8, "only {n} seeds");
}

#[test]
fn refuses_what_is_not_a_request() {
    let env = |inner: &str| {
        format!(
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>{inner}</soapenv:Body></soapenv:Envelope>"
        )
    };
    assert!(matches!(
        decode_request(b"<not-soap"),
        Err(RequestError::Malformed(_))
    ));
    assert!(matches!(
        decode_request(env("<soapenv:Fault><faultcode>x</faultcode><faultstring>y</faultstring></soapenv:Fault>").as_bytes()),
        Err(RequestError::Fault)
    ));
    assert_eq!(
        decode_request(env("<NoSuchMethod xmlns=\"urn:vim25\"/>").as_bytes()).unwrap_err(),
        RequestError::UnknownMethod("NoSuchMethod".into())
    );
    match decode_request(
        env("<PowerOnVM_Task xmlns=\"urn:vim25\"><_this>no type</_this><host><x/></host></PowerOnVM_Task>")
            .as_bytes(),
    ) {
        Err(RequestError::Invalid { method, .. }) => assert_eq!(method, "PowerOnVM_Task"),
        other => panic!("{other:?}"),
    }
    match decode_request(env("<Fetch xmlns=\"urn:vim25\"><prop>name</prop></Fetch>").as_bytes()) {
        Err(RequestError::Invalid { method, .. }) => assert_eq!(method, "Fetch"),
        other => panic!("{other:?}"),
    }
}
